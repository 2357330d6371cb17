"""What to extract: videos from files, folders and manifest CSVs, each with a sample id.

Rules (the README's extraction section repeats them for users):

* a video file: its id is its stem (``clips/doctor_001.mp4`` -> ``doctor_001``);
* a folder: every file below it whose ending is in
  :data:`~slr_pose.keypoints.video.VIDEO_EXTENSIONS`; the id is the path relative
  to the folder without the ending (``videos/doctor/001.mp4`` -> ``doctor/001``);
* a ``.csv`` manifest: one row per video, columns :data:`MANIFEST_COLUMNS`
  (only ``path`` is required). Relative paths resolve against the manifest's
  folder; the id is the ``id`` column, else the path as written without its
  ending. ``start``/``end`` are the sign's first and last frame (inclusive,
  0-based) in the source video. A manifest path may name a folder of frame
  images (PHOENIX-2014 style); ``fps`` gives its frame rate. Other columns
  are kept in the sample's ``meta``.

Problems with single inputs (a manifest row naming a missing file, a bad frame
number, an id given twice) do not stop the run: they come back as
:class:`InputProblem` rows for the failure report. Problems with the request
itself (no inputs at all, a manifest without a ``path`` column) raise
:class:`~slr_pose.errors.SlrPoseError`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.video import VIDEO_EXTENSIONS, frame_files

#: Manifest columns with a meaning; any other column lands in ``meta``.
MANIFEST_COLUMNS = (
    "path", "id", "label", "signer", "language", "split", "start", "end", "fps", "glosses", "gloss_spans", "transcript",
)
#: Sample fields that can be set for every input at once.
SHARED_FIELDS = ("label", "signer", "language", "split")


@dataclass(frozen=True)
class VideoInput:
    """One video to extract and the metadata its sample will carry.

    ``start``/``end`` are source frame indices (inclusive), -1 when not given.
    ``fps`` is the frame rate of a folder of frames (0: the default).
    ``meta`` holds extra manifest columns as ``{column: value}``.
    """

    id: str
    path: Path
    label: str = ""
    signer: str = ""
    language: str = ""
    split: str = ""
    start: int = -1
    end: int = -1
    fps: float = 0.0
    glosses: str = ""
    gloss_spans: str = ""
    transcript: str = ""
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class InputProblem:
    """An input that cannot be extracted, with the one-line reason."""

    id: str
    path: str
    reason: str


def collect_inputs(
    paths: Sequence[str | os.PathLike],
    *,
    defaults: dict[str, str] | None = None,
    label_from_folder: bool = False,
    extensions: Iterable[str] = VIDEO_EXTENSIONS,
) -> tuple[list[VideoInput], list[InputProblem]]:
    """Expand files, folders and manifests into videos with unique ids.

    Args:
        paths: video files, folders (searched recursively) and ``.csv`` manifests.
        defaults: values of :data:`SHARED_FIELDS` for every input; a non-empty
            manifest cell wins over them.
        label_from_folder: label each video with the name of the folder that
            holds it (class-per-folder datasets), unless the manifest gives one.
        extensions: file endings searched for in folders.

    Returns:
        The videos in a stable order, and the problems (later inputs that
        repeat an id, bad manifest rows).

    Raises:
        SlrPoseError: no paths, a path that does not exist, a bad manifest header,
            a folder without videos, or both ``defaults["label"]`` and ``label_from_folder``.
    """
    defaults = {k: v for k, v in (defaults or {}).items() if v}
    unknown = set(defaults) - set(SHARED_FIELDS)
    if unknown:
        raise SlrPoseError(f"cannot set {', '.join(sorted(unknown))} for all inputs; only {', '.join(SHARED_FIELDS)}")
    if label_from_folder and "label" in defaults:
        raise SlrPoseError("give either a label for all inputs or --label-from-folder, not both")
    if not paths:
        raise SlrPoseError("no inputs given: name video files, folders or manifest .csv files")
    exts = tuple(e.lower() for e in extensions)
    found: list[VideoInput] = []
    problems: list[InputProblem] = []
    for p in map(Path, paths):
        if p.is_dir():
            videos = sorted(f for f in p.rglob("*") if f.suffix.lower() in exts and f.is_file())
            if not videos:
                raise SlrPoseError(f"folder {p} holds no video files ({', '.join(exts)})")
            found += [VideoInput(id=f.relative_to(p).with_suffix("").as_posix(), path=f) for f in videos]
        elif p.is_file() and p.suffix.lower() == ".csv":
            rows, bad = read_manifest(p)
            found += rows
            problems += bad
        elif p.is_file():
            found.append(VideoInput(id=p.stem, path=p))
        else:
            raise SlrPoseError(f"input {p} does not exist")
    items = []
    for item in found:
        fill = dict(defaults)
        if label_from_folder:
            fill["label"] = item.path.parent.name
        fill = {k: v for k, v in fill.items() if not getattr(item, k)}
        items.append(replace(item, **fill) if fill else item)
    unique, repeated = _unique_ids(items)
    return unique, problems + repeated


def _unique_ids(items: list[VideoInput]) -> tuple[list[VideoInput], list[InputProblem]]:
    first: dict[str, VideoInput] = {}
    problems = []
    for item in items:
        if item.id in first:
            problems.append(InputProblem(item.id, str(item.path), f"duplicate id, already given by {first[item.id].path}"))
        else:
            first[item.id] = item
    return list(first.values()), problems


def read_manifest(path: Path) -> tuple[list[VideoInput], list[InputProblem]]:
    """Rows of a manifest CSV as videos, and the rows that cannot be used.

    Raises:
        SlrPoseError: the file has no header, no ``path`` column, or a column twice.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows, first = [], reader.line_num + 1
            for values in reader:  # a quoted cell may span lines: a row is named by its first line
                rows.append((first, values))
                first = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"manifest {path} cannot be read as CSV ({e})") from None
    header = [h.strip() for h in header or []]
    if "path" not in header:
        shown = ", ".join(" ".join(h.split()) for h in header[:6]) or "nothing"  # a quoted name may hold line breaks
        raise SlrPoseError(f"manifest {path} needs a 'path' column; its header has {shown}")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise SlrPoseError(f"manifest {path} names column {twice[0]!r} twice")
    base = path.parent
    items, problems = [], []
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
        try:
            items.append(_manifest_row(row, base))
        except SlrPoseError as e:
            problems.append(InputProblem(row.get("id") or _path_id(row["path"]), row["path"], f"{path.name} line {line}: {e}"))
    return items, problems


