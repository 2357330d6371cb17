"""The pose store: landmarks of many samples in one versioned HDF5 file.

Schema (version 1; the README's "Pose store" section documents it for users)::

    /                     attrs: format="slr-pose-store", schema_version=1,
                                 layout (name), landmark_names (V,), groups (G,),
                                 provenance (JSON: extractor backend, its version
                                 and settings, slr-pose version, created, modified)
    /frames/xyz           (F, V, 3) float32  image-normalised x, y (0..1 of width,
                                             height) and MediaPipe's relative z;
                                             NaN where the landmark is missing
    /frames/confidence    (F, V)    float32  pose visibility, 1 for detected hand
                                             and face landmarks, 0 where missing
    /frames/missing       (F, G)    bool     True where a landmark group was not
                                             found in that frame
    /frames/time          (F,)      float32  seconds since the start of the source
    /samples/<column>     (N,)               one row per sample, see COLUMNS;
                                             sample i owns frames
                                             offset[i] : offset[i] + length[i]

Writes never modify the file in place. A :class:`StoreWriter` first writes each
finished sample as its own file in ``STORE.journal/`` (atomically renamed), and
:meth:`StoreWriter.commit` folds the journal into a copy of the store that then
replaces it with ``os.replace``. A process killed at any moment therefore leaves
the previous complete store plus a journal of every sample finished since;
:class:`PoseStore` reads both, and the next writer folds the journal in.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from slr_pose import __version__
from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import Layout

FORMAT = "slr-pose-store"
SCHEMA_VERSION = 1

#: Frames per HDF5 chunk along the frame axis, and the compression filter;
#: chosen by ``benchmarks/store_layout.py`` (see benchmarks/results/extraction.md).
CHUNK_FRAMES = 64
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


@dataclass(frozen=True)
class SampleInfo:
    """Metadata of one stored sample. Frame indices count stored frames."""

    id: str
    length: int = 0
    fps: float = float("nan")
    width: int = 0
    height: int = 0
    source: str = ""
    sha256: str = ""
    label: str = ""
    signer: str = ""
    language: str = ""
    split: str = ""
    sign_start: int = -1
    sign_end: int = -1
    glosses: str = ""
    gloss_spans: str = ""
    transcript: str = ""
    meta: str = ""

    @property
    def aspect(self) -> float:
        """Width / height of the source frames, 1.0 when unknown."""
        return self.width / self.height if self.width > 0 and self.height > 0 else 1.0

    @property
    def gloss_list(self) -> list[str]:
        return self.glosses.split()


# Column name -> numpy dtype kind used on disk ("str", "i8", "f4").
COLUMNS: dict[str, str] = {
    f.name: ("str" if f.type in ("str", str) else "f4" if f.type in ("float", float) else "i8")
    for f in fields(SampleInfo)
}


@dataclass
class Sample:
    """One sample's landmarks. ``T`` frames, ``V`` landmarks, ``G`` groups.

    Attributes:
        xyz: ``(T, V, 3)`` float32, NaN where missing.
        confidence: ``(T, V)`` float32 in [0, 1], 0 where missing.
        missing: ``(T, G)`` bool, one column per group of the layout.
        time: ``(T,)`` float32 seconds since the start of the source.
    """

    info: SampleInfo
    xyz: np.ndarray
    confidence: np.ndarray
    missing: np.ndarray
    time: np.ndarray

    def valid(self, layout: Layout) -> np.ndarray:
        """``(T, V)`` bool: the landmark was found in that frame."""
        return ~self.missing[:, layout.group_index] & np.isfinite(self.xyz).all(-1)

    def check(self, layout: Layout) -> None:
        """Raise :class:`StoreError` unless the arrays agree with ``layout`` and each other."""
        t, v = len(self.xyz), layout.num_landmarks
        expect = {
            "xyz": (t, v, 3),
            "confidence": (t, v),
            "missing": (t, len(layout.groups)),
            "time": (t,),
        }
        for name, shape in expect.items():
            got = getattr(self, name).shape
            if got != shape:
                raise StoreError(f"sample {self.info.id!r}: {name} has shape {got}, layout {layout.name!r} needs {shape}")
        if t == 0:
            raise StoreError(f"sample {self.info.id!r} has no frames")
        if not self.info.id:
            raise StoreError("a sample needs a non-empty id")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _journal_dir(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


# --------------------------------------------------------------------------- reading


class PoseStore:
    """Read access to a store (and to the journal of an interrupted write).

    Random access by index or id; safe to hand to a torch ``DataLoader`` with
    worker processes (each process opens its own HDF5 handle on first read).

    Example::

        store = PoseStore("poses.h5")
        sample = store.read(store.index_of("doctor_001"))
        sample.xyz.shape   # (T, V, 3)
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._h5 = None
        self._pid = None
        journal = sorted(_journal_dir(self.path).glob("*.npz"))
        if not self.path.exists() and not journal:
            raise StoreError(f"no pose store at {self.path}")
        if self.path.exists():
            attrs, columns = _read_header(self.path)
        else:
            attrs, columns = _journal_header(journal[0]), _empty_columns()
        self.layout = Layout(attrs["layout"], tuple(attrs["landmark_names"]))
        self.provenance: dict[str, Any] = json.loads(attrs["provenance"])
        self._stored = len(columns["id"])
        # Samples finished by a run that was killed before it could commit.
        known = set(columns["id"].tolist())
        self._pending: list[Path] = []
        rows: list[SampleInfo] = []
        for p in journal:
            try:
                info = _journal_info(p)
            except StoreError:
                continue  # a file cut short cannot be a finished sample
            if info.id not in known:
                known.add(info.id)
                self._pending.append(p)
                rows.append(info)
        if rows:
            extra = _columns_of(rows)
            columns = {c: np.concatenate([columns[c], extra[c]]) for c in columns}
        self._columns = columns
        self._index = {sid: i for i, sid in enumerate(self._columns["id"].tolist())}

    # -- pickling for DataLoader workers: never ship an open HDF5 handle
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_h5"], state["_pid"] = None, None
        return state

    def __len__(self) -> int:
        return len(self._columns["id"])

    def __repr__(self) -> str:
        return f"PoseStore({str(self.path)!r}, samples={len(self)}, layout={self.layout.name!r})"

    @property
    def pending(self) -> int:
        """Samples held only in the journal of an interrupted write."""
        return len(self._pending)

    @property
    def ids(self) -> list[str]:
        return self._columns["id"].tolist()

    def column(self, name: str) -> np.ndarray:
        """One metadata column for all samples, e.g. ``store.column("label")``."""
        if name not in COLUMNS:
            raise StoreError(f"no column {name!r}; columns are {', '.join(COLUMNS)}")
        return self._columns[name]

    def index_of(self, sample_id: str) -> int:
        try:
            return self._index[sample_id]
        except KeyError:
            raise StoreError(f"no sample {sample_id!r} in {self.path}") from None

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._index

    def info(self, i: int) -> SampleInfo:
        if not -len(self) <= i < len(self):
            raise StoreError(f"sample index {i} out of range for {len(self)} samples")
        values = {c: self._columns[c][i] for c in COLUMNS}
        return SampleInfo(**{c: v.item() if isinstance(v, np.generic) else v for c, v in values.items()})

    def infos(self) -> Iterator[SampleInfo]:
        for i in range(len(self)):
            yield self.info(i)

    def _file(self):
        import h5py

        if self._h5 is None or self._pid != os.getpid():
            self._h5 = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._h5

    def read(self, i: int) -> Sample:
        """All arrays of sample ``i``."""
        info = self.info(i)
        i = i % len(self)
        if i >= self._stored:
            return _read_journal(self._pending[i - self._stored])
        off = int(self._columns["offset"][i])
        sl = slice(off, off + info.length)
        f = self._file()
        return Sample(
            info,
            f["frames/xyz"][sl],
            f["frames/confidence"][sl],
            f["frames/missing"][sl],
            f["frames/time"][sl],
        )

    def missing_mask(self) -> np.ndarray:
        """``(F, G)`` bool missing mask of every stored frame, journal included."""
        parts = []
        if self._stored:
            parts.append(self._file()["frames/missing"][:])
        parts += [_read_journal(p).missing for p in self._pending]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.layout.groups)), bool)

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None


