"""Reading a store: :class:`PoseStore`, and the structural checks made when a store opens.

Every reader checks the cheap invariants when a store opens (dataset shapes
and dtypes, column lengths, offsets within the frames, lengths, ids, layout
and provenance) and turns any HDF5 or JSON failure into one
:class:`StoreError` line naming the store and, where known, the sample.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from slr_pose import __version__
from slr_pose.errors import StoreError
from slr_pose.keypoints.store.journal import (
    journal_dir,
    journal_header,
    journal_info,
    read_journal,
)
from slr_pose.keypoints.store.sample import COLUMNS, Sample, SampleInfo
from slr_pose.keypoints.store.schema import (
    FORMAT,
    FRAME_DATASETS,
    FRAME_DTYPES,
    H5_ERRORS,
    OLDEST_SCHEMA,
    SCHEMA_VERSION,
    STORE_COLUMNS,
    StoreHeader,
    column_dtype,
    column_values,
    error_reason,
    frame_tail,
    is_text,
    parse_layout,
    parse_provenance,
    text_values,
)

#: Bytes of decompressed frames a reader keeps in memory (per process): the whole store when it fits
#: (1600 clips of 30 frames at the contour layout take 156 MB), else HDF5's chunk cache of this size.
CACHE_BYTES = 1 << 30
_CACHE_SLOTS = 1_000_003  # a prime well above the chunks that fit, as HDF5 asks


class PoseStore:
    """Read access to a store (and to the journal of an interrupted write).

    Random access by index or id; safe to hand to a torch ``DataLoader`` with
    worker processes (each process opens its own HDF5 handle on first read).
    A store that fails its structural checks is refused when it opens; a
    sample whose chunks cannot be read is one :class:`StoreError` when read.

    Reading is bounded by decompression, not by HDF5 calls: a store whose
    frames fit in ``cache_bytes`` (decompressed) is read into memory in one
    pass on the first read (each chunk decompressed once), and every later
    read is a slice of those arrays (``benchmarks/store_layout.py``). A larger
    store is read chunk by chunk through an HDF5 chunk cache of that size.

    Example::

        store = PoseStore("poses.h5")
        sample = store.read(store.index_of("doctor_001"))
        sample.xyz.shape   # (T, V, 3)
    """

    def __init__(self, path: str | os.PathLike, *, cache_bytes: int = CACHE_BYTES) -> None:
        self.path = Path(path)
        self.cache_bytes = cache_bytes
        self._h5 = None
        self._pid = None
        self._frames: dict[str, np.ndarray] | None = None  # the four frame datasets, in memory
        journal = sorted(journal_dir(self.path).glob("*.npz"))
        if not self.path.exists() and not journal:
            raise StoreError(f"no pose store at {self.path}")
        if self.path.exists():
            header, columns = read_header(self.path)
        else:
            header, columns = journal_header(journal[0]), empty_columns()
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
                info = journal_info(p)
            except StoreError:
                continue  # a file cut short cannot be a finished sample
            if info.id not in known:
                known.add(info.id)
                self._pending.append(p)
                rows.append(info)
        if rows:
            extra = columns_of(rows)
            columns = {c: np.concatenate([columns[c], extra[c]]) for c in columns}
        self._columns = columns
        self._index = {sid: i for i, sid in enumerate(self._columns["id"].tolist())}

    # -- pickling for DataLoader workers: never ship an open HDF5 handle
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_h5"], state["_pid"], state["_frames"] = None, None, None
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
                self._h5 = h5py.File(self.path, "r", rdcc_nbytes=self.cache_bytes, rdcc_nslots=_CACHE_SLOTS)
            except OSError as e:
                raise StoreError(f"{self.path} cannot be opened ({error_reason(e)})") from None
            self._pid = os.getpid()
            self._frames = self._load_frames(self._h5)
        return self._h5

    def _load_frames(self, f) -> dict[str, np.ndarray] | None:
        """Every frame dataset decompressed, when all fit in ``cache_bytes``; None to read chunk by chunk.

        A store with a damaged chunk is read chunk by chunk, so that only the
        samples on that chunk fail.
        """
        try:
            datasets = {name: f["frames"][name] for name in FRAME_DATASETS}
            size = sum(ds.size * ds.dtype.itemsize for ds in datasets.values())
            if size > self.cache_bytes:
                return None
            return {name: ds[()] for name, ds in datasets.items()}
        except H5_ERRORS:
            return None

    def read(self, i: int) -> Sample:
        """All arrays of sample ``i``."""
        info = self.info(i)
        i = i % len(self)
        if i >= self._stored:
            return read_journal(self._pending[i - self._stored], self.layout)
        off = int(self._columns["offset"][i])
        sl = slice(off, off + info.length)
        f = self._file()
        if self._frames is not None:
            return Sample(info, *(self._frames[name][sl].copy() for name in FRAME_DATASETS), layout=self.layout)
        try:
            arrays = [f["frames"][name][sl] for name in FRAME_DATASETS]
        except H5_ERRORS as e:
            raise StoreError(
                f"{self.path}: sample {info.id!r} cannot be read ({error_reason(e)}); "
                f"'slr-pose verify {self.path}' lists the damage"
            ) from None
        return Sample(info, *arrays, layout=self.layout)

    def missing_mask(self) -> np.ndarray:
        """``(F, G)`` bool missing mask of every stored frame, journal included."""
        parts = []
        if self._stored:
            try:
                f = self._file()
                parts.append(self._frames["missing"].copy() if self._frames is not None else f["frames/missing"][:])
            except H5_ERRORS as e:
                raise StoreError(
                    f"{self.path}: frames/missing cannot be read ({error_reason(e)}); "
                    f"'slr-pose verify {self.path}' lists the damage"
                ) from None
        parts += [read_journal(p).missing for p in self._pending]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.layout.groups)), bool)

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None
        self._frames = None


def empty_columns() -> dict[str, np.ndarray]:
    return columns_of([])


def columns_of(rows: list[SampleInfo]) -> dict[str, np.ndarray]:
    """Metadata columns (and the store's own: ``offset`` -1, no checksum) of ``rows`` as numpy arrays."""
    out = {c: np.array([getattr(r, c) for r in rows], dtype=column_dtype(k)) for c, k in COLUMNS.items()}
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
    if not is_text(attrs.get("format"), FORMAT):
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
    layout = parse_layout(texts["layout"][0], texts["landmark_names"], path)
    groups = tuple(texts["groups"])
    if groups != layout.groups:
        raise StoreError(f"{path}: root attribute 'groups' {list(groups)} does not match its landmarks {list(layout.groups)}")
    provenance = parse_provenance(texts["provenance"][0], path)
    frames = None
    for name in FRAME_DATASETS:
        ds = f.get(f"frames/{name}")
        if ds is None or not hasattr(ds, "shape"):
            raise StoreError(f"{path} lacks the dataset frames/{name}; 'slr-pose verify {path}' lists what can be saved")
        tail = frame_tail(name, layout)
        if ds.shape[1:] != tail or ds.dtype != FRAME_DTYPES[name]:
            raise StoreError(
                f"{path}: frames/{name} has shape {ds.shape} and dtype {ds.dtype}, "
                f"layout {layout.name!r} needs (F, {', '.join(map(str, tail))}) {np.dtype(FRAME_DTYPES[name])}"
            )
        if frames is not None and ds.shape[0] != frames:
            raise StoreError(f"{path}: frames/{name} holds {ds.shape[0]} frames, frames/xyz {frames}")
        frames = ds.shape[0]
    return StoreHeader(layout, provenance, version, int(frames))


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
