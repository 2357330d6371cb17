"""Plain NumPy arrays of landmarks, described by a column-layout spec.

Many datasets and tutorials keep MediaPipe landmarks as one flat vector per
frame. A *spec* says which landmarks and channels those columns hold::

    spec     := block ("," block)*
    block    := GROUP [ "[" RANGE "]" ] ":" CHANNELS   |   "skip:" N
    GROUP    := pose | left_hand | right_hand | face
    RANGE    := START ":" STOP   (MediaPipe landmark indices, STOP excluded)
              | INDEX            (one landmark)
    CHANNELS := letters, one per value of each landmark, in column order:
                x, y (required), z, v (visibility, stored as confidence),
                _ (a value to ignore)
    skip:N   := N columns to ignore

A block without a range covers the whole group (pose 33, hands 21, face 468;
``face[468:478]`` are the refined iris points, which no store layout keeps).
Within a block the values run landmark by landmark (``x0 y0 z0 x1 y1 z1 ...``),
which is what ``np.array([[p.x, p.y, p.z] for p in landmarks]).flatten()``
writes. Blocks follow each other in column order. Without a ``z`` channel z is
stored as 0; without ``v`` confidence is 1 for present landmarks.

Presets (``--spec NAME``):

=============  =====  ==========================================================
``msl150``      226   ``pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz`` (MSL-150 keypoints)
``1662``       1662   ``pose:xyzv,face:xyz,left_hand:xyz,right_hand:xyz``
                      (the common MediaPipe-LSTM tutorial layout)
``258``         258   ``pose:xyzv,left_hand:xyz,right_hand:xyz`` (the same without the face)
``kaggle543``  1629   ``face:xyz,left_hand:xyz,pose:xyz,right_hand:xyz``
                      (Kaggle asl-signs frames, e.g. arrays of shape (T, 543, 3))
=============  =====  ==========================================================

With ``zero_is_missing`` (the default) a block whose values are all zero in a
frame means "not detected" there, as those layouts write it; NaN always means
missing.

Inputs: ``.npy`` files of shape ``(T, D)`` or ``(T, V, C)`` (one sample each,
id = file name, see :func:`~slr_pose.keypoints.importers.file_inputs`), or
``.npz`` files that hold either one stacked array ``(N, T, D)`` /
``(N, T, V, C)`` with optional per-sample label and id arrays (as
``data/msl150/keypoints_sample.npz``: ``keypoints``, ``label``,
``sample_id``), or one ``(T, D)`` array per sample, each named by its id.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from tokenize import TokenError
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.importers.core import (
    Candidate,
    Geometry,
    assemble,
    file_inputs,
    member_sha256,
    provenance,
    source_index,
)
from slr_pose.keypoints.inputs import file_sha256
from slr_pose.keypoints.layout import Layout, face_detail
from slr_pose.keypoints.store import Sample, SampleInfo, error_reason

PRESETS = {
    "msl150": "pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz",
    "1662": "pose:xyzv,face:xyz,left_hand:xyz,right_hand:xyz",
    "258": "pose:xyzv,left_hand:xyz,right_hand:xyz",
    "kaggle543": "face:xyz,left_hand:xyz,pose:xyz,right_hand:xyz",
}

#: Landmarks per group a spec may name (the face with MediaPipe's 10 refined iris points).
GROUP_SIZES = {"pose": len(mpn.POSE_NAMES), "left_hand": 21, "right_hand": 21, "face": 478}
_FULL = {"face": mpn.NUM_FACE_MESH}  # a face block without range: the 468-point mesh
_BLOCK = re.compile(r"^(?P<group>[A-Za-z_]+)(?:\[(?P<range>[^\]]*)\])?:(?P<channels>[^:]*)$")
#: Keys of a stacked ``.npz`` tried for the per-sample labels and ids, in order.
LABEL_KEYS = ("label", "labels", "y")
ID_KEYS = ("sample_id", "sample_ids", "id", "ids")


def _landmark_name(group: str, i: int) -> str:
    if group == "pose":
        return "pose/" + mpn.POSE_NAMES[i]
    if group == "face":
        return f"face/{i}"
    return f"{group}/{mpn.HAND_NAMES[i]}"


@dataclass(frozen=True)
class Block:
    """A run of columns: landmarks ``start:stop`` of ``group``, ``channels`` each (group ``skip``: ignored)."""

    group: str
    start: int
    stop: int
    channels: str

    @property
    def width(self) -> int:
        return (self.stop - self.start) * len(self.channels)

    def __str__(self) -> str:
        if self.group == "skip":
            return f"skip:{self.width}"
        full = self.start == 0 and self.stop == _FULL.get(self.group, GROUP_SIZES[self.group])
        rng = "" if full else f"[{self.start}]" if self.stop == self.start + 1 else f"[{self.start}:{self.stop}]"
        return f"{self.group}{rng}:{self.channels}"


@dataclass(frozen=True)
class ColumnSpec:
    """A parsed spec: which landmark and channel each column of a frame vector holds."""

    blocks: tuple[Block, ...]

    @classmethod
    def parse(cls, text: str) -> "ColumnSpec":
        """Parse a spec or a preset name.

        Raises:
            SlrPoseError: naming the bad token.
        """
        text = PRESETS.get(text.strip(), text)
        blocks: list[Block] = []
        seen: dict[str, str] = {}
        for token in (t.strip() for t in text.split(",")):
            block = _parse_block(token)
            blocks.append(block)
            for i in range(block.start, block.stop) if block.group != "skip" else ():
                name = _landmark_name(block.group, i)
                if name in seen:
                    raise SlrPoseError(f"spec block {token!r} repeats {name}, already in {seen[name]!r}")
                seen[name] = token
        if not seen:
            raise SlrPoseError(f"spec {text!r} names no landmarks")
        return cls(tuple(blocks))

    def __str__(self) -> str:
        return ",".join(map(str, self.blocks))

    @property
    def width(self) -> int:
        """Values per frame."""
        return sum(b.width for b in self.blocks)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Source landmarks as ``"group/NAME"`` in column order (iris points as ``face/468`` ...)."""
        return tuple(_landmark_name(b.group, i) for b in self.blocks if b.group != "skip" for i in range(b.start, b.stop))

    @cached_property
    def _columns(self) -> tuple[np.ndarray, list[tuple[slice, slice]]]:
        """``(S, 4)`` column of x, y, z, v per landmark (-1: absent) and each block's (landmark, column) slices."""
        cols = np.full((len(self.names), 4), -1, dtype=np.int64)
        blocks, col, lm = [], 0, 0
        for b in self.blocks:
            if b.group != "skip":
                n = b.stop - b.start
                for k, ch in enumerate(b.channels):
                    if ch != "_":
                        cols[lm : lm + n, "xyzv".index(ch)] = col + k + np.arange(n) * len(b.channels)
                blocks.append((slice(lm, lm + n), slice(col, col + b.width)))
                lm += n
            col += b.width
        return cols, blocks

    def split(self, frames: np.ndarray, zero_is_missing: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Frame vectors to landmarks.

        Args:
            frames: ``(T, D)`` with ``D == self.width``.
            zero_is_missing: a block that is all zero in a frame is missing there.

        Returns:
            xyz: ``(T, S, 3)`` float32 in :attr:`names` order, NaN where missing.
            visibility: ``(T, S)`` float32, or None when no block has a ``v`` channel.
        """
        with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 become inf: missing
            frames = np.asarray(frames, dtype=np.float32)
        cols, blocks = self._columns
        xyz = frames[:, cols[:, :3].clip(0)]  # (T, S, 3)
        if (cols[:, 2] < 0).any():
            xyz[:, cols[:, 2] < 0, 2] = 0.0  # a 2-D source: z = 0 keeps the landmark present
        vis = None
        if (cols[:, 3] >= 0).any():
            vis = np.where(cols[:, 3] >= 0, frames[:, cols[:, 3].clip(0)], 1.0).astype(np.float32)
        if zero_is_missing:
            for lms, columns in blocks:
                empty = ~frames[:, columns].any(axis=1)  # (T,): NaN counts as non-zero here
                xyz[empty, lms] = np.nan
        return xyz, vis


def _parse_block(token: str) -> Block:
    if token.startswith("skip:"):
        n = token[5:]
        if not (n.isascii() and n.isdigit()) or int(n) == 0:
            raise SlrPoseError(f"spec block {token!r}: skip needs a positive column count, e.g. skip:4")
        return Block("skip", 0, int(n), "_")
    m = _BLOCK.match(token)
    if not m:
        raise SlrPoseError(f"spec block {token!r} is not GROUP[START:STOP]:CHANNELS, e.g. pose[0:25]:xyzv")
    group, rng, channels = m.group("group"), m.group("range"), m.group("channels")
    if group not in GROUP_SIZES:
        raise SlrPoseError(f"spec block {token!r}: unknown group {group!r}; use {', '.join(GROUP_SIZES)} or skip:N")
    size = GROUP_SIZES[group]
    if rng is None:
        start, stop = 0, _FULL.get(group, size)
    else:
        parts = rng.split(":")
        if len(parts) > 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise SlrPoseError(f"spec block {token!r}: range [{rng}] is not [START:STOP] or [INDEX]")
        start = int(parts[0])
        stop = int(parts[1]) if len(parts) == 2 else start + 1
        if not 0 <= start < stop <= size:
            raise SlrPoseError(f"spec block {token!r}: range [{rng}] is not within 0..{size} ({group} has {size} landmarks)")
    bad = sorted(set(channels) - set("xyzv_"))
    counts = {c: channels.count(c) for c in "xyzv"}
    if bad or counts["x"] != 1 or counts["y"] != 1 or counts["z"] > 1 or counts["v"] > 1:
        raise SlrPoseError(
            f"spec block {token!r}: channels {channels!r} must name x and y once, z and v at most once, _ to ignore a value"
        )
    return Block(group, start, stop, channels)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class ArrayOptions:
    """How array files become samples (all fields are documented on the CLI).

    Attributes:
        zero_is_missing: an all-zero block in a frame means "not detected".
        trim: drop leading and trailing frames in which no landmark is present
            (padding of fixed-length arrays).
        array_key: the stacked array of an ``.npz`` (default ``keypoints``, or
            its only array with three or four axes).
        label_key, id_key: per-sample label and id arrays of a stacked ``.npz``
            (defaults: the first of :data:`LABEL_KEYS` / :data:`ID_KEYS` present).
        id_format: sample id of a stacked ``.npz`` entry, a Python format string
            with ``{stem}`` (file name), ``{index}`` (position in the file),
            ``{id}`` and ``{label}``; by default ``{id}`` when the ids are
            unique, else ``{label}_{id}`` when that is unique, else
            ``{stem}_{index}``.
        label: label for samples that have none; ``label_from_folder`` takes
            it from each file's folder name instead.
    """

    zero_is_missing: bool = True
    trim: bool = False
    array_key: str | None = None
    label_key: str | None = None
    id_key: str | None = None
    id_format: str | None = None
    label: str = ""
    label_from_folder: bool = False


def array_candidates(
    paths: Sequence[str | Path],
    spec: ColumnSpec,
    layout: Layout,
    *,
    options: ArrayOptions = ArrayOptions(),
    geometry: Geometry = Geometry(),
    language: str = "",
    split: str = "",
) -> list[Candidate]:
    """Samples held by ``.npy`` / ``.npz`` files (or folders of them).

    Array shapes are checked against ``spec`` from the file headers before
    anything is imported; a stacked array is read once, on first use.

    Raises:
        SlrPoseError: an unreadable file, an array whose width does not match
            ``spec``, ambiguous keys, or duplicate sample ids.
    """
    index = source_index(layout, spec.names)
    found: list[Candidate] = []
    for path, file_id in file_inputs(paths, (".npy", ".npz")):
        label = path.parent.name if options.label_from_folder else options.label
        base = SampleInfo(id=file_id, fps=geometry.fps, width=geometry.width, height=geometry.height,
                          source=str(path), label=label, language=language, split=split)
        if path.suffix.lower() == ".npz":
            entries = _npz_entries(path, spec, options)
        else:
            _check_shape(str(path), _npy_shape(path), spec, stacked=False)
            entries = [(file_id, None, "", {})]
        digest = file_sha256(path)
        source = _Source(path)
        for sid, key, entry_label, meta in entries:
            if not sid:
                raise SlrPoseError(f"{path}: sample {key!r} gets an empty id; set --id-format")
            info = replace(base, id=sid, label=entry_label or base.label, meta=json.dumps(meta) if meta else "")
            sha = digest if key is None else member_sha256(digest, key)
            found.append(Candidate(sid, lambda sha=sha: sha, _loader(source, key, info, sha, spec, layout, index, options)))
    ids = [c.id for c in found]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise SlrPoseError(f"sample id {dup!r} occurs twice in the input; set --id-format")
    return found


#: What numpy and zipfile raise for a damaged file: header parsing (numpy falls back to the
#: tokenizer for old headers), short reads, bad or unsupported zip members (encrypted ones are
#: a RuntimeError, unknown compression a NotImplementedError), a header asking for more memory
#: than there is.
NUMPY_FAILURES = (ValueError, OSError, EOFError, SyntaxError, TokenError, zipfile.BadZipFile, zlib.error,
                  NotImplementedError, RuntimeError, MemoryError)  # fmt: skip


def _numpy_read(read, where: str):
    """Run a numpy read; its refusals become one-line errors naming ``where``."""
    try:
        return read()
    except ValueError as e:
        if "pickle" in str(e).lower():  # never execute code from a data file
            raise SlrPoseError(f"{where} holds objects; save numeric arrays (string arrays for labels and ids)") from None
        raise SlrPoseError(f"{where} is not readable ({error_reason(e)})") from None
    except NUMPY_FAILURES as e:
        raise SlrPoseError(f"{where} is not readable ({error_reason(e)})") from None


def _load(path: Path):
    """``np.load`` without pickles."""
    return _numpy_read(lambda: np.load(path, allow_pickle=False), str(path))


def _member(z, path: Path, key: str) -> np.ndarray:
    """One array of an open ``.npz``."""
    return _numpy_read(lambda: z[key], f"{path} {key!r}")


def _read_header(fh, version: tuple[int, int]):
    """``(shape, fortran_order, dtype)`` of an array header of format ``version``, with numpy 1 or 2.

    Versions 1.0 and 2.0 have public readers; 3.0 (utf-8 field names, rare) only a private one, which
    numpy 2 moved from ``numpy.lib.format`` to ``numpy.lib._format_impl``.
    """
    public = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version in public:
        return public[version](fh)
    private = getattr(np.lib.format, "_read_array_header", None)
    if private is None:
        from numpy.lib import _format_impl

        private = _format_impl._read_array_header
    return private(fh, version)


def _header_shape(fh, where: str, size: int) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an array header, checked against the ``size`` bytes that hold header and data."""
    try:
        version = np.lib.format.read_magic(fh)
        shape, _, dtype = _read_header(fh, version)
    except NUMPY_FAILURES as e:
        raise SlrPoseError(f"{where} is not a readable NumPy array ({error_reason(e)})") from None
    if any(n < 0 for n in shape):
        raise SlrPoseError(f"{where}: the header gives a negative size in shape {shape}")
    # numpy allocates the whole array before reading it: a damaged shape must not ask for terabytes
    need, held = math.prod(shape) * dtype.itemsize, size - fh.tell()
    if not dtype.hasobject and need > held:
        raise SlrPoseError(f"{where}: the header promises {dtype} {shape} ({need} bytes) but the file holds {held}")
    return shape, dtype


def _npy_shape(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    with open(path, "rb") as fh:
        return _header_shape(fh, str(path), path.stat().st_size)


def _npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array in an ``.npz``, from the headers only."""
    try:
        with zipfile.ZipFile(path) as zf:
            out = {}
            for info in zf.infolist():
                if "\n" in info.filename or "\r" in info.filename:  # member names become ids and messages
                    raise SlrPoseError(f"{path}: member {info.filename!r} has a line break in its name")
                if info.filename.endswith(".npy"):
                    with zf.open(info) as fh:
                        out[info.filename[:-4]] = _header_shape(fh, f"{path} {info.filename}", info.file_size)
            return out
    except NUMPY_FAILURES as e:
        raise SlrPoseError(f"{path} is not a readable .npz file ({error_reason(e)})") from None


def _check_shape(where: str, shape_dtype: tuple, spec: ColumnSpec, stacked: bool) -> None:
    shape, dtype = shape_dtype
    axes = shape[1:] if stacked else shape
    what = "(N, T, D) or (N, T, V, C)" if stacked else "(T, D) or (T, V, C)"
    if len(axes) not in (2, 3) or dtype.kind not in "fiu":
        raise SlrPoseError(f"{where}: expected a numeric {what} array, got {dtype} {shape}")
    width = int(np.prod(axes[1:]))
    if width != spec.width:
        raise SlrPoseError(f"{where}: frames have {width} values, spec {spec} covers {spec.width}")
    if axes[0] == 0:
        raise SlrPoseError(f"{where}: no frames")


def _stacked_key(path: Path, shapes: dict[str, tuple], options: ArrayOptions) -> str | None:
    if options.array_key is not None:
        if options.array_key not in shapes:
            raise SlrPoseError(f"{path} has no array {options.array_key!r}; it has {', '.join(shapes)}")
        return options.array_key
    if "keypoints" in shapes:
        return "keypoints"
    deep = [k for k, (shape, _) in shapes.items() if len(shape) in (3, 4)]
    if len(deep) > 1:
        raise SlrPoseError(f"{path} has several stacked arrays ({', '.join(deep)}); choose one with --array-key")
    return deep[0] if deep else None


def _npz_entries(path: Path, spec: ColumnSpec, options: ArrayOptions) -> list[tuple[str, str, str, dict]]:
    """``(id, key, label, meta)`` of each sample in an ``.npz``; ``key`` addresses its array."""
    shapes = _npz_shapes(path)
    if not shapes:
        raise SlrPoseError(f"{path} holds no arrays")
    key = _stacked_key(path, shapes, options)
    if key is None:  # one array per sample, named by its id
        for k, shape in shapes.items():
            _check_shape(f"{path} {k}", shape, spec, stacked=False)
        return [(k, k, "", {}) for k in shapes]
    _check_shape(f"{path} {key}", shapes[key], spec, stacked=True)
    n = shapes[key][0][0]
    with _load(path) as z:
        labels = _per_sample(z, path, n, options.label_key, LABEL_KEYS)
        ids = _per_sample(z, path, n, options.id_key, ID_KEYS)
    fmt = options.id_format or _default_id_format(ids, labels)
    out = []
    for i in range(n):
        fields = {"stem": path.stem, "index": i, "id": "" if ids is None else ids[i], "label": "" if labels is None else labels[i]}
        try:
            sid = fmt.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as e:
            raise SlrPoseError(f"--id-format {fmt!r}: {error_reason(e)}; use {{stem}}, {{index}}, {{id}}, {{label}}") from None
        meta = {"index": i} | ({} if ids is None else {"source_id": str(ids[i])})
        out.append((sid, f"{key}[{i}]", str(fields["label"]), meta))
    return out


def _per_sample(z, path: Path, n: int, key: str | None, defaults: tuple[str, ...]) -> list | None:
    if key and key not in z.files:
        raise SlrPoseError(f"{path} has no array {key!r}; it has {', '.join(z.files)}")
    names = [key] if key else [k for k in defaults if k in z.files][:1]
    if not names:
        return None
    values = _member(z, path, names[0])
    if values.shape != (n,):
        raise SlrPoseError(f"{path}: {names[0]!r} has shape {values.shape}, expected ({n},), one per sample")
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _default_id_format(ids: list | None, labels: list | None) -> str:
    if ids is not None and len(set(ids)) == len(ids):
        return "{id}"
    if ids is not None and labels is not None and len(set(zip(labels, ids))) == len(ids):
        return "{label}_{id}"
    return "{stem}_{index}"


class _Source:
    """One input file; a stacked array is read once and kept while samples are taken from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._arrays: dict[str, np.ndarray] = {}

    def frames(self, key: str | None) -> np.ndarray:
        """``(T, D)`` frame vectors of one sample (``key`` None: the whole ``.npy``)."""
        if key is None:
            arr = _load(self.path)
        else:
            name, _, item = key.partition("[")
            if name not in self._arrays:
                with _load(self.path) as z:
                    self._arrays = {name: _member(z, self.path, name)}  # keep one array only
            arr = self._arrays[name][int(item[:-1])] if item else self._arrays.pop(name)
        return arr.reshape(arr.shape[0], -1)  # (T, V, C) -> (T, V*C), landmark by landmark


def _loader(source: _Source, key: str | None, info: SampleInfo, sha: str, spec: ColumnSpec, layout: Layout, index, options: ArrayOptions):
    def load() -> Sample:
        frames = source.frames(key)
        xyz, vis = spec.split(frames, options.zero_is_missing)
        numbers = np.arange(len(frames))
        if options.trim:
            present = np.isfinite(xyz[:, index[1]]).all(-1).any(-1)
            if not present.any():
                raise SlrPoseError(f"{source.path}{'' if key is None else ' ' + key}: no landmark in any frame")
            first, last = int(np.argmax(present)), len(present) - int(np.argmax(present[::-1]))
            xyz, numbers = xyz[first:last], numbers[first:last]
            vis = None if vis is None else vis[first:last]
        return assemble(replace(info, sha256=sha), layout, index, xyz, vis, numbers)

    return load


def array_provenance(spec: ColumnSpec, layout: Layout, options: ArrayOptions = ArrayOptions()) -> dict:
    """How NumPy arrays were read into ``layout``: the store compares it before adding samples to it."""
    settings = {"face": face_detail(layout), "spec": str(spec), "zero_is_missing": options.zero_is_missing,
                "trim": options.trim}
    return provenance("numpy", settings, {"numpy": np.__version__})