def _column_dtype(kind: str):
    return object if kind == "str" else np.dtype(kind)


def _empty_columns() -> dict[str, np.ndarray]:
    return _columns_of([])


def _columns_of(rows: list[SampleInfo]) -> dict[str, np.ndarray]:
    """Metadata columns (and ``offset``, -1 here) of ``rows`` as numpy arrays."""
    out = {c: np.array([getattr(r, c) for r in rows], dtype=_column_dtype(k)) for c, k in COLUMNS.items()}
    out["offset"] = np.full(len(rows), -1, dtype=np.int64)
    return out


def _read_header(path: Path) -> tuple[dict, dict]:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise StoreError(f"{path} is not a readable HDF5 file ({e})") from None
    with f:
        attrs = dict(f.attrs)
        if attrs.get("format") != FORMAT:
            raise StoreError(f"{path} is an HDF5 file but not an slr-pose store")
        version = int(attrs.get("schema_version", -1))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} has store schema {version}; this slr-pose {__version__} reads up to {SCHEMA_VERSION}: upgrade slr-pose"
            )
        if version < 1:
            raise StoreError(f"{path} has an unknown store schema version {version}")
        columns = {}
        for c, kind in {**COLUMNS, "offset": "i8"}.items():
            ds = f["samples"].get(c)
            if ds is None:
                raise StoreError(f"{path} lacks the sample column {c!r}")
            columns[c] = np.asarray(ds.asstr()[()] if kind == "str" else ds[()], dtype=_column_dtype(kind))
        attrs["landmark_names"] = [str(n) for n in attrs["landmark_names"]]
    return attrs, columns


