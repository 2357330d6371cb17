"""ARPA back-off language model files: the text format KenLM, SRILM and pyctcdecode read.

::

    \\data\\
    ngram 1=1234
    ngram 2=5678

    \\1-grams:
    -2.345678	WETTER	-0.456789
    ...
    \\end\\

Each line is ``log10 P <tab> w1 ... wk [<tab> log10 backoff]``; n-grams of the
highest order have no backoff. ``<s>`` gets log10 P = -99 (it is never predicted).
"""

from __future__ import annotations

import gzip
import math
import re
import zlib
from pathlib import Path
from typing import IO

from slr_pose.errors import SlrPoseError
from slr_pose.outputs import atomic_path

#: An n-gram: words in order.
NGram = tuple[str, ...]
#: log(p) and log(back-off weight) of each n-gram, by order: ``entries[k][gram]`` (``entries[0]`` empty).
Entries = list[dict[NGram, tuple[float, float]]]

LOG10 = math.log(10.0)
#: log10 values at or below this are "impossible" (SRILM and KenLM write -99 for <s>).
LOG10_FLOOR = -99.0


def _open(path: Path, mode: str) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def _fmt(x: float) -> str:
    return f"{LOG10_FLOOR:g}" if x == -math.inf else f"{x / LOG10:.7g}"


def write_arpa(order: int, entries: Entries, path: str | Path) -> None:
    """Write the n-grams of an ``order``-gram model to ``path`` (gzip when the name ends in ``.gz``)."""
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise SlrPoseError(f"cannot write {path}: folder {path.parent} does not exist")
    with atomic_path(path) as tmp, _open(tmp, "w") as f:  # an old file survives a failure or a kill
        f.write("\\data\\\n")
        for k in range(1, order + 1):
            f.write(f"ngram {k}={len(entries[k])}\n")
        for k in range(1, order + 1):
            f.write(f"\n\\{k}-grams:\n")
            for g, (lp, bo) in sorted(entries[k].items()):
                line = f"{_fmt(lp)}\t{' '.join(g)}"
                if k < order:
                    line += f"\t{_fmt(bo)}"
                f.write(line + "\n")
        f.write("\n\\end\\\n")


_COUNT = re.compile(r"ngram\s+(\d+)\s*=\s*(\d+)$")
_SECTION = re.compile(r"\\(\d+)-grams:$")


def _value(text: str, path: Path, lineno: int) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if math.isnan(v) or v * LOG10 == math.inf:  # -inf is the floor, as -99 is
        raise SlrPoseError(f"{path}:{lineno}: {text!r} is not a log10 probability")
    return -math.inf if v <= LOG10_FLOOR else v * LOG10


def read_arpa(path: str | Path) -> tuple[int, Entries]:
    """The order and n-grams of an ARPA file; :class:`SlrPoseError` names the line of a format error."""
    path = Path(path)
    if not path.is_file():
        raise SlrPoseError(f"language model file not found: {path}")
    declared: dict[int, int] = {}
    entries: Entries = [dict()]
    section = 0  # 0: before \data\, -1: in \data\, k: in \k-grams:, -2: after \end\
    try:
        with _open(path, "r") as f:
            for lineno, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line or section == -2:
                    continue
                if line == "\\data\\":
                    section = -1
                    continue
                if line == "\\end\\":
                    section = -2
                    continue
                m = _SECTION.match(line)
                if m:
                    section = int(m.group(1))
                    if section != len(entries):
                        raise SlrPoseError(f"{path}:{lineno}: section {line} is out of order")
                    entries.append({})
                    continue
                if section == -1:
                    m = _COUNT.match(line)
                    if not m:
                        raise SlrPoseError(f"{path}:{lineno}: expected 'ngram k=count' in \\data\\, got {line!r}")
                    declared[int(m.group(1))] = int(m.group(2))
                elif section > 0:
                    fields = line.split()
                    if len(fields) not in (section + 1, section + 2):
                        raise SlrPoseError(f"{path}:{lineno}: a {section}-gram line needs {section + 1} or {section + 2} fields, got {line!r}")
                    lp = _value(fields[0], path, lineno)
                    bo = _value(fields[-1], path, lineno) if len(fields) == section + 2 else 0.0
                    entries[section][tuple(fields[1 : section + 1])] = (lp, bo)
                elif section == 0:
                    continue  # free text before \data\ is allowed
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise SlrPoseError(f"cannot read language model {path}: {e}") from None
    order = len(entries) - 1
    if order == 0 or not declared:
        raise SlrPoseError(f"{path} is not an ARPA language model (no \\data\\ header or n-gram sections)")
    for k, n in declared.items():
        got = len(entries[k]) if k <= order else 0
        if got != n:
            raise SlrPoseError(f"{path}: header declares {n} {k}-grams but the file holds {got}")
    for k in range(2, order + 1):  # back-off queries end at the unigrams: every word needs one
        for gram in entries[k]:
            lacking = [w for w in gram if (w,) not in entries[1]]
            if lacking:
                raise SlrPoseError(f"{path}: the {k}-gram {' '.join(gram)!r} has no unigram for {lacking[0]!r}")
    return order, entries
