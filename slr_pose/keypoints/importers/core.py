"""What every importer shares: candidates read on demand, assembling samples, the import loop, provenance."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter

#: Bumped whenever a change in the importers could change stored landmarks;
#: it is the ``version`` of every import provenance, so an old store refuses
#: samples converted differently.
READER_VERSION = "1"


@dataclass(frozen=True)
class Candidate:
    """One sample a source offers, read only on demand.

    ``load`` parses the sample (its ``info.sha256`` set) and is called only
    for ids the store does not hold yet; ``digest`` gives the same hash without
    parsing and is called only for ids it holds. Resuming a large import
    therefore costs hashing, not parsing.
    """

    id: str
    digest: Callable[[], str]
    load: Callable[[], Sample]


@dataclass
class ImportReport:
    """What an import did. Ids, in input order."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already stored, same content
    conflicts: list[str] = field(default_factory=list)  # stored from different content: kept as stored
    total: int = 0  # samples in the store afterwards


@dataclass(frozen=True)
class Geometry:
    """What a source may not say about its video: frame rate and size.

    ``fps`` NaN and ``width = height = 0`` mean unknown (see the module docs).
    """

    fps: float = float("nan")
    width: int = 0
    height: int = 0


def provenance(fmt: str, settings: Mapping[str, object], libraries: Mapping[str, str] | None = None) -> dict:
    """The provenance block of an import: ``extractor`` is what the store compares.

    Args:
        fmt: source format, stored as backend ``import/<fmt>``.
        settings: everything that changes the stored landmarks (face detail,
            column spec, ...); an existing store accepts only the same.
        libraries: versions of the reading libraries, for the record only
            (an upgrade of pyarrow must not lock a store).
    """
    prov: dict = {"extractor": {"backend": f"import/{fmt}", "version": READER_VERSION, "settings": dict(settings)}}
    if libraries:
        prov["libraries"] = dict(libraries)
    return prov


def library_version(package: str) -> str:
    """The installed version of ``package`` (for a provenance's record), or ``"unknown"``."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def require(module: str, extra: str, what: str):
    """Import an optional dependency, or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SlrPoseError(f'{what} needs the {module} package: pip install "slr-pose[{extra}]"') from None


def member_sha256(file_digest: str, key: str) -> str:
    """Hash of one sample inside a multi-sample file: the file's digest plus its key."""
    return hashlib.sha256(f"{file_digest}\0{key}".encode()).hexdigest()


def source_index(layout: Layout, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Where source landmarks go: ``(dst, src)`` index arrays.

    ``names`` are the source's landmarks as ``"group/NAME"`` (see
    :mod:`..layout`); ``xyz[:, dst] = source[:, src]`` copies every source
    landmark the layout keeps. Source landmarks outside the layout (the face
    mesh beyond its contours, iris points) are dropped.
    """
    src = [i for i, n in enumerate(names) if n in layout]
    dst = layout.index(names[i] for i in src)
    return dst, np.asarray(src, dtype=np.int64)


def assemble(
    info: SampleInfo,
    layout: Layout,
    index: tuple[np.ndarray, np.ndarray],
    xyz: np.ndarray,
    confidence: np.ndarray | None,
    frames: np.ndarray,
) -> Sample:
    """Build a store sample from source-ordered landmarks.

    Args:
        info: metadata; ``length`` is set here.
        layout: the store layout.
        index: ``(dst, src)`` from :func:`source_index`.
        xyz: ``(T, S, 3)`` source landmarks, NaN where missing.
        confidence: ``(T, S)`` visibility, or None for 1.0 at every present landmark.
        frames: ``(T,)`` source frame numbers; ``time = frames / info.fps``.
    """
    dst, src = index
    t, v = len(xyz), layout.num_landmarks
    out = np.full((t, v, 3), np.nan, dtype=np.float32)
    conf = np.zeros((t, v), dtype=np.float32)
    picked = np.asarray(xyz, dtype=np.float32)[:, src]
    present = np.isfinite(picked).all(-1)
    picked[~present] = np.nan  # a landmark is present with all three values or not at all
    out[:, dst] = picked
    if confidence is None:
        conf[:, dst] = present
    else:
        c = np.nan_to_num(np.asarray(confidence, dtype=np.float32)[:, src], nan=0.0)
        conf[:, dst] = np.where(present, np.clip(c, 0.0, 1.0), 0.0)
    valid = np.isfinite(out).all(-1)
    missing = np.stack([~valid[:, s].any(1) for s in layout.group_slices.values()], axis=1)
    fps = info.fps
    known = math.isfinite(fps) and fps > 0
    with np.errstate(over="ignore"):
        time = (np.asarray(frames, dtype=np.float64) / fps if known else np.full(t, np.nan)).astype(np.float32)
    if known and not np.isfinite(time).all():  # a rate so small that the times leave float32: not a rate
        time, fps = np.full(t, np.nan, np.float32), math.nan
    return Sample(replace(info, length=t, fps=fps), out, conf, missing, time, layout=layout)


def file_inputs(paths: Iterable[str | os.PathLike], suffixes: tuple[str, ...]) -> list[tuple[Path, str]]:
    """Files to import and their sample ids.

    A file argument gives its stem as the id; a folder gives every file with
    one of ``suffixes`` under it, with the path relative to the folder
    (without suffix) as the id, so ``signs/hello/001.pose`` imported as
    ``signs`` is ``hello/001``.

    Raises:
        SlrPoseError: a path that does not exist, a folder without such files,
            or two inputs that would get the same id.
    """
    found: list[tuple[Path, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix.lower() in suffixes and f.is_file())
            if not files:
                raise SlrPoseError(f"no {'/'.join(suffixes)} files under {p}")
            found += [(f, f.relative_to(p).with_suffix("").as_posix()) for f in files]
        elif p.is_file():
            if p.suffix.lower() not in suffixes:
                raise SlrPoseError(f"{p} is not a {'/'.join(suffixes)} file")
            found.append((p, p.stem))
        else:
            raise SlrPoseError(f"no such file or folder: {p}")
    seen: dict[str, Path] = {}
    for f, sid in found:
        if sid in seen and seen[sid] != f:
            raise SlrPoseError(f"{seen[sid]} and {f} would both get sample id {sid!r}: import them separately")
        seen[sid] = f
    return found


def import_samples(
    store: str | os.PathLike,
    layout: Layout,
    prov: Mapping[str, object],
    candidates: Iterable[Candidate],
    *,
    commit_every: int | None = 500,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Add every candidate the store does not hold; never overwrite.

    Samples already added stay in the store (journal, then committed on the
    way out) even when a later candidate fails to load: the error propagates
    and a rerun resumes where this one stopped.

    Args:
        progress: called with each candidate's id after it is handled.
    """
    report = ImportReport()
    created = not Path(store).exists()
    try:
        with StoreWriter(store, layout, prov, commit_every=commit_every) as writer:
            for cand in candidates:
                stored = writer.sha256_of(cand.id) if cand.id in writer else None
                if stored is None:
                    writer.add(cand.load())
                    report.added.append(cand.id)
                elif stored == cand.digest():
                    report.skipped.append(cand.id)
                else:
                    report.conflicts.append(cand.id)
                if progress is not None:
                    progress(cand.id)
    except BaseException:
        if created and not report.added:
            Path(store).unlink(missing_ok=True)  # the empty store this call made, nothing else
        raise
    report.total = len(PoseStore(store)) if Path(store).exists() else 0
    return report
