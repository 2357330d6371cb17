"""The pose store: landmarks of many samples in one versioned HDF5 file.

Schema (version 2; the README's "Pose store" section documents it for users)::

    /                     attrs: format="slr-pose-store", schema_version=2,
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
    /samples/landmarks_sha256  (N,) str      SHA-256 of the sample's stored arrays
                                             (schema 2; ``slr-pose verify`` checks it)

Schema 1 stores (no ``landmarks_sha256``) are read as they are; the next write
upgrades them, computing the checksums of the samples they hold.

Every reader checks the cheap structural invariants when a store opens (dataset
shapes, column lengths, offsets within the frames, lengths, ids, layout and
provenance) and turns any HDF5 or JSON failure into one :class:`StoreError`
line naming the store and, where known, the sample.

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
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from slr_pose import __version__
from slr_pose.errors import LayoutError, StoreError
from slr_pose.keypoints.layout import Layout
from slr_pose.outputs import check_store_output, failed_write_reason, fsync_path, no_space

FORMAT = "slr-pose-store"
SCHEMA_VERSION = 2
#: The oldest schema this version reads (and upgrades on its next write).
OLDEST_SCHEMA = 1

#: Frame datasets, their dtypes and their shape after the frame axis
#: (V landmarks, G groups).
FRAME_DATASETS = ("xyz", "confidence", "missing", "time")
FRAME_DTYPES = {"xyz": np.float32, "confidence": np.float32, "missing": np.bool_, "time": np.float32}

#: Failures h5py raises for damaged files; readers turn them into StoreError.
H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError)

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
#: Columns the store keeps besides the metadata: where each sample's frames
#: start, and the checksum of its stored arrays (schema 2).
STORE_COLUMNS: dict[str, str] = {"offset": "i8", "landmarks_sha256": "str"}


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


def landmarks_sha256(sample: Sample) -> str:
    """SHA-256 of a sample's arrays as the store keeps them (dtype, shape and bytes)."""
    h = hashlib.sha256()
    for name in FRAME_DATASETS:
        a = np.ascontiguousarray(getattr(sample, name), dtype=FRAME_DTYPES[name])
        h.update(f"{name}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def error_reason(e: BaseException) -> str:
    """A foreign exception's message on one short line."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _journal_dir(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class StoreHeader:
    """What a store's root attributes say, parsed and checked."""

    layout: Layout
    provenance: dict
    schema_version: int
    frames: int  # F, stored frames in all


class PoseStore:
    """Read access to a store (and to the journal of an interrupted write).

    Random access by index or id; safe to hand to a torch ``DataLoader`` with
    worker processes (each process opens its own HDF5 handle on first read).
    A store that fails its structural checks is refused when it opens; a
    sample whose chunks cannot be read is one :class:`StoreError` when read.

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
            header, columns = read_header(self.path)
        else:
            header, columns = _journal_header(journal[0]), _empty_columns()
        self.layout = header.layout
        self.provenance: dict[str, Any] = header.provenance
        self.schema_version = header.schema_version
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

    def stored_sha256(self, i: int) -> str:
        """The checksum stored with sample ``i`` ("" in a schema 1 store and for journaled samples)."""
        return str(self._columns["landmarks_sha256"][i])

    def _file(self):
        import h5py

        if self._h5 is None or self._pid != os.getpid():
            try:
                self._h5 = h5py.File(self.path, "r")
            except OSError as e:
                raise StoreError(f"{self.path} cannot be opened ({error_reason(e)})") from None
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
        try:
            arrays = [f["frames"][name][sl] for name in FRAME_DATASETS]
        except H5_ERRORS as e:
            raise StoreError(
                f"{self.path}: sample {info.id!r} cannot be read ({error_reason(e)}); "
                f"'slr-pose verify {self.path}' lists the damage"
            ) from None
        return Sample(info, *arrays)

    def missing_mask(self) -> np.ndarray:
        """``(F, G)`` bool missing mask of every stored frame, journal included."""
        parts = []
        if self._stored:
            try:
                parts.append(self._file()["frames/missing"][:])
            except H5_ERRORS as e:
                raise StoreError(
                    f"{self.path}: frames/missing cannot be read ({error_reason(e)}); "
                    f"'slr-pose verify {self.path}' lists the damage"
                ) from None
        parts += [_read_journal(p).missing for p in self._pending]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.layout.groups)), bool)

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None


_KIND_NAMES = {"i8": "whole numbers", "f4": "numbers", "str": "text"}


def column_values(ds, kind: str) -> np.ndarray:
    """A sample column read as its kind (see :data:`COLUMNS`); ValueError when the dataset holds another."""
    if ds.ndim != 1:
        raise ValueError(f"shape {ds.shape}, not (N,)")
    if ds.dtype.kind not in {"str": "OSU", "i8": "iu", "f4": "iuf"}[kind]:
        raise ValueError(f"it holds {ds.dtype}, not {_KIND_NAMES[kind]}")
    return np.asarray(ds.asstr()[()] if kind == "str" else ds[()], dtype=_column_dtype(kind))


def _column_dtype(kind: str):
    return object if kind == "str" else np.dtype(kind)


def _empty_columns() -> dict[str, np.ndarray]:
    return _columns_of([])


def _columns_of(rows: list[SampleInfo]) -> dict[str, np.ndarray]:
    """Metadata columns (and the store's own: ``offset`` -1, no checksum) of ``rows`` as numpy arrays."""
    out = {c: np.array([getattr(r, c) for r in rows], dtype=_column_dtype(k)) for c, k in COLUMNS.items()}
    out["offset"] = np.full(len(rows), -1, dtype=np.int64)
    out["landmarks_sha256"] = np.array([""] * len(rows), dtype=object)
    return out


def read_header(path: str | os.PathLike) -> tuple[StoreHeader, dict[str, np.ndarray]]:
    """The parsed root attributes and every sample column of the store at ``path``, checked.

    Raises:
        StoreError: not an HDF5 file, not a store, a schema this version does
            not read, or any structural invariant broken (one line naming it).
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise StoreError(f"{path} is not a readable HDF5 file ({error_reason(e)})") from None
    try:
        with f:
            header = _parse_attrs(f, path)
            columns = _read_columns(f, path, header)
    except StoreError:
        raise
    except H5_ERRORS as e:
        raise StoreError(f"{path} is damaged ({error_reason(e)}); 'slr-pose verify {path}' lists what can be saved") from None
    check_columns(path, columns, header.frames)
    return header, columns


def _parse_attrs(f, path: Path) -> StoreHeader:
    attrs = f.attrs
    if not _is_text(attrs.get("format"), FORMAT):
        raise StoreError(f"{path} is an HDF5 file but not an slr-pose store")
    try:
        version = int(attrs.get("schema_version", -1))
    except (TypeError, ValueError):
        version = -1
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema {version}; this slr-pose {__version__} reads up to {SCHEMA_VERSION}: upgrade slr-pose"
        )
    if version < OLDEST_SCHEMA:
        raise StoreError(f"{path} has an unknown store schema version {attrs.get('schema_version')!r}")
    for key in ("layout", "landmark_names", "groups", "provenance"):
        if key not in attrs:
            raise StoreError(f"{path} lacks the root attribute {key!r}")
    texts = {key: text_values(attrs[key]) for key in ("layout", "landmark_names", "groups", "provenance")}
    bad = [key for key, v in texts.items() if v is None or (key in ("layout", "provenance") and len(v) != 1)]
    if bad:
        raise StoreError(f"{path}: the root attribute {bad[0]!r} is damaged; 'slr-pose verify {path}' lists what can be saved")
    layout = _layout_of(texts["layout"][0], texts["landmark_names"], path)
    groups = tuple(texts["groups"])
    if groups != layout.groups:
        raise StoreError(f"{path}: root attribute 'groups' {list(groups)} does not match its landmarks {list(layout.groups)}")
    provenance = _provenance_of(texts["provenance"][0], path)
    frames = None
    for name in FRAME_DATASETS:
        ds = f.get(f"frames/{name}")
        if ds is None or not hasattr(ds, "shape"):
            raise StoreError(f"{path} lacks the dataset frames/{name}; 'slr-pose verify {path}' lists what can be saved")
        tail = _frame_tail(name, layout)
        if ds.shape[1:] != tail or ds.dtype != FRAME_DTYPES[name]:
            raise StoreError(
                f"{path}: frames/{name} has shape {ds.shape} and dtype {ds.dtype}, "
                f"layout {layout.name!r} needs (F, {', '.join(map(str, tail))}) {np.dtype(FRAME_DTYPES[name])}"
            )
        if frames is not None and ds.shape[0] != frames:
            raise StoreError(f"{path}: frames/{name} holds {ds.shape[0]} frames, frames/xyz {frames}")
        frames = ds.shape[0]
    return StoreHeader(layout, provenance, version, int(frames))


def text_values(value: Any) -> list[str] | None:
    """An attribute's strings (one for a scalar), or None when it holds anything else or undecodable bytes."""
    values = list(np.atleast_1d(np.asarray(value, dtype=object))) if not isinstance(value, str) else [value]
    if not all(isinstance(v, str) for v in values):
        return None
    try:
        for v in values:
            v.encode("utf-8")  # h5py decodes damaged UTF-8 to lone surrogates
    except UnicodeEncodeError:
        return None
    return values


def _is_text(value: Any, text: str) -> bool:
    """``value == text`` for an attribute that may hold anything (an array compares element-wise)."""
    return isinstance(value, str) and value == text


def _layout_of(name: str, names: list[str], path: Path) -> Layout:
    try:
        return Layout(name, tuple(names))
    except LayoutError as e:
        raise StoreError(f"{path}: its landmark names are damaged ({e})") from None


def _provenance_of(text: Any, path: Path) -> dict:
    try:
        prov = json.loads(text)
    except (TypeError, ValueError) as e:
        raise StoreError(f"{path}: its provenance is not valid JSON ({error_reason(e)})") from None
    if not isinstance(prov, dict) or not isinstance(prov.get("extractor"), dict):
        raise StoreError(f"{path}: its provenance has no 'extractor' entry")
    return prov


def _frame_tail(name: str, layout: Layout) -> tuple[int, ...]:
    v, g = layout.num_landmarks, len(layout.groups)
    return {"xyz": (v, 3), "confidence": (v,), "missing": (g,), "time": ()}[name]


def _read_columns(f, path: Path, header: StoreHeader) -> dict[str, np.ndarray]:
    group = f.get("samples")
    if group is None:
        raise StoreError(f"{path} lacks the group 'samples'")
    columns = {}
    for c, kind in {**COLUMNS, **STORE_COLUMNS}.items():
        ds = group.get(c)
        if ds is None and c == "landmarks_sha256" and header.schema_version == 1:
            continue  # filled in below: schema 1 had no checksums
        if ds is None or not hasattr(ds, "shape"):
            raise StoreError(f"{path} lacks the sample column {c!r}")
        try:
            columns[c] = column_values(ds, kind)
        except ValueError as e:
            raise StoreError(f"{path}: sample column {c!r} is damaged ({e})") from None
    if "landmarks_sha256" not in columns:
        columns["landmarks_sha256"] = np.array([""] * len(columns["id"]), dtype=object)
    return columns


def check_columns(path: str | os.PathLike, columns: Mapping[str, np.ndarray], frames: int) -> None:
    """Raise :class:`StoreError` unless the sample columns are consistent with each other and the frames."""
    sizes = {c: len(v) for c, v in columns.items()}
    n = sizes["id"]
    odd = {c: k for c, k in sizes.items() if k != n}
    if odd:
        c, k = next(iter(odd.items()))
        raise StoreError(f"{path}: sample columns disagree in length (id has {n} rows, {c} {k})")
    ids, offset, length = columns["id"], columns["offset"], columns["length"]

    def first(mask: np.ndarray, what) -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            i = int(bad[0])
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise StoreError(f"{path}: sample {ids[i]!r} {what(i)}{more}")

    if n and not all(isinstance(x, str) and x for x in ids.tolist()):
        raise StoreError(f"{path}: a sample has an empty id")
    if len(set(ids.tolist())) != n:
        values, counts = np.unique(ids.astype(str), return_counts=True)
        raise StoreError(f"{path}: sample id {values[counts > 1][0]!r} is stored twice")
    first(length < 1, lambda i: f"has length {length[i]} (a sample has at least one frame)")
    first((offset < 0) | (offset + length > frames),
          lambda i: f"owns frames {offset[i]}:{offset[i] + length[i]}, outside the {frames} stored frames")
    first((columns["width"] < 0) | (columns["height"] < 0), lambda i: "has a negative frame size")


# --------------------------------------------------------------------------- journal


def _write_journal(directory: Path, sample: Sample) -> Path:
    # time first: sorted names replay samples in the order they were added
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".{name}.tmp"
    final = directory / f"{name}.npz"
    try:
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
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"cannot add sample {sample.info.id!r} to {directory} ({failed_write_reason(e)}); "
            "every sample added before it is kept"
        ) from None
    return final


def _journal_info(path: Path) -> SampleInfo:
    try:
        with np.load(path) as z:
            return SampleInfo(**json.loads(str(z["info"])))
    except Exception as e:  # noqa: BLE001 - any damage means "not a finished sample"
        raise StoreError(f"journal entry {path.name} is damaged ({error_reason(e)})") from None


def _read_journal(path: Path) -> Sample:
    try:
        with np.load(path) as z:
            info = SampleInfo(**json.loads(str(z["info"])))
            return Sample(info, z["xyz"], z["confidence"], z["missing"], z["time"])
    except Exception as e:  # noqa: BLE001 - a damaged entry is one line, never a traceback
        raise StoreError(f"journal entry {path} is damaged ({error_reason(e)})") from None


def _journal_header(path: Path) -> StoreHeader:
    header = path.parent / "header.json"
    try:
        raw = json.loads(header.read_text())
        names, name = raw["landmark_names"], raw["layout"]
    except (OSError, ValueError, KeyError, TypeError):
        raise StoreError(f"journal {path.parent} has no readable header.json") from None
    return StoreHeader(_layout_of(str(name), list(names), header), _provenance_of(raw.get("provenance"), header), SCHEMA_VERSION, 0)


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
        check_store_output(self.path)  # a file of another kind is never turned into a store
        self.journal = _journal_dir(self.path)
        made_journal = not self.journal.exists()
        try:
            self.journal.mkdir(exist_ok=True)
            self._lock = open(self.journal / "lock", "a+")
        except OSError as e:
            raise StoreError(f"cannot write beside {self.path} ({failed_write_reason(e)})") from None
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
            if made_journal:  # refused before anything was journaled: leave no trace
                self._remove_journal_dir()
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
            self.provenance = {**provenance, "slr_pose_version": __version__, "created": _now()}
        header = {
            "layout": self.layout.name,
            "landmark_names": list(self.layout.names),
            "provenance": json.dumps(self.provenance),
        }
        try:
            (self.journal / "header.json").write_text(json.dumps(header))
        except OSError as e:
            raise StoreError(f"cannot write beside {self.path} ({failed_write_reason(e)})") from None
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
        """Fold the journal into the store; returns the number of samples added.

        Nothing journaled and no store yet: nothing is created (an extraction
        where every input failed leaves no empty store behind).
        """
        if not self._journaled:
            return 0
        samples = [_read_journal(p) for p in self._journaled]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            if self.path.exists():
                shutil.copyfile(self.path, tmp)
            else:
                _create(tmp, self.layout, self.provenance)
            _reserve(tmp, _growth(samples, os.path.getsize(tmp)))
            _append(tmp, samples, self.path)
            fsync_path(tmp)
            os.replace(tmp, self.path)
            fsync_path(self.path.parent)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            if not no_space(e):
                raise StoreError(f"cannot commit to {self.path} ({error_reason(e)}); the store is unchanged") from None
            raise StoreError(
                f"no space left to commit to {self.path}: the store is unchanged and the "
                f"{len(samples)} new samples wait in {self.journal}; free space and run the command again"
            ) from None
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
            if not self._journaled:  # a failed commit keeps its journal (and header) for the rerun
                self._remove_journal_dir()
            self._release()

    def _remove_journal_dir(self) -> None:
        for name in ("header.json", "lock"):
            (self.journal / name).unlink(missing_ok=True)
        try:
            self.journal.rmdir()
        except OSError:
            pass  # something else left there: keep it rather than guess

    def _release(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


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
            shape = _frame_tail(name, layout)
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


def _reserve(path: Path, extra: int) -> None:
    """Allocate ``extra`` bytes past the end of ``path`` before HDF5 writes there.

    HDF5 cannot recover from a write that fails for lack of space (it may
    crash the process while closing the file), so the space is claimed first,
    where a full disk is one clean ``OSError``. HDF5 writes inside the claimed
    blocks and truncates the file to its real end when it closes it.
    """
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size + extra)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system that cannot reserve: write as before
            raise
    finally:
        os.close(fd)


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
        prov["modified"] = _now()
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
