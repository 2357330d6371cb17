"""Building a frame cache from a pose store, without ever losing or damaging one.

For every sample of a pose store, :func:`build_cache` decodes its video with
the decimation and downscaling the store's provenance records (so cached
frame ``t`` is the store's frame ``t``), cuts the signer box of
:func:`slr_pose.rgb.crop.signer_box` out of each frame, resizes it and keeps
it as a JPEG file in the cache (layout in :mod:`slr_pose.rgb.cache`).

Crash safety follows the pose store's rules (:class:`~slr_pose.rgb.cache_writer.CacheWriter`):
every finished sample is durable at once in ``CACHE.h5.journal/``, the
``.h5`` is only ever replaced whole (``os.replace``), so a process killed at
any moment (SIGKILL included) leaves the previous complete cache or the new
one, and the next build folds the journal in and skips every sample already
cached from the same video (same id, same SHA-256).

A sample whose video is missing, unreadable, changed since its landmarks were
extracted, or decodes to other frames than the store holds is one row of
``CACHE.h5.failures.csv`` (``id,path,reason``) and the build goes on.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.inputs import content_sha256
from slr_pose.keypoints.store import PoseStore, Sample
from slr_pose.keypoints.store.schema import error_reason
from slr_pose.keypoints.video import VideoFrames
from slr_pose.outputs import write_text
from slr_pose.rgb.cache import encode_jpeg, failure_report_path
from slr_pose.rgb.cache_writer import CachedSample, CacheWriter
from slr_pose.rgb.crop import DEFAULT_MARGIN, Box, crop_frames, signer_box

#: Fold the journal into the cache once it holds this many frames (or as many
#: as the cache, whichever is more; a commit copies the cache, so doubling
#: keeps the copying under twice the final size): ~50 MB of 224 px JPEGs.
COMMIT_MIN_FRAMES = 5000
#: Stored frame times and decoded ones may differ by float32 rounding.
TIME_TOLERANCE = 1e-3


@dataclass(frozen=True)
class CropSettings:
    """How crops are made; recorded in the cache's provenance and checked on every later build.

    Args:
        side: output side of each square crop in pixels (224 as in Logos; 112
            or 160 for CPU work).
        margin: signer-box margin, a fraction of the landmarks' extent per side.
        jpeg_quality: OpenCV JPEG quality, 1..100 (see benchmarks/results/rgb_cache.md).
    """

    side: int = 224
    margin: float = DEFAULT_MARGIN
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        if not isinstance(self.side, int) or not 16 <= self.side <= 1024:
            raise SlrPoseError(f"crop side {self.side!r} is not a whole number of pixels in 16..1024")
        if not 0 <= self.margin <= 2:
            raise SlrPoseError(f"crop margin {self.margin!r} is not in 0..2")
        if not isinstance(self.jpeg_quality, int) or not 1 <= self.jpeg_quality <= 100:
            raise SlrPoseError(f"JPEG quality {self.jpeg_quality!r} is not a whole number in 1..100")


@dataclass
class CacheSummary:
    """What a build did; ``failures`` holds ``(id, path, reason)`` rows."""

    done: int = 0
    skipped: int = 0
    frames: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    report: Path | None = None

    def lines(self) -> list[str]:
        out = [f"failed {sid}: {reason}" for sid, _, reason in self.failures]
        out.append(f"cached {self.done} ({self.frames} frames), skipped {self.skipped} (already cached), "
                   f"failed {len(self.failures)}")
        if self.failures and self.report is not None:
            out.append(f"failures listed in {self.report}")
        return out


def decode_settings(store: PoseStore) -> dict[str, Any]:
    """The ``fps`` and ``max_side`` the store's frames were decoded with (None where not recorded)."""
    settings = (store.provenance.get("extractor") or {}).get("settings") or {}
    return {"fps": settings.get("fps"), "max_side": settings.get("max_side")}


def resolve_source(source: str, root: str | os.PathLike | None = None) -> Path:
    """The video of a stored ``source`` path: absolute as is, relative under ``root`` (default: the working folder)."""
    p = Path(source)
    return p if p.is_absolute() or root is None else Path(root) / p


def cache_sample(sample: Sample, store: PoseStore, video: Path, settings: CropSettings) -> CachedSample:
    """Decode, crop and JPEG-encode one sample's frames.

    Raises:
        SlrPoseError: the video is missing, unreadable, not the one the
            landmarks were made from, or decodes to other frames than stored.
    """
    info = sample.info
    if not info.source:
        raise SlrPoseError("the store records no video for this sample")
    if not video.exists():
        raise SlrPoseError(f"video {video} not found")
    sha = content_sha256(video)  # a file, or a folder of frames, hashed as extraction hashed it
    if info.sha256 and sha != info.sha256:
        raise SlrPoseError(f"{video} changed since its landmarks were extracted (sha256 {sha[:12]}..., "
                           f"the store has {info.sha256[:12]}...)")
    crops, box, size = crop_video(sample, video, settings, decode_settings(store))
    parts = [encode_jpeg(c, settings.jpeg_quality) for c in crops]
    sizes = np.array([len(p) for p in parts], np.int64)
    return CachedSample(info.id, str(video), sha, box, size[0], size[1], np.concatenate(parts), sizes)