# --------------------------------------------------------------------------- journal


def _write_journal(directory: Path, sample: Sample) -> Path:
    # time first: sorted names replay samples in the order they were added
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".{name}.tmp"
    final = directory / f"{name}.npz"
    with open(tmp, "wb") as fh:
        np.savez(
            fh,
            info=np.array(json.dumps(asdict(sample.info))),
            xyz=sample.xyz.astype(np.float32, copy=False),
            confidence=sample.confidence.astype(np.float32, copy=False),
            missing=sample.missing.astype(bool, copy=False),
            time=sample.time.astype(np.float32, copy=False),
        )
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def _journal_info(path: Path) -> SampleInfo:
    try:
        with np.load(path) as z:
            return SampleInfo(**json.loads(str(z["info"])))
    except Exception as e:  # noqa: BLE001 - any damage means "not a finished sample"
        raise StoreError(f"journal entry {path.name} is damaged ({e})") from None


def _read_journal(path: Path) -> Sample:
    with np.load(path) as z:
        info = SampleInfo(**json.loads(str(z["info"])))
        return Sample(info, z["xyz"], z["confidence"], z["missing"], z["time"])


def _journal_header(path: Path) -> dict:
    header = path.parent / "header.json"
    try:
        return json.loads(header.read_text())
    except (OSError, ValueError):
        raise StoreError(f"journal {path.parent} has no readable header.json") from None


