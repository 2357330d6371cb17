"""Writing a store without ever risking it: :class:`StoreWriter` and :class:`CommitSchedule`.

Writes never modify the file in place. A :class:`StoreWriter` first writes each
finished sample as its own file in ``STORE.journal/`` (atomically renamed), and
:meth:`StoreWriter.commit` folds the journal into a copy of the store that then
replaces it with ``os.replace``. A process killed at any moment therefore leaves
the previous complete store plus a journal of every sample finished since;
:class:`~.reader.PoseStore` reads both, and the next writer folds the journal in.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from slr_pose import __version__
from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store.journal import (
    JOURNAL_HEADER,
    journal_info,
    read_journal,
    write_journal,
)
from slr_pose.keypoints.store.reader import PoseStore, read_header
from slr_pose.keypoints.store.sample import (
    COLUMNS,
    Sample,
    SampleInfo,
    landmarks_sha256,
)
from slr_pose.keypoints.store.schema import (
    CHUNK_FRAMES,
    COMPRESSION,
    FORMAT,
    FRAME_DATASETS,
    FRAME_DTYPES,
    H5_ERRORS,
    SCHEMA_VERSION,
    STORE_COLUMNS,
    error_reason,
    frame_tail,
    now,
)
from slr_pose.outputs import (
    JournalDir,
    check_store_output,
    failed_write_reason,
    no_space,
    replacing_copy,
)


class StoreWriter:
    """Adds samples to a store (creating it if needed) without ever risking it.

    Args:
        path: the ``.h5`` store.
        layout: landmark layout of every sample to be added.
        provenance: how the landmarks were made; at least ``{"extractor":
            {"backend": ..., "version": ..., "settings": {...}}}``. An existing
            store must have been made the same way (its extractor block must be
            equal), otherwise :class:`StoreError`.
        commit_every: fold the journal into the store after this many samples
            (``None``: only on :meth:`commit` and :meth:`close`).

    Use as a context manager; leaving the block commits. Only one writer may
    hold a store at a time (an advisory lock in the journal directory).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        layout: Layout,
        provenance: Mapping[str, Any],
        *,
        commit_every: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.layout = layout
        self.commit_every = commit_every
        if "extractor" not in provenance:
            raise StoreError("provenance needs an 'extractor' entry")
        if not self.path.parent.is_dir():
            raise StoreError(f"folder {self.path.parent} does not exist")
        check_store_output(self.path)  # a file of another kind is never turned into a store
        self._journal = JournalDir(self.path, StoreError)
        self.journal = self._journal.path
        try:
            self._open(dict(provenance))
        except BaseException:
            self._journal.release()
            if self._journal.made:  # refused before anything was journaled: leave no trace
                self._journal.remove(JOURNAL_HEADER)
            raise

    def _open(self, provenance: dict) -> None:
        self._ids: dict[str, str] = {}  # id -> sha256 of everything stored or journaled
        if self.path.exists():
            header, columns = read_header(self.path)
            stored = header.provenance
            if header.layout.names != self.layout.names:
                raise StoreError(
                    f"{self.path} holds layout {header.layout.name!r}, not {self.layout.name!r}: write to a new store"
                )
            if stored.get("extractor") != provenance["extractor"]:
                raise StoreError(
                    f"{self.path} was made with {describe_extractor(stored.get('extractor'))}, "
                    f"not {describe_extractor(provenance['extractor'])}: write to a new store"
                )
            self.provenance = stored
            self._ids.update(zip(columns["id"].tolist(), columns["sha256"].tolist()))
        else:
            self.provenance = {**provenance, "slr_pose_version": __version__, "created": now()}
        header = {
            "layout": self.layout.name,
            "landmark_names": list(self.layout.names),
            "provenance": json.dumps(self.provenance),
        }
        try:
            (self.journal / JOURNAL_HEADER).write_text(json.dumps(header))
        except OSError as e:
            raise StoreError(f"cannot write beside {self.path} ({failed_write_reason(e)})") from None
        for tmp in self.journal.glob(".*.tmp"):
            tmp.unlink()  # cut short by a kill: never a finished sample
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink()
        self._journaled: list[Path] = self._journal.replay(_entry_key, StoreError, self._ids)
        if self._journaled:
            self.commit()

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._ids

    def sha256_of(self, sample_id: str) -> str | None:
        """Content hash recorded for ``sample_id``, or None if it is not stored."""
        return self._ids.get(sample_id)

    def add(self, sample: Sample) -> None:
        """Make ``sample`` durable (in the journal); it reaches the ``.h5`` on commit."""
        if sample.layout is not None and sample.layout.names != self.layout.names:
            raise StoreError(f"sample {sample.info.id!r} has layout {sample.layout.name!r}, {self.path} holds {self.layout.name!r}")
        sample.check(self.layout)
        if sample.info.id in self._ids:
            raise StoreError(f"sample id {sample.info.id!r} is already in {self.path}")
        sample = replace(sample, info=replace(sample.info, length=len(sample.xyz)))
        self._journaled.append(write_journal(self.journal, sample))
        self._ids[sample.info.id] = sample.info.sha256
        if self.commit_every and len(self._journaled) >= self.commit_every:
            self.commit()

    def commit(self) -> int:
        """Fold the journal into the store; returns the number of samples added.

        Nothing journaled and no store yet: nothing is created (an extraction
        where every input failed leaves no empty store behind).
        """
        if not self._journaled:
            return 0
        samples = [read_journal(p, self.layout) for p in self._journaled]
        size = self.path.stat().st_size if self.path.exists() else 0
        try:
            with replacing_copy(self.path, lambda tmp: _create(tmp, self.layout, self.provenance),
                                _growth(samples, size)) as tmp:
                _append(tmp, samples, self.path)
        except OSError as e:
            if not no_space(e):
                raise StoreError(f"cannot commit to {self.path} ({error_reason(e)}); the store is unchanged") from None
            raise StoreError(
                f"no space left to commit to {self.path}: the store is unchanged and the "
                f"{len(samples)} new samples wait in {self.journal}; free space and run the command again"
            ) from None
        for p in self._journaled:
            p.unlink(missing_ok=True)
        added, self._journaled = len(self._journaled), []
        return added

    def close(self) -> None:
        if not self._journal.locked:
            return
        try:
            self.commit()
        finally:
            if not self._journaled:  # a failed commit keeps its journal (and header) for the rerun
                self._journal.remove(JOURNAL_HEADER)
            self._journal.release()

    def _release(self) -> None:
        """Unlock without committing (as a killed writer would leave the journal)."""
        self._journal.release()


