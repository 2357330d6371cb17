"""The frame cache's writer: a journal of finished samples, folded into the ``.h5`` by atomic commits.

:class:`CacheWriter` follows the pose store's rules (see
:mod:`slr_pose.rgb.cache_build` for the whole build): each finished sample is
first its own ``.npz`` in ``CACHE.h5.journal/`` (written to a temporary name,
flushed, renamed); a commit copies the cache, appends the journal to the copy,
claims its disk space first, and puts it in place with ``os.replace``. A
process killed at any moment leaves the previous complete cache or the new
one plus the journal; the next writer folds the journal in. One writer at a
time (an advisory lock in the journal folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slr_pose import __version__
from slr_pose.keypoints.store.schema import error_reason, now
from slr_pose.outputs import JournalDir, failed_write_reason, replacing_copy
from slr_pose.rgb.cache import (
    FORMAT,
    INT_COLUMNS,
    SCHEMA_VERSION,
    STR_COLUMNS,
    CacheError,
    FrameCache,
)
from slr_pose.rgb.crop import Box

#: Bytes per HDF5 chunk of /bytes (JPEG data is not compressed again).
BYTE_CHUNK = 1 << 16
#: Provenance entries a later build must match (the store may move; dates and versions of slr-pose may change).
COMPARED = ("crop", "decoder", "extractor")


@dataclass
class CachedSample:
    """One sample's crops, ready to be journaled: ``jpeg`` holds ``sizes``' bytes back to back."""

    id: str
    source: str
    sha256: str
    box: Box
    frame_width: int
    frame_height: int
    jpeg: np.ndarray
    sizes: np.ndarray

    @property
    def length(self) -> int:
        return len(self.sizes)


class CacheWriter:
    """Adds :class:`CachedSample` s to a cache through a journal (see the module docstring).

    Use as a context manager; leaving the block commits. An existing cache
    must have been made with the same :data:`COMPARED` provenance entries.
    """

    def __init__(self, path: str | os.PathLike, provenance: dict[str, Any]) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise CacheError(f"output folder {self.path.parent} does not exist")
        if self.path.exists():
            FrameCache(self.path)  # another kind of file, or a damaged cache, is refused before anything is written
        self._journal = JournalDir(self.path, CacheError)
        self.journal = self._journal.path
        try:
            self._open(provenance)
        except BaseException:
            self._journal.release()
            if self._journal.made:  # refused before anything was journaled: leave no trace
                self._journal.remove()
            raise

    def _open(self, provenance: dict[str, Any]) -> None:
        self._ids: dict[str, str] = {}
        self.stored_frames = 0
        if self.path.exists():
            cached = FrameCache(self.path)
            old = {k: cached.provenance.get(k) for k in COMPARED}
            new = json.loads(json.dumps({k: provenance.get(k) for k in COMPARED}))
            if old != new:
                raise CacheError(f"{self.path} was made with other settings ({_differences(old, new)}): "
                                 "write to a new cache")
            self.provenance = cached.provenance
            self._ids.update({sid: cached.sha256(sid) for sid in cached.ids})
            self.stored_frames = int(sum(cached.length(s) for s in cached.ids))
        else:
            self.provenance = {**provenance, "slr_pose_version": __version__, "created": now()}
        for tmp in [*self.journal.glob(".*.tmp"), *self.path.parent.glob(f".{self.path.name}.*.tmp")]:
            tmp.unlink(missing_ok=True)  # cut short by a kill: never a finished sample or cache
        self._seq = max((_seq_of(p) + 1 for p in self.journal.glob("*.npz")), default=0)
        self._journaled: list[Path] = self._journal.replay(_entry_key, CacheError, self._ids)
        if self._journaled:
            self.commit()

    def __enter__(self) -> "CacheWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def sha256_of(self, sample_id: str) -> str | None:
        """SHA-256 of the video ``sample_id`` was cached from, or None if it is not cached."""
        return self._ids.get(sample_id)

    def add(self, entry: CachedSample) -> None:
        """Make ``entry`` durable in the journal; it reaches the ``.h5`` on commit."""
        if entry.id in self._ids:
            raise CacheError(f"sample {entry.id!r} is already in {self.path}")
        name = f"{self._seq:08d}-{hashlib.sha256(entry.id.encode()).hexdigest()[:16]}.npz"
        self._seq += 1
        final, tmp = self.journal / name, self.journal / f".{name}.tmp"
        meta = {**{k: getattr(entry, k) for k in ("id", "source", "sha256", "frame_width", "frame_height")},
                "box": [entry.box.x0, entry.box.y0, entry.box.side, entry.box.found]}
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, meta=np.array(json.dumps(meta)), jpeg=entry.jpeg, sizes=entry.sizes)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise CacheError(f"cannot add sample {entry.id!r} to {self.journal} ({error_reason(e)}); "
                             "every sample added before it is kept") from None
        self._journaled.append(final)
        self._ids[entry.id] = entry.sha256

    def commit(self) -> int:
        """Fold the journal into the cache; returns the number of samples added."""
        if not self._journaled:
            return 0
        entries = [_read_entry(p) for p in self._journaled]
        growth = sum(e.jpeg.nbytes + 64 * e.length + 4096 for e in entries) + (1 << 20)
        try:
            with replacing_copy(self.path, lambda tmp: _create(tmp, self.provenance), growth) as tmp:
                _append(tmp, entries)
        except OSError as e:
            raise CacheError(f"cannot commit to {self.path} ({failed_write_reason(e)}); the cache is unchanged and the "
                             f"{len(entries)} new samples wait in {self.journal} for the next build") from None
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
            if not self._journaled:  # a failed commit keeps its journal for the next build
                self._journal.remove()
            self._journal.release()

    def _release(self) -> None:
        """Unlock without committing (as a killed writer would leave the journal)."""
        self._journal.release()


def _entry_key(path: Path) -> tuple[str, str]:
    entry = _read_entry(path)
    return entry.id, entry.sha256


def _seq_of(path: Path) -> int:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def _read_entry(path: Path) -> CachedSample:
    try:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            x0, y0, side, found = meta.pop("box")
            return CachedSample(**meta, box=Box(x0, y0, side, bool(found)), jpeg=z["jpeg"], sizes=z["sizes"])
    except Exception as e:  # noqa: BLE001 - any damage means "not a finished sample"
        raise CacheError(f"journal entry {path} is damaged ({error_reason(e)})") from None


def _create(path: Path, provenance: dict[str, Any]) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["provenance"] = json.dumps(provenance)
        f.create_dataset("bytes", shape=(0,), maxshape=(None,), dtype=np.uint8, chunks=(BYTE_CHUNK,))
        for name in ("offset", "size"):
            f.create_dataset(f"frames/{name}", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,))
        s = f.create_group("samples")
        for c in STR_COLUMNS:
            s.create_dataset(c, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype())
        for c in INT_COLUMNS:
            s.create_dataset(c, shape=(0,), maxshape=(None,), dtype=np.int64)
        s.create_dataset("box", shape=(0, 3), maxshape=(None, 3), dtype=np.int64)
        s.create_dataset("box_found", shape=(0,), maxshape=(None,), dtype=bool)


def _append(path: Path, entries: list[CachedSample]) -> None:
    import h5py

    with h5py.File(path, "r+") as f:
        data, offset, size = f["bytes"], f["frames/offset"], f["frames/size"]
        nbytes, nframes = data.shape[0], offset.shape[0]
        sizes = np.concatenate([e.sizes for e in entries])
        starts = nbytes + np.concatenate([[0], np.cumsum(sizes)[:-1]])
        _extend(data, np.concatenate([e.jpeg for e in entries]))
        _extend(offset, starts.astype(np.int64))
        _extend(size, sizes.astype(np.int64))
        lengths = np.array([e.length for e in entries], np.int64)
        rows = {
            "id": [e.id for e in entries], "source": [e.source for e in entries], "sha256": [e.sha256 for e in entries],
            "offset": nframes + np.concatenate([[0], np.cumsum(lengths)[:-1]]), "length": lengths,
            "frame_width": [e.frame_width for e in entries], "frame_height": [e.frame_height for e in entries],
            "box": [[e.box.x0, e.box.y0, e.box.side] for e in entries], "box_found": [e.box.found for e in entries],
        }  # fmt: skip
        for c, values in rows.items():
            ds = f["samples"][c]
            _extend(ds, np.asarray(values, dtype=object if c in STR_COLUMNS else ds.dtype))
        prov = json.loads(f.attrs["provenance"])
        prov["modified"] = now()
        f.attrs["provenance"] = json.dumps(prov)


def _extend(ds, values: np.ndarray) -> None:
    n = ds.shape[0]
    ds.resize(n + len(values), axis=0)
    if len(values):
        ds[n:] = values


def _differences(old: dict, new: dict) -> str:
    """``crop.side 112 -> 224``: the first settings that differ, for the refusal message."""
    def flat(d, prefix=""):
        out = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    a, b = flat(old), flat(json.loads(json.dumps(new)))
    diff = [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return ", ".join(diff[:3])
