"""Kaggle "asl-signs" (Google Isolated Sign Language Recognition) parquet files.

The competition ships one parquet file per sequence and a ``train.csv`` that
lists them::

    train.csv        path, participant_id, sequence_id, sign
    <path>.parquet   one row per frame and landmark: frame, row_id, type
                     (face / left_hand / pose / right_hand), landmark_index,
                     x, y, z; 543 MediaPipe Holistic landmarks per frame
                     (face 468, left hand 21, pose 33, right hand 21), NaN
                     where MediaPipe found nothing

Each sequence becomes one sample: id = ``sequence_id``, label = ``sign``,
signer = ``participant_id``, source = ``path``. The files give no frame rate,
frame size or pose visibility: fps and size come from the caller (unknown by
default, see :mod:`slr_pose.keypoints.importers`), confidence is 1.0 for every
present landmark. ``time`` counts from frame 0 of the recording, so the
parquet's first frame number is kept (``frame / fps``) and also written to
``meta`` as ``first_frame``.

pyarrow is an optional dependency (``pip install "slr-pose[kaggle]"``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.importers.core import (
    Candidate,
    Geometry,
    assemble,
    library_version,
    provenance,
    require,
    source_index,
)
from slr_pose.keypoints.inputs import file_sha256
from slr_pose.keypoints.layout import Layout, face_detail
from slr_pose.keypoints.store import Sample, SampleInfo

#: Landmark groups in the order of the competition's 543-landmark frames.
KAGGLE_GROUPS = (("face", mpn.NUM_FACE_MESH), ("left_hand", 21), ("pose", 33), ("right_hand", 21))
CSV_COLUMNS = ("path", "participant_id", "sequence_id", "sign")
PARQUET_COLUMNS = ("frame", "type", "landmark_index", "x", "y", "z")
INSTALL = ("kaggle", "reading Kaggle parquet files")


def kaggle_names() -> tuple[str, ...]:
    """The 543 landmarks of a competition frame as ``"group/NAME"``, in file order."""
    names = tuple(f"face/{i}" for i in range(mpn.NUM_FACE_MESH))
    names += tuple("left_hand/" + n for n in mpn.HAND_NAMES)
    names += tuple("pose/" + n for n in mpn.POSE_NAMES)
    return names + tuple("right_hand/" + n for n in mpn.HAND_NAMES)


def read_parquet(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's landmarks.

    Rows are scattered to their (frame, landmark) cell by vectorised indexing,
    so row order does not matter and absent rows stay NaN.

    Returns:
        frames: ``(T,)`` int64 frame numbers, ascending.
        xyz: ``(T, 543, 3)`` float32 in :func:`kaggle_names` order, NaN where missing.
    """
    pq = require("pyarrow.parquet", *INSTALL)
    try:
        table = pq.read_table(path, columns=list(PARQUET_COLUMNS), read_dictionary=["type"])
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds; all mean "unreadable"
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SlrPoseError(f"{path}: not a Kaggle asl-signs parquet file ({first})") from None
    _check_columns(table, path)
    frame = table.column("frame").to_numpy().astype(np.int64)
    kind = table.column("type").combine_chunks()
    if hasattr(kind, "dictionary_encode") and not hasattr(kind, "indices"):
        kind = kind.dictionary_encode()
    offsets, start = {}, 0
    for group, size in KAGGLE_GROUPS:
        offsets[group] = (start, size)
        start += size
    starts = np.empty(len(kind.dictionary), dtype=np.int64)
    sizes = np.empty(len(kind.dictionary), dtype=np.int64)
    try:
        names = kind.dictionary.to_pylist()
    except UnicodeDecodeError:  # parquet does not check that its strings are UTF-8
        raise SlrPoseError(f"{path}: column type is not UTF-8 text") from None
    for j, name in enumerate(names):
        if name not in offsets:
            raise SlrPoseError(f"{path}: unknown landmark type {name!r}; expected one of {', '.join(offsets)}")
        starts[j], sizes[j] = offsets[name]
    codes = kind.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    index = table.column("landmark_index").to_numpy().astype(np.int64)
    bad = (index < 0) | (index >= sizes[codes])
    if bad.any():
        r = int(np.argmax(bad))
        raise SlrPoseError(f"{path}: landmark_index {index[r]} out of range for type {kind.dictionary[codes[r]]}")
    frames, row_frame = np.unique(frame, return_inverse=True)
    xyz = np.full((len(frames), start, 3), np.nan, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32 is inf, which the store keeps as missing
        for c, name in enumerate(("x", "y", "z")):
            xyz[row_frame, starts[codes] + index, c] = table.column(name).to_numpy()
    return frames, xyz


def _check_columns(table, path: Path) -> None:
    """Refuse columns of the wrong type, and gaps where every row needs a value (x, y, z may be null: NaN)."""
    pa = require("pyarrow", *INSTALL)
    for name in PARQUET_COLUMNS:
        col, kind = table.column(name), table.schema.field(name).type
        if name == "type":
            ok = pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type) or pa.types.is_string(kind)
        else:
            ok = pa.types.is_integer(kind) or (name in ("x", "y", "z") and pa.types.is_floating(kind))
        if not ok:
            expected = "text" if name == "type" else "numbers" if name in ("x", "y", "z") else "integers"
            raise SlrPoseError(f"{path}: column {name} holds {kind}; expected {expected}")
        if col.null_count and name not in ("x", "y", "z"):
            raise SlrPoseError(f"{path}: column {name} has {col.null_count} empty cells")