def describe_extractor(extractor: Any) -> str:
    """``holistic mediapipe 0.10.21 (model_complexity=1, ...)``: how a store's landmarks were made, for messages."""
    if not isinstance(extractor, dict):
        return "an unknown extractor"
    settings = extractor.get("settings", {})
    shown = ", ".join(f"{k}={v}" for k, v in sorted(settings.items())) if isinstance(settings, dict) else settings
    return f"{extractor.get('backend')} {extractor.get('version')} ({shown})"


def _create(path: Path, layout: Layout, provenance: dict) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["layout"] = layout.name
        f.attrs["landmark_names"] = np.array(layout.names, dtype=h5py.string_dtype())
        f.attrs["groups"] = np.array(layout.groups, dtype=h5py.string_dtype())
        f.attrs["provenance"] = json.dumps(provenance)
        frames = f.create_group("frames")
        for name in FRAME_DATASETS:
            shape = frame_tail(name, layout)
            frames.create_dataset(
                name, shape=(0, *shape), maxshape=(None, *shape), dtype=FRAME_DTYPES[name],
                chunks=(CHUNK_FRAMES, *shape), **COMPRESSION,
            )
        samples = f.create_group("samples")
        for c, kind in {**STORE_COLUMNS, **COLUMNS}.items():
            samples.create_dataset(c, data=np.zeros(0, dtype=_dtype(kind)), maxshape=(None,))