# --------------------------------------------------------------------------- writing


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
        self.journal = _journal_dir(self.path)
        self.journal.mkdir(exist_ok=True)
        self._lock = open(self.journal / "lock", "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._lock.close()
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"{self.path} is being written by another process") from None
            raise
        try:
            self._open(dict(provenance))
        except BaseException:
            self._release()
            raise

    def _open(self, provenance: dict) -> None:
        self._ids: dict[str, str] = {}  # id -> sha256 of everything stored or journaled
        if self.path.exists():
            attrs, columns = _read_header(self.path)
            stored = json.loads(attrs["provenance"])
            if tuple(attrs["landmark_names"]) != self.layout.names:
                raise StoreError(
                    f"{self.path} holds layout {attrs['layout']!r}, not {self.layout.name!r}: write to a new store"
                )
            if stored.get("extractor") != provenance["extractor"]:
                raise StoreError(
                    f"{self.path} was made with {_describe(stored.get('extractor'))}, "
                    f"not {_describe(provenance['extractor'])}: write to a new store"
                )
            self.provenance = stored
            self._ids.update(zip(columns["id"].tolist(), columns["sha256"].tolist()))
        else:
            self.provenance = {**provenance, "slr_pose_version": __version__, "created": _now()}
        header = {
            "layout": self.layout.name,
            "landmark_names": list(self.layout.names),
            "provenance": json.dumps(self.provenance),
        }
        (self.journal / "header.json").write_text(json.dumps(header))
        for tmp in self.journal.glob(".*.tmp"):
            tmp.unlink()  # cut short by a kill: never a finished sample
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink()
        self._journaled: list[Path] = []
        for p in sorted(self.journal.glob("*.npz")):
            try:
                info = _journal_info(p)
            except StoreError:
                p.unlink()
                continue
            if info.id in self._ids:
                p.unlink()  # committed just before a kill removed it
                continue
            self._ids[info.id] = info.sha256
            self._journaled.append(p)
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
        sample.check(self.layout)
        if sample.info.id in self._ids:
            raise StoreError(f"sample id {sample.info.id!r} is already in {self.path}")
        sample = replace(sample, info=replace(sample.info, length=len(sample.xyz)))
        self._journaled.append(_write_journal(self.journal, sample))
        self._ids[sample.info.id] = sample.info.sha256
        if self.commit_every and len(self._journaled) >= self.commit_every:
            self.commit()

    def commit(self) -> int:
        """Fold the journal into the store; returns the number of samples added."""
        if not self._journaled and self.path.exists():
            return 0
        samples = [_read_journal(p) for p in self._journaled]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            if self.path.exists():
                shutil.copyfile(self.path, tmp)
            else:
                _create(tmp, self.layout, self.provenance)
            _append(tmp, samples)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        for p in self._journaled:
            p.unlink(missing_ok=True)
        added, self._journaled = len(self._journaled), []
        return added

    def close(self) -> None:
        if self._lock.closed:
            return
        try:
            self.commit()
        finally:
            for name in ("header.json", "lock"):
                (self.journal / name).unlink(missing_ok=True)
            try:
                self.journal.rmdir()
            except OSError:
                pass  # something else left there: keep it rather than guess
            self._release()

    def _release(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def _describe(extractor: Any) -> str:
    if not isinstance(extractor, dict):
        return "an unknown extractor"
    settings = ", ".join(f"{k}={v}" for k, v in sorted(extractor.get("settings", {}).items()))
    return f"{extractor.get('backend')} ({settings})"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path, layout: Layout, provenance: dict) -> None:
    import h5py

    v, g = layout.num_landmarks, len(layout.groups)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["layout"] = layout.name
        f.attrs["landmark_names"] = np.array(layout.names, dtype=h5py.string_dtype())
        f.attrs["groups"] = np.array(layout.groups, dtype=h5py.string_dtype())
        f.attrs["provenance"] = json.dumps(provenance)
        frames = f.create_group("frames")
        for name, shape, dtype in (
            ("xyz", (v, 3), np.float32),
            ("confidence", (v,), np.float32),
            ("missing", (g,), bool),
            ("time", (), np.float32),
        ):
            frames.create_dataset(
                name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                chunks=(CHUNK_FRAMES, *shape), **COMPRESSION,
            )
        samples = f.create_group("samples")
        for c in ("offset", *COLUMNS):
            samples.create_dataset(c, data=np.zeros(0, dtype=_dtype(COLUMNS.get(c, "i8"))), maxshape=(None,))


def _dtype(kind: str):
    import h5py

    return h5py.string_dtype() if kind == "str" else np.dtype(kind)


def _append(path: Path, samples: list[Sample]) -> None:
    import h5py

    with h5py.File(path, "r+") as f:
        frames = f["frames"]
        start = frames["xyz"].shape[0]
        total = start + sum(len(s.xyz) for s in samples)
        for name in ("xyz", "confidence", "missing", "time"):
            ds = frames[name]
            ds.resize(total, axis=0)
            if samples:
                ds[start:total] = np.concatenate([getattr(s, name) for s in samples])
        cols = f["samples"]
        offsets = start + np.cumsum([0] + [len(s.xyz) for s in samples[:-1]])
        new = {"offset": offsets.astype(np.int64)} if samples else {"offset": np.zeros(0, np.int64)}
        for c in COLUMNS:
            new[c] = [getattr(s.info, c) for s in samples]
        for c, values in new.items():
            ds = cols[c]
            n = ds.shape[0]
            ds.resize(n + len(values), axis=0)
            if len(values):
                ds[n:] = np.asarray(values, dtype=object if COLUMNS.get(c) == "str" else ds.dtype)
        prov = json.loads(f.attrs["provenance"])
        prov["modified"] = _now()
        f.attrs["provenance"] = json.dumps(prov)
