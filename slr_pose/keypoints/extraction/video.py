"""One video -> one :class:`~slr_pose.keypoints.store.Sample`: decoding, MediaPipe, the layout, sign frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.backends import (
    Backend,
    BackendSpec,
    FrameLandmarks,
    create_spec,
    mediapipe_version,
    native_logs_silenced,
)
from slr_pose.keypoints.inputs import VideoInput, content_sha256, meta_json
from slr_pose.keypoints.layout import FACE_DETAIL, Layout, face_mesh_indices, holistic_layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo
from slr_pose.keypoints.video import VIDEO_EXTENSIONS, VideoError, VideoFrames

#: Decode the next frames in a thread while MediaPipe works on this one
#: (see benchmarks/extraction.py for what it saves).
PREFETCH = True


#: Groups whose presence in some frame means "a person is in the video".
BODY_GROUPS = ("pose", "left_hand", "right_hand")


@dataclass(frozen=True)
class ExtractOptions:
    """How landmarks are made; everything here is recorded in the store's provenance.

    Args:
        backend: a backend spec (:func:`slr_pose.keypoints.backends.create_spec`).
        face: face detail stored, ``none``, ``contour`` or ``full``.
        fps: decimate to about this many frames per second (None: every frame).
        max_side: downscale frames so the longer side is at most this (None: as decoded).
    """

    backend: BackendSpec
    face: str = "contour"
    fps: float | None = None
    max_side: int | None = None

    @property
    def layout(self) -> Layout:
        return holistic_layout(self.face)

    @classmethod
    def like(cls, extractors: Iterable[dict], landmarks: Iterable[str]) -> "ExtractOptions":
        """Holistic as a model's training videos were extracted, so new videos give the same landmarks.

        Args:
            extractors: the training stores' extractor provenance (a run's or an exported graph's).
            landmarks: the landmark names the model reads.

        Imported landmarks and Tasks stores (whose ``.task`` files are not
        known here) give Holistic with the least face detail that still holds
        every landmark in ``landmarks``.
        """
        names = set(landmarks)
        least_face = next((f for f in FACE_DETAIL if names <= set(holistic_layout(f).names)), "full")
        source = next((e for e in extractors if e.get("backend") == "holistic"), None)
        if source is None:
            return cls(create_spec("holistic"), face=least_face)
        s = source.get("settings", {})
        spec = create_spec("holistic", model_complexity=s.get("model_complexity", 1),
                           refine_face=s.get("refine_face_landmarks", s.get("refine_face", False)))
        return cls(spec, face=s.get("face", least_face), fps=s.get("fps"), max_side=s.get("max_side"))

    def provenance(self) -> dict[str, Any]:
        """The store's provenance block (validates the backend's models)."""
        settings = {**self.backend.settings(), "face": self.face, "fps": self.fps, "max_side": self.max_side}
        return {"extractor": {"backend": self.backend.name, "version": mediapipe_version(), "settings": settings}}


class LandmarkFiller:
    """Writes :class:`FrameLandmarks` into layout-ordered rows."""

    def __init__(self, layout: Layout, groups: Iterable[str]) -> None:
        self.layout = layout
        self.slices = layout.group_slices
        self.extracted = set(groups)
        face = self.slices.get("face")
        self.face_idx = np.array(face_mesh_indices(_face_detail(layout)), dtype=np.int64) if face else None

    def fill(self, lm: FrameLandmarks, xyz: np.ndarray, conf: np.ndarray, missing: np.ndarray) -> None:
        """Fill one frame: ``xyz (V, 3)``, ``conf (V,)``, ``missing (G,)``, all pre-set to missing."""
        for j, group in enumerate(self.layout.groups):
            points = getattr(lm, group) if group in self.extracted else None
            if points is None:
                continue
            sl = self.slices[group]
            if group == "face":
                points = points[self.face_idx]
            xyz[sl] = points[:, :3]
            conf[sl] = np.clip(points[:, 3], 0, 1) if group == "pose" else 1.0
            missing[j] = False


def _face_detail(layout: Layout) -> str:
    n = layout.group_slices["face"].stop - layout.group_slices["face"].start
    return "full" if n == len(face_mesh_indices("full")) else "contour"


def extract_video(
    backend: Backend,
    item: VideoInput,
    options: ExtractOptions,
    *,
    on_frame: Callable[[int], None] | None = None,
) -> Sample:
    """Landmarks of every kept frame of one video.

    Args:
        backend: a loaded backend made from ``options.backend``.
        item: the video and its metadata.
        options: decimation, downscaling, face detail.
        on_frame: called with 1 after each frame (progress).

    Returns:
        A sample of ``T`` kept frames; ``info.width``/``height`` are the source
        frame size (before downscaling), ``info.fps`` the rate of the kept frames,
        ``sign_start``/``sign_end`` index kept frames.

    Raises:
        SlrPoseError: the video cannot be decoded, has no frames, is cut short,
            shows no person, or its sign frames lie outside it.
    """
    layout = options.layout
    filler = LandmarkFiller(layout, options.backend.groups)
    frames = VideoFrames(item.path, fps=options.fps, max_side=options.max_side, prefetch=PREFETCH,
                         source_fps=item.fps or None)
    sha = content_sha256(item.path)
    backend.start_video()
    v, g = layout.num_landmarks, len(layout.groups)
    rows_xyz, rows_conf, rows_missing, times, indices = [], [], [], [], []
    decoded = iter(frames)
    try:
        for frame in decoded:
            xyz = np.full((v, 3), np.nan, np.float32)
            conf = np.zeros(v, np.float32)
            missing = np.ones(g, bool)
            filler.fill(backend.process(frame.image, frame.time), xyz, conf, missing)
            rows_xyz.append(xyz)
            rows_conf.append(conf)
            rows_missing.append(missing)
            times.append(frame.time)
            indices.append(frame.index)
            if on_frame is not None:
                on_frame(1)
    finally:
        decoded.close()  # stops the decoding thread before the capture is released
        frames.close()
    missing = np.stack(rows_missing)
    _check_person(item, missing, layout, options.backend.groups)
    start, end = map_sign_frames(np.asarray(indices), item.start, item.end, frames.decoded)
    meta = {**item.meta, "source_fps": round(frames.source_fps, 6), "source_frames": frames.decoded}
    info = SampleInfo(
        id=item.id, length=len(times), fps=frames.fps, width=frames.width, height=frames.height,
        source=str(item.path), sha256=sha, label=item.label, signer=item.signer, language=item.language,
        split=item.split, sign_start=start, sign_end=end, glosses=item.glosses, gloss_spans=item.gloss_spans,
        transcript=item.transcript, meta=meta_json(meta),
    )
    return Sample(info, np.stack(rows_xyz), np.stack(rows_conf), missing, np.asarray(times, np.float32), layout=layout)


def _check_person(item: VideoInput, missing: np.ndarray, layout: Layout, extracted: Iterable[str]) -> None:
    looked = [g for g in layout.groups if g in set(extracted)]
    body = [g for g in looked if g in BODY_GROUPS] or looked
    if missing[:, [layout.groups.index(g) for g in body]].all():
        what = " or ".join(dict.fromkeys(g.replace("left_", "").replace("right_", "") for g in body))
        raise VideoError(f"{item.path}: no person found (no {what} in any of {len(missing)} frames)")


def map_sign_frames(kept: np.ndarray, start: int, end: int, decoded: int) -> tuple[int, int]:
    """Source frame numbers of a sign -> indices of kept frames (-1 stays -1).

    Args:
        kept: ``(T,)`` increasing source frame index of each kept frame.
        start, end: first and last source frame of the sign (inclusive), -1 if unknown.
        decoded: frames in the source video.

    The sign starts at the first kept frame at or after ``start`` and ends at
    the last kept frame at or before ``end``; a sign shorter than the kept-frame
    spacing becomes the kept frame nearest to its start.
    """
    for name, n in (("start", start), ("end", end)):
        if n >= decoded:
            raise VideoError(f"sign {name} frame {n} is beyond the video's {decoded} frames")
    s = int(np.searchsorted(kept, start, "left")) if start >= 0 else -1
    e = int(np.searchsorted(kept, end, "right")) - 1 if end >= 0 else -1
    if s >= len(kept):
        s = len(kept) - 1
    if s >= 0 and e >= 0 and e < s:
        s = e = int(np.argmin(np.abs(kept - start)))
    return s, e


def extract_or_reason(backend: Backend, item: VideoInput, options: ExtractOptions, on_frame) -> Sample | str:
    try:
        return extract_video(backend, item, options, on_frame=on_frame)
    except SlrPoseError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - one odd video must not end a long run; the reason is reported
        return f"extraction failed ({type(e).__name__}: {e})"


def read_or_extract(source: str | Path, sample_id: str | None, options: Callable[[], ExtractOptions]) -> Sample:
    """The landmarks ``predict`` and ``recognise`` score: a stored sample, or a video extracted now.

    Args:
        source: a pose store (then ``sample_id`` names the sample) or a video file.
        options: called only for a video: how to extract it (a model's :meth:`ExtractOptions.like`).

    Raises:
        SlrPoseError: a missing file, a store without ``sample_id``, something
            that is neither a store nor a video, a video with no person in it.
    """
    source = Path(source)
    if source.suffix == ".h5" or source.with_name(source.name + ".journal").is_dir():
        if not sample_id:
            raise SlrPoseError(f"{source} is a pose store: name the sample with --id")
        store = PoseStore(source)
        return store.read(store.index_of(sample_id))
    if not source.is_file():
        raise SlrPoseError(f"no such file: {source}")
    if source.suffix.lower() not in VIDEO_EXTENSIONS:
        raise SlrPoseError(f"{source} is neither a pose store (.h5) nor a video ({', '.join(VIDEO_EXTENSIONS)})")
    chosen = options()
    with native_logs_silenced(), chosen.backend.create() as backend:
        return extract_video(backend, VideoInput(id=source.stem, path=source), chosen)