def read_index(csv_path: Path) -> list[dict[str, str]]:
    """Rows of a ``train.csv``, checked for its columns and unique sequence ids."""
    try:
        with open(csv_path, newline="") as fh:
            reader = csv.DictReader(fh)
            lacking = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
            if lacking:
                raise SlrPoseError(f"{csv_path} lacks the column(s) {', '.join(lacking)}; expected {', '.join(CSV_COLUMNS)}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"cannot read {csv_path} ({e})") from None
    seen: set[str] = set()
    for line, r in enumerate(rows, start=2):
        if any(r[c] is None for c in CSV_COLUMNS) or not r["path"] or not r["sequence_id"]:
            raise SlrPoseError(f"{csv_path} line {line}: a row needs {', '.join(CSV_COLUMNS)}, with a path and a sequence_id")
        if "\n" in r["path"] or "\r" in r["path"]:  # a quoted cell: paths end up in one-line reports
            raise SlrPoseError(f"{csv_path} line {line}: path {r['path']!r} has a line break")
        if r["sequence_id"] in seen:
            raise SlrPoseError(f"{csv_path} line {line}: sequence_id {r['sequence_id']!r} is listed twice")
        seen.add(r["sequence_id"])
    return rows


def kaggle_candidates(
    source: str | Path,
    layout: Layout,
    *,
    geometry: Geometry = Geometry(),
    language: str = "ase",
    split: str = "",
    signs: Sequence[str] = (),
    limit: int | None = None,
    skip_missing: bool = False,
) -> list[Candidate]:
    """Samples listed by a ``train.csv`` (or a folder holding one).

    Args:
        source: the csv, or its folder; parquet paths are relative to the csv's folder.
        signs: import only these signs (all when empty).
        limit: import at most this many sequences (after the sign filter).
        skip_missing: leave out listed files that do not exist instead of
            stopping before anything is written.

    Raises:
        SlrPoseError: no csv, a bad csv, listed files missing (unless
            ``skip_missing``), or nothing left to import.
    """
    require("pyarrow.parquet", *INSTALL)  # fail before any work
    csv_path = Path(source)
    if csv_path.is_dir():
        csv_path = csv_path / "train.csv"
    if not csv_path.is_file():
        raise SlrPoseError(f"no such file: {csv_path}")
    rows = read_index(csv_path)
    if signs:
        wanted = set(signs)
        unknown = wanted - {r["sign"] for r in rows}
        if unknown:
            raise SlrPoseError(f"{csv_path} lists no sign {', '.join(sorted(unknown))}")
        rows = [r for r in rows if r["sign"] in wanted]
    root = csv_path.parent
    absent = [r for r in rows if not _is_file(root / r["path"])]
    if absent and not skip_missing:
        raise SlrPoseError(
            f"{len(absent)} of {len(rows)} files listed in {csv_path} do not exist (first: {root / absent[0]['path']}); "
            "use --skip-missing to import the others"
        )
    rows = [r for r in rows if _is_file(root / r["path"])]
    if limit is not None:
        rows = rows[:limit]
    if not rows:
        raise SlrPoseError(f"{csv_path}: no sequences to import")
    index = source_index(layout, kaggle_names())
    return [_candidate(root, r, layout, index, geometry, language, split) for r in rows]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system names no file
        return False


def _candidate(root: Path, row: dict, layout: Layout, index, geometry: Geometry, language: str, split: str) -> Candidate:
    path = root / row["path"]

    def load() -> Sample:
        digest = file_sha256(path)
        frames, xyz = read_parquet(path)
        if not len(frames):
            raise SlrPoseError(f"{path}: no frames")
        info = SampleInfo(
            id=row["sequence_id"],
            fps=geometry.fps,
            width=geometry.width,
            height=geometry.height,
            source=row["path"],
            sha256=digest,
            label=row["sign"],
            signer=row["participant_id"],
            language=language,
            split=split,
            meta=json.dumps({"first_frame": int(frames[0]), "last_frame": int(frames[-1])}),
        )
        return assemble(info, layout, index, xyz, None, frames)

    return Candidate(row["sequence_id"], lambda: file_sha256(path), load)


def kaggle_provenance(layout: Layout) -> dict:
    """How Kaggle parquet files were read into ``layout``: the store compares it before adding samples to it."""
    return provenance("kaggle", {"face": face_detail(layout)}, {"pyarrow": library_version("pyarrow")})
