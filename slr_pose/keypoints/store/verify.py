"""``verify``: read every chunk of a pose store and check every sample; ``salvage``: keep what is intact.

A normal read checks only what is cheap (see :mod:`.store`). Verification
goes further: it reads every chunk of every frame dataset, checks every
sample's columns against the frames, and compares each sample's stored arrays
with the SHA-256 recorded when it was written (schema 2). It never stops at
the first problem: the report lists every damaged sample, so that
:func:`salvage` can copy all the others into a new store, the way
``sqlite3 .recover`` does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import FACE_DETAIL, Layout, holistic_layout
from slr_pose.keypoints.store.derive import check_new_store, new_store
from slr_pose.keypoints.store.sample import (
    COLUMNS,
    Sample,
    SampleInfo,
    landmarks_sha256,
)
from slr_pose.keypoints.store.schema import (
    CHUNK_FRAMES,
    FORMAT,
    FRAME_DATASETS,
    FRAME_DTYPES,
    H5_ERRORS,
    SCHEMA_VERSION,
    column_values,
    error_reason,
    text_values,
)


@dataclass
class VerifyReport:
    """What :func:`verify_store` found. Damage is ``(sample id, reason)``; problems concern the whole store."""

    path: Path
    schema_version: int = 0
    samples: int = 0  # rows of the sample table
    frames: int = 0
    checksums: int = 0  # samples whose stored arrays were compared with their checksum
    intact: list[int] = field(default_factory=list)  # row indices
    damaged: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pending: int = 0  # samples of an interrupted write, in the journal
    # what salvage needs to rebuild a store; None when the root attributes are lost
    layout: Layout | None = None
    provenance: dict | None = None
    rows: list[SampleInfo] = field(default_factory=list, repr=False)  # metadata of each intact row, in order

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.problems

    def lines(self) -> list[str]:
        out = [f"{self.path}: schema {self.schema_version}, {self.samples} samples, {self.frames} frames"]
        out += [f"problem: {p}" for p in self.problems]
        out += [f"damaged {sid}: {why}" for sid, why in self.damaged]
        if self.pending:
            out.append(f"{self.pending} samples of an interrupted write wait in the journal (the next write adds them)")
        checked = f"checksums compared for {self.checksums}" if self.checksums else "no checksums (schema 1 store)"
        verdict = "store intact" if self.ok else f"{len(self.damaged)} damaged"
        out.append(f"{len(self.intact)} of {self.samples} samples intact ({checked}); {verdict}")
        return out

    def to_json(self) -> dict:
        return {
            "path": str(self.path), "schema_version": self.schema_version, "samples": self.samples,
            "frames": self.frames, "intact": len(self.intact), "checksums": self.checksums,
            "damaged": [{"id": sid, "reason": why} for sid, why in self.damaged],
            "problems": self.problems, "pending": self.pending, "ok": self.ok,
        }


def verify_store(path: str | os.PathLike) -> VerifyReport:
    """Check everything in the store at ``path``; never raises for damage, only reports it.

    Raises:
        StoreError: there is no file at ``path``.
    """
    import h5py

    path = Path(path)
    report = VerifyReport(path)
    if not path.is_file():
        raise StoreError(f"no pose store at {path}")
    report.pending = len(list(path.with_name(path.name + ".journal").glob("*.npz")))
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        report.problems.append(f"not a readable HDF5 file ({error_reason(e)}); nothing can be salvaged")
        return report
    with f:
        _check_root(f, report)
        if report.layout is None:
            return report
        bad_frames = _scan_frames(f, report)
        columns = _read_columns(f, report)
        _check_samples(f, report, columns, bad_frames)
    return report


def _attr(f, key: str, report: VerifyReport):
    try:
        return f.attrs[key]
    except KeyError:
        report.problems.append(f"the root attribute {key!r} is missing")
    except H5_ERRORS as e:
        report.problems.append(f"the root attribute {key!r} cannot be read ({error_reason(e)})")
    return None


def _check_root(f, report: VerifyReport) -> None:
    fmt = _attr(f, "format", report)
    if fmt is not None and not (isinstance(fmt, str) and fmt == FORMAT):
        report.problems.append(f"an HDF5 file but not an slr-pose store (format {fmt!r})")
        return
    version = _attr(f, "schema_version", report)
    try:
        report.schema_version = int(version) if version is not None else 0
    except (TypeError, ValueError):
        report.problems.append(f"schema_version {version!r} is not a number")
    if report.schema_version > SCHEMA_VERSION:
        report.problems.append(f"schema {report.schema_version} is newer than this slr-pose reads ({SCHEMA_VERSION})")
    name, names = text_values(_attr(f, "layout", report)), _attr(f, "landmark_names", report)
    names = text_values(names) if names is not None else None
    if names is None:
        report.problems.append("the landmark names are damaged")
    else:
        if name is None or len(name) != 1:
            report.problems.append("the layout name is damaged")
            name = [_name_of(names)]
        try:
            report.layout = Layout(name[0], tuple(names))
        except Exception as e:  # noqa: BLE001 - LayoutError or a mangled attribute: both are damage
            report.problems.append(f"the landmark names are damaged ({error_reason(e)})")
    if report.layout is None:
        report.problems.append("without its layout no sample can be read or salvaged")
    text = _attr(f, "provenance", report)
    if text is not None:
        try:
            values = text_values(text)
            if values is None or len(values) != 1:
                raise ValueError("not one UTF-8 string")
            prov = json.loads(values[0])
            if not isinstance(prov, dict) or not isinstance(prov.get("extractor"), dict):
                raise ValueError("no 'extractor' entry")
            report.provenance = prov
        except (TypeError, ValueError) as e:
            report.problems.append(f"the provenance is not valid JSON ({error_reason(e)})")


def _name_of(names: list[str]) -> str:
    """The name of the standard layout with these landmarks, to replace a damaged layout name."""
    for face in FACE_DETAIL:
        if holistic_layout(face).names == tuple(names):
            return holistic_layout(face).name
    return "recovered"


def _scan_frames(f, report: VerifyReport) -> dict[str, list[tuple[int, int, str]]]:
    """Read every chunk of every frame dataset; the frame ranges that fail, per dataset."""
    bad: dict[str, list[tuple[int, int, str]]] = {}
    sizes = set()
    v, g = report.layout.num_landmarks, len(report.layout.groups)
    tails = {"xyz": (v, 3), "confidence": (v,), "missing": (g,), "time": ()}
    for name in FRAME_DATASETS:
        try:
            ds = f["frames"][name]
            shape, dtype = ds.shape, ds.dtype
        except H5_ERRORS as e:
            report.problems.append(f"frames/{name} cannot be opened ({error_reason(e)})")
            bad[name] = [(0, np.iinfo(np.int64).max, "dataset lost")]
            continue
        if shape[1:] != tails[name] or dtype != FRAME_DTYPES[name]:
            report.problems.append(f"frames/{name} has shape {shape} and dtype {dtype}, not (F, {tails[name]}) {np.dtype(FRAME_DTYPES[name])}")
            bad[name] = [(0, np.iinfo(np.int64).max, "dataset has the wrong shape")]
            continue
        sizes.add(shape[0])
        step = (ds.chunks or (CHUNK_FRAMES,))[0]
        for start in range(0, shape[0], step):
            stop = min(start + step, shape[0])
            try:
                ds[start:stop]
            except H5_ERRORS as e:
                bad.setdefault(name, []).append((start, stop, error_reason(e)))
    report.frames = max(sizes) if sizes else 0
    if len(sizes) > 1:
        report.problems.append(f"the frame datasets disagree in length ({sorted(sizes)})")
    return bad


def _read_columns(f, report: VerifyReport) -> dict[str, np.ndarray | None]:
    columns: dict[str, np.ndarray | None] = {}
    for c, kind in {**COLUMNS, "offset": "i8", "landmarks_sha256": "str"}.items():
        try:
            columns[c] = column_values(f["samples"][c], kind)
        except KeyError:
            columns[c] = None
            if not (c == "landmarks_sha256" and report.schema_version == 1):
                report.problems.append(f"the sample column {c!r} is missing")
        except H5_ERRORS as e:
            columns[c] = None
            report.problems.append(f"the sample column {c!r} cannot be read ({error_reason(e)})")
    return columns


def _check_samples(f, report: VerifyReport, columns: dict, bad_frames: dict) -> None:
    sizes = [len(v) for v in columns.values() if v is not None]
    report.samples = max(sizes) if sizes else 0
    seen: set[str] = set()
    for i in range(report.samples):
        ids = columns.get("id")
        sid = str(ids[i]) if ids is not None and i < len(ids) else f"#{i}"
        why = _sample_damage(f, report, columns, bad_frames, i, sid, seen)
        if why:
            report.damaged.append((sid, why))
        else:
            report.intact.append(i)
        seen.add(sid)


def _sample_damage(f, report, columns, bad_frames, i: int, sid: str, seen: set[str]) -> str:
    """Empty when sample row ``i`` is intact, else what is wrong with it (and its SampleInfo goes in ``report.rows``)."""
    lost = [c for c, v in columns.items() if (v is None or i >= len(v)) and c != "landmarks_sha256"]
    if lost:
        return f"its sample column(s) {', '.join(lost[:3])} {'are' if len(lost) > 1 else 'is'} lost"
    if not sid or sid in seen:
        return "its id is empty or stored twice"
    values = {c: columns[c][i] for c in COLUMNS}
    try:
        info = SampleInfo(**{c: v.item() if isinstance(v, np.generic) else v for c, v in values.items()})
    except (TypeError, ValueError) as e:
        return f"its metadata cannot be read ({error_reason(e)})"
    off, n = int(columns["offset"][i]), info.length
    if n < 1 or off < 0 or off + n > report.frames:
        return f"its frames {off}:{off + n} are not within the {report.frames} stored frames"
    for name, ranges in bad_frames.items():
        for start, stop, why in ranges:
            if off < stop and start < off + n:
                return f"frames/{name} {start}:{min(stop, report.frames)} cannot be read ({why})"
    try:
        sample = Sample(info, *(f["frames"][name][off : off + n] for name in FRAME_DATASETS), layout=report.layout)
    except H5_ERRORS as e:
        return f"its frames cannot be read ({error_reason(e)})"
    stored = columns.get("landmarks_sha256")
    if stored is not None and i < len(stored) and stored[i]:
        report.checksums += 1
        if landmarks_sha256(sample) != stored[i]:
            return "its landmarks differ from the checksum stored with them"
    elif report.schema_version >= 2:
        return "its checksum is missing"
    report.rows.append(info)
    return ""


def salvage(report: VerifyReport, out: str | os.PathLike) -> int:
    """Copy every intact sample of a verified store into the new store ``out``; returns how many.

    The new store keeps the layout and provenance (extractor block included,
    so it merges with stores made the same way) and records what was
    salvaged from where. Samples of an interrupted write (the journal) are
    copied too when they can be read.

    Raises:
        StoreError: the store's layout is lost, ``out`` exists or is the store itself.
    """
    import h5py

    if report.layout is None:
        raise StoreError(f"{report.path}: its landmark layout is lost, so nothing can be salvaged")
    out = check_new_store(out, report.path)
    prov = dict(report.provenance or {"extractor": {"backend": "unknown", "version": "", "settings": {}}})
    prov["salvaged"] = {"from": str(report.path), "damaged": [sid for sid, _ in report.damaged]}
    copied = 0
    with h5py.File(report.path, "r") as f, new_store(out, report.layout, prov) as writer:
        offsets = f["samples"]["offset"][()]
        for i, info in zip(report.intact, report.rows):
            off = int(offsets[i])
            writer.add(Sample(info, *(f["frames"][name][off : off + info.length] for name in FRAME_DATASETS), layout=report.layout))
            copied += 1
        for p in sorted(report.path.with_name(report.path.name + ".journal").glob("*.npz")):
            try:
                with np.load(p) as z:
                    sample = Sample(SampleInfo(**json.loads(str(z["info"]))), z["xyz"], z["confidence"], z["missing"], z["time"])
                if sample.info.id not in writer:
                    writer.add(sample)
                    copied += 1
            except Exception:  # noqa: BLE001 - a damaged journal entry is simply not salvaged
                continue
    return copied
