"""Timed annotations of long recordings from any supported format, as the events ``segment`` cuts with.

One entry point for ``slr-pose segment``: a CSV gloss table
(:func:`~slr_pose.continuous.segments.read_timed_table`), ELAN ``.eaf``
files (:mod:`.elan`) or slan-tool exports (:mod:`.krsl`), each read into
the same :class:`~slr_pose.continuous.segments.Timed` glosses and
transcript lines (seconds on the recording's clock, ``video`` = the
recording's sample id).

========== ============================== =====================================
format     files                          recording id
========== ============================== =====================================
csv        ``.csv`` / ``.tsv`` / ``.txt`` its ``video`` column
eaf        ``.eaf`` (ELAN)                the linked video's stem, else the file's
slan-json  ``.json`` (slan-tool)          the file's stem
slan-xml   ``.xml`` (slan-tool)           the file's stem
slan-eaf   ``.eaf`` (slan-tool)           the file's stem
========== ============================== =====================================

``auto`` picks by suffix (``.eaf`` is ELAN's; the slan-tool's EAF export
must be named, its times being centiseconds). A folder stands for every
file of the format under it (``auto``: ``.eaf``), one recording per file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from slr_pose.continuous.elan import DEFAULT_GLOSS_TIERS, read_eaf
from slr_pose.continuous.krsl import read_slan
from slr_pose.continuous.segments import Timed, read_timed_table
from slr_pose.continuous.tiers import chosen_events
from slr_pose.errors import SlrPoseError

FORMATS = ("auto", "csv", "eaf", "slan-json", "slan-xml", "slan-eaf")
_SUFFIXES = {"csv": (".csv", ".tsv", ".txt"), "eaf": (".eaf",), "slan-json": (".json",), "slan-xml": (".xml",),
             "slan-eaf": (".eaf",)}  # fmt: skip


def annotation_format(path: str | os.PathLike, fmt: str = "auto") -> str:
    """The format of ``path``: ``fmt`` itself, or (``auto``) the one its suffix names.

    Raises:
        SlrPoseError: an unknown format, or a suffix that names none.
    """
    if fmt not in FORMATS:
        raise SlrPoseError(f"annotation format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt != "auto":
        return fmt
    p = Path(path)
    if p.is_dir():
        return "eaf"
    suffix = p.suffix.lower()
    found = next((f for f, s in _SUFFIXES.items() if suffix in s), None)
    if found is None:
        raise SlrPoseError(f"{p}: cannot tell the annotation format from {suffix or 'no suffix'!r}; give it")
    return found


def annotation_files(path: str | os.PathLike, fmt: str) -> list[Path]:
    """``path`` itself, or the files of ``fmt`` under the folder ``path``, sorted.

    Raises:
        SlrPoseError: a path that does not exist, or a folder with no such files.
    """
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise SlrPoseError(f"no such file or folder: {p}")
    files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES[fmt])
    if not files:
        raise SlrPoseError(f"no {'/'.join(_SUFFIXES[fmt])} files under {p}")
    return files


def read_annotations(
    path: str | os.PathLike,
    fmt: str = "auto",
    *,
    gloss_tiers: Sequence[str] | None = None,
    text_tiers: Sequence[str] = (),
    recording: str | None = None,
    unit: str = "s",
) -> tuple[list[Timed], list[Timed]]:
    """Timed glosses and transcript lines of the annotation file (or folder) ``path``.

    Args:
        fmt: one of :data:`FORMATS`.
        gloss_tiers, text_tiers: tier names or patterns (:mod:`.tiers`) for the
            tiered formats; ``None`` takes :data:`~slr_pose.continuous.elan.DEFAULT_GLOSS_TIERS`.
        recording: the recording's sample id, for one tiered file.
        unit: time unit of a CSV table (``s`` or ``ms``); tiered formats keep their own.

    Raises:
        SlrPoseError: a bad file (see each reader), tiers or a recording id
            given for a CSV table, a recording id for several files, two files
            for one recording.
    """
    fmt = annotation_format(path, fmt)
    if fmt == "csv":
        if gloss_tiers or text_tiers or recording:
            raise SlrPoseError(f"{path} is a CSV table: tiers and a recording id apply to .eaf and slan-tool files")
        if Path(path).is_dir():
            raise SlrPoseError(f"{path} is a folder: give one CSV gloss table")
        return read_timed_table(path, "gloss", unit), []
    files = annotation_files(path, fmt)
    if recording is not None and len(files) > 1:
        raise SlrPoseError(f"a recording id names one recording, but {path} holds {len(files)} files")
    glosses: list[Timed] = []
    texts: list[Timed] = []
    seen: dict[str, Path] = {}
    for f in files:
        doc = read_eaf(f, recording=recording) if fmt == "eaf" else read_slan(f, fmt, recording=recording)
        if doc.recording in seen:
            raise SlrPoseError(f"{seen[doc.recording]} and {f} both annotate recording {doc.recording!r}")
        seen[doc.recording] = f
        g, t = chosen_events(doc.tiers, doc.recording, str(f), gloss_tiers or DEFAULT_GLOSS_TIERS, text_tiers)
        glosses += g
        texts += t
    return glosses, texts
