"""Gloss sequences from the files corpora ship: plain text, STM, PHOENIX-style CSV.

* ``*.stm``: the glosses of each segment (see :mod:`slr_pose.decoding.stm`).
* ``*.csv``: a corpus table with a header naming an id column (``fileid``,
  ``id`` or ``name``) and a gloss column (``gloss``, ``annotation`` or
  ``orth``); comma- or ``|``-separated. This covers the PHOENIX-2014 and
  2014-T releases (``id|folder|signer|annotation``, ``name|video|...|orth|...``)
  and their comma-separated re-exports (``fileid,signer,num_frames,gloss``).
* anything else: UTF-8 text, one space-separated gloss sequence per line
  (blank lines skipped).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from slr_pose.decoding.stm import read_stm, read_utf8
from slr_pose.errors import SlrPoseError

ID_COLUMNS = ("fileid", "id", "name")
GLOSS_COLUMNS = ("gloss", "annotation", "orth")


@dataclass(frozen=True)
class CorpusEntry:
    """One annotated video of a corpus table."""

    id: str
    glosses: tuple[str, ...]
    signer: str | None = None
    num_frames: int | None = None


def read_corpus_csv(path: str | Path) -> list[CorpusEntry]:
    """Entries of a corpus CSV (see the module doc for the columns it recognises)."""
    path = Path(path)
    lines = read_utf8(path, "corpus").splitlines()
    if not lines:
        raise SlrPoseError(f"{path} is empty")
    delimiter = "|" if "|" in lines[0] else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise SlrPoseError(f"{path}: not a CSV table ({e})") from None
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    gloss_col = next((c for c in GLOSS_COLUMNS if c in columns), None)
    if gloss_col is None:
        raise SlrPoseError(f"{path}: no gloss column in header {lines[0]!r} (expected one of {', '.join(GLOSS_COLUMNS)})")
    id_col = next((c for c in ID_COLUMNS if c in columns), None)
    names = dict(zip(columns, reader.fieldnames or []))
    out = []
    for lineno, row in enumerate(rows, start=2):
        glosses = row.get(names[gloss_col])
        sample_id = row.get(names[id_col]) if id_col else str(lineno - 1)
        if glosses is None or sample_id is None:
            raise SlrPoseError(f"{path}:{lineno}: row has no {gloss_col if glosses is None else id_col} field")
        frames = row.get(names["num_frames"]) if "num_frames" in names else None
        try:
            num_frames = int(frames) if frames not in (None, "") else None
        except ValueError:
            num_frames = -1
        if num_frames is not None and num_frames < 0:
            raise SlrPoseError(f"{path}:{lineno}: num_frames {frames!r} is not an integer >= 0")
        out.append(CorpusEntry(
            id=sample_id,
            glosses=tuple(glosses.split()),
            signer=row.get(names["signer"]) if "signer" in names else None,
            num_frames=num_frames,
        ))  # fmt: skip
    return out


def read_gloss_sequences(path: str | Path) -> list[list[str]]:
    """Gloss sequences of a text, STM or corpus CSV file (chosen by the file name's suffix)."""
    path = Path(path)
    if not path.is_file():
        raise SlrPoseError(f"gloss sequence file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".stm":
        return [list(s.glosses) for s in read_stm(path)]
    if suffix == ".csv":
        return [list(e.glosses) for e in read_corpus_csv(path)]
    return [line.split() for line in read_utf8(path, "gloss sequence").splitlines() if line.strip()]