def crop_video(sample: Sample, video: Path, settings: CropSettings, decode: dict[str, Any]) -> tuple[np.ndarray, Box, tuple[int, int]]:
    """``(T, side, side, 3)`` uint8 signer crops of the frames ``sample``'s landmarks were made from, the box and the frame size.

    ``decode`` holds the ``fps`` and ``max_side`` the landmarks were decoded
    with (:func:`decode_settings`), so crop ``t`` is stored frame ``t``.

    Raises:
        SlrPoseError: the video decodes to other frames than the sample holds.
    """
    info = sample.info
    source_fps = _meta(info).get("source_fps")
    frames = VideoFrames(video, fps=decode["fps"], max_side=decode["max_side"], prefetch=True,
                         source_fps=source_fps if video.is_dir() else None)
    box, crops, times, size = None, [], [], None
    decoded = iter(frames)
    try:
        for frame in decoded:
            if len(crops) >= info.length:
                raise SlrPoseError(f"{video} decodes to more frames than the {info.length} the store holds")
            h, w = frame.image.shape[:2]
            if box is None:
                size = (w, h)
                box = signer_box(sample, sample.layout_or(), settings.margin, size=size)
            crops.append(crop_frames(frame.image[None], box, settings.side)[0])
            times.append(frame.time)
    finally:
        decoded.close()
        frames.close()
    if len(crops) != info.length:
        raise SlrPoseError(f"{video} decodes to {len(crops)} frames, the store holds {info.length}")
    stored = sample.time.astype(np.float64)
    known = np.isfinite(stored)
    if known.any() and np.abs(np.asarray(times)[known] - stored[known]).max() > TIME_TOLERANCE * (1 + stored[known].max()):
        raise SlrPoseError(f"{video} decodes to frames at other times than the store's (decoded with other settings?)")
    return np.stack(crops), box, size


def build_cache(
    store: str | os.PathLike,
    cache: str | os.PathLike,
    settings: CropSettings = CropSettings(),
    *,
    root: str | os.PathLike | None = None,
    ids: Iterable[str] | None = None,
    commit_min_frames: int = COMMIT_MIN_FRAMES,
) -> CacheSummary:
    """Cache the crops of every sample of ``store`` (or of ``ids``) in ``cache`` (created if needed).

    Args:
        store: a pose store whose ``source`` column names the videos.
        cache: the cache's ``.h5`` path; an existing cache must have been made
            with equal settings from a store extracted the same way.
        settings: crop side, margin, JPEG quality.
        root: folder that relative ``source`` paths are under (default: the working folder).
        ids: only these samples (an unknown id is a failure row).
        commit_min_frames: see :data:`COMMIT_MIN_FRAMES`.

    Returns:
        What was done; failures are also written to :func:`failure_report_path`
        (an earlier report is removed when this build has none).

    Raises:
        SlrPoseError: the store cannot be read, the cache is another kind of
            file, was made otherwise, or cannot be written.
    """
    poses = PoseStore(store)
    provenance = cache_provenance(poses, settings)
    summary = CacheSummary(report=failure_report_path(cache))
    wanted = poses.ids if ids is None else list(ids)
    with CacheWriter(cache, provenance) as writer:
        cached_frames = writer.stored_frames
        journaled = 0
        for sid in wanted:
            if sid not in poses:
                summary.failures.append((sid, "", f"no sample {sid!r} in {poses.path}"))
                continue
            i = poses.index_of(sid)
            info = poses.info(i)
            video = resolve_source(info.source, root)
            known = writer.sha256_of(sid)
            if known is not None:
                if known == info.sha256 or not info.sha256:
                    summary.skipped += 1
                else:
                    summary.failures.append((sid, str(video), f"cached from another video (sha256 {known[:12]}...) "
                                                              "than the store's: write to a new cache"))
                continue
            try:
                entry = cache_sample(poses.read(i), poses, video, settings)
            except SlrPoseError as e:
                summary.failures.append((sid, str(video), str(e)))
                continue
            except Exception as e:  # noqa: BLE001 - one odd video must not end a long build; the reason is reported
                summary.failures.append((sid, str(video), f"caching failed ({type(e).__name__}: {error_reason(e)})"))
                continue
            writer.add(entry)
            summary.done += 1
            summary.frames += entry.length
            journaled += entry.length
            if journaled >= max(commit_min_frames, cached_frames):
                writer.commit()
                cached_frames, journaled = cached_frames + journaled, 0
    _write_report(summary)
    return summary


def cache_provenance(store: PoseStore, settings: CropSettings) -> dict[str, Any]:
    """What makes two caches comparable: crop settings, decoding, the landmarks' extractor, the decoder."""
    import cv2

    return {
        "crop": {**asdict(settings), **decode_settings(store), "box": "signer_box: head, shoulders, hands; whole clip"},
        "decoder": f"opencv {cv2.__version__}",
        "extractor": store.provenance.get("extractor"),
        "pose_store": str(store.path),
    }


def _write_report(summary: CacheSummary) -> None:
    if not summary.failures:
        summary.report.unlink(missing_ok=True)  # the report describes the last build only
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "path", "reason"])
    w.writerows(summary.failures)
    write_text(summary.report, buf.getvalue())


def _meta(info) -> dict:
    try:
        meta = json.loads(info.meta) if info.meta else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