def _growth(samples: list[Sample], size: int) -> int:
    """An upper bound of the bytes a commit adds: the arrays uncompressed, their columns, the index, a margin."""
    raw = sum(sum(getattr(s, name).nbytes for name in FRAME_DATASETS) + 1024 for s in samples)
    return raw + raw // 4 + size // 50 + (1 << 20)


def _dtype(kind: str):
    import h5py

    return h5py.string_dtype() if kind == "str" else np.dtype(kind)


def _append(path: Path, samples: list[Sample], store: Path) -> None:
    """Add ``samples`` to the file at ``path`` (a commit's copy of ``store``, named in messages)."""
    import h5py

    with h5py.File(path, "r+") as f:
        frames, cols = f["frames"], f["samples"]
        if "landmarks_sha256" not in cols:
            _upgrade_schema_1(store, f)
        start = frames["xyz"].shape[0]
        total = start + sum(len(s.xyz) for s in samples)
        for name in FRAME_DATASETS:
            ds = frames[name]
            ds.resize(total, axis=0)
            if samples:
                ds[start:total] = np.concatenate([getattr(s, name) for s in samples])
        offsets = start + np.cumsum([0] + [len(s.xyz) for s in samples[:-1]])
        new = {
            "offset": offsets.astype(np.int64) if samples else np.zeros(0, np.int64),
            "landmarks_sha256": [landmarks_sha256(s) for s in samples],
        }
        for c in COLUMNS:
            new[c] = [getattr(s.info, c) for s in samples]
        for c, values in new.items():
            ds = cols[c]
            n = ds.shape[0]
            ds.resize(n + len(values), axis=0)
            if len(values):
                kind = COLUMNS.get(c) or STORE_COLUMNS[c]
                ds[n:] = np.asarray(values, dtype=object if kind == "str" else ds.dtype)
        prov = json.loads(f.attrs["provenance"])
        prov["modified"] = now()
        f.attrs["provenance"] = json.dumps(prov)


def _upgrade_schema_1(path: Path, f) -> None:
    """Give a schema 1 store (``f``, a commit's copy of ``path``) the checksums of the samples it holds."""
    import h5py

    frames, cols = f["frames"], f["samples"]
    offset, length, ids = cols["offset"][()], cols["length"][()], cols["id"].asstr()[()]
    sums = []
    for sid, off, n in zip(ids, offset, length):
        try:
            arrays = [frames[name][off : off + n] for name in FRAME_DATASETS]
        except H5_ERRORS as e:
            raise StoreError(
                f"{path}: sample {sid!r} cannot be read ({error_reason(e)}) while upgrading the store to schema "
                f"{SCHEMA_VERSION}; 'slr-pose verify {path} --salvage NEW.h5' keeps the intact samples"
            ) from None
        sums.append(landmarks_sha256(Sample(SampleInfo(sid), *arrays)))
    cols.create_dataset("landmarks_sha256", data=np.array(sums, dtype=object), dtype=h5py.string_dtype(), maxshape=(None,))
    f.attrs["schema_version"] = SCHEMA_VERSION


#: Frames a commit waits for at least (see :class:`CommitSchedule`).
COMMIT_MIN_FRAMES = 20_000


class CommitSchedule:
    """Adds samples to a writer and folds its journal in when it has doubled the store.

    A commit copies the whole store, so committing whenever the journal holds
    as many frames as the store (and at least ``min_frames``) bounds the total
    copying by about twice the final store size, while the journal keeps every
    sample durable in between.
    """

    def __init__(self, writer: StoreWriter, min_frames: int = COMMIT_MIN_FRAMES) -> None:
        self.writer = writer
        self.min_frames = min_frames
        self.stored = int(PoseStore(writer.path).column("length").sum()) if writer.path.exists() else 0
        self.journaled = 0

    def add(self, sample: Sample) -> None:
        self.writer.add(sample)
        self.journaled += len(sample.xyz)
        if self.journaled >= max(self.min_frames, self.stored):
            self.writer.commit()
            self.stored, self.journaled = self.stored + self.journaled, 0


def _entry_key(path: Path) -> tuple[str, str]:
    info = journal_info(path)
    return info.id, info.sha256