def _path_id(rel: str) -> str:
    """The id a manifest path gives: the path as written, without its ending."""
    p = Path(rel)
    return (p.with_suffix("") if p.name else p).as_posix()


def _manifest_row(row: dict[str, str], base: Path) -> VideoInput:
    rel = row["path"]
    if not rel:
        raise SlrPoseError("empty path")
    broken = [k for k in ("path", "id") if any(c in row.get(k, "") for c in "\r\n")]
    if broken:  # ids and paths end up in one-line reports
        raise SlrPoseError(f"{broken[0]} {row[broken[0]]!r} has a line break")
    if not Path(rel).name:
        raise SlrPoseError(f"path {rel!r} names no file or folder")
    video = base / rel
    sample_id = row.get("id") or _path_id(rel)
    try:
        exists = video.is_file() or video.is_dir()
    except OSError:  # a name too long for the file system names nothing
        exists = False
    if not exists:
        raise SlrPoseError(f"video {video} does not exist")
    start, end = _frame(row, "start"), _frame(row, "end")
    if start >= 0 and end >= 0 and end < start:
        raise SlrPoseError(f"end frame {end} is before start frame {start}")
    fps = row.get("fps", "")
    try:
        rate = float(fps) if fps else 0.0
    except ValueError:
        rate = -1.0
    if not rate >= 0 or not math.isfinite(rate):
        raise SlrPoseError(f"fps {fps!r} is not a positive number")
    known = {k: row[k] for k in MANIFEST_COLUMNS if k in row and k not in ("path", "id", "start", "end", "fps")}
    extra = {k: v for k, v in row.items() if k not in MANIFEST_COLUMNS and v}
    return VideoInput(id=sample_id, path=video, start=start, end=end, fps=rate, meta=extra, **known)


def _frame(row: dict[str, str], column: str) -> int:
    value = row.get(column, "")
    if value == "":
        return -1
    try:
        n = int(value)
    except ValueError:
        raise SlrPoseError(f"{column} {value!r} is not a frame number") from None
    if n < 0:
        raise SlrPoseError(f"{column} {n} is negative")
    return n


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with ``0 <= I < N``; ``"slurm"`` -> this SLURM array task's shard.

    Args:
        text: ``I/N`` or ``slurm``.
        environ: where to read SLURM's variables (default: ``os.environ``).

    Raises:
        SlrPoseError: for anything else.
    """
    if text.strip().lower() == "slurm":
        return slurm_shard(os.environ if environ is None else environ)
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SlrPoseError(f"shard {text!r} is not I/N (e.g. 0/4 for the first of four shards) or slurm") from None
    if not (n >= 1 and 0 <= i < n):
        raise SlrPoseError(f"shard {text!r} needs 0 <= I < N")
    return i, n


def slurm_shard(environ: Mapping[str, str]) -> tuple[int, int]:
    """``(I, N)`` of a SLURM job array task: N = ``SLURM_ARRAY_TASK_COUNT``, I counted from the array's first id.

    ``--array=0-7`` and ``--array=1-8`` both give shards 0..7 of 8; a step
    (``--array=0-14:2``) is divided out. Ids that skip some of the range
    (``--array=1,3,8``) cannot be mapped onto shards and are refused.
    """
    need = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")
    if not all(environ.get(k) for k in need):
        raise SlrPoseError("--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT: run it as a task "
                           "of a SLURM job array (sbatch --array=0-7 ...)")
    try:
        task, count = int(environ["SLURM_ARRAY_TASK_ID"]), int(environ["SLURM_ARRAY_TASK_COUNT"])
        first = int(environ.get("SLURM_ARRAY_TASK_MIN") or 0)
        step = int(environ.get("SLURM_ARRAY_TASK_STEP") or 1)
        last = int(environ.get("SLURM_ARRAY_TASK_MAX") or first + (count - 1) * step)
    except ValueError:
        raise SlrPoseError("SLURM_ARRAY_TASK_* variables are not whole numbers") from None
    index, off_step = divmod(task - first, step) if step > 0 else (-1, 0)
    if last != first + (count - 1) * step or off_step or not 0 <= index < count:
        raise SlrPoseError(f"SLURM array task {task} (ids {first}-{last} step {step}, {count} tasks) is not one of "
                           f"evenly spaced ids; use --array=0-{count - 1}")
    return index, count


def in_shard(sample_id: str, index: int, count: int) -> bool:
    """Whether ``sample_id`` belongs to shard ``index`` of ``count``.

    A hash of the id, so a sample's shard does not depend on the other inputs
    or their order: adding videos later never moves one between shards.
    """
    digest = hashlib.sha1(sample_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def content_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a video file, or of a folder of frames (names and bytes of its images, in order)."""
    p = Path(path)
    if not p.is_dir():
        return file_sha256(p)
    h = hashlib.sha256()
    for f in frame_files(p):
        h.update(f"{f.name}\0{file_sha256(f)}\n".encode())
    return h.hexdigest()


def meta_json(values: dict) -> str:
    """``meta`` column text: sorted JSON, empty for nothing."""
    return json.dumps(values, sort_keys=True, ensure_ascii=False) if values else ""
