"""STM reference and CTM hypothesis files, the formats sclite scores (and PHOENIX ships).

STM (segment time mark), one segment per line::

    <id> <channel> <speaker> <start> <end> [<label>] gloss gloss ...

PHOENIX's ground truth is ``01April_2010_Thursday_heute_default-1 1 Signer04
0.0 1.79769e+308 ICH OSTERN ...``: one segment per video spanning all time.
CTM (conversation time mark), one recognised word per line::

    <id> <channel> <start> <duration> <gloss> [<confidence>]

Lines starting with ``;;`` are comments in both (sclite's convention).
Times are seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.outputs import write_text


@dataclass(frozen=True)
class StmSegment:
    """One reference segment: ``glosses`` spoken by ``speaker`` in ``[start, end)`` seconds of ``id``."""

    id: str
    channel: str
    speaker: str
    start: float
    end: float
    glosses: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True)
class CtmWord:
    """One hypothesis word: ``gloss`` at ``start`` seconds for ``duration`` seconds."""

    id: str
    channel: str
    start: float
    duration: float
    gloss: str
    confidence: float | None = field(default=None, compare=False)

    @property
    def midpoint(self) -> float:
        return self.start + self.duration / 2


def read_utf8(path: Path, kind: str) -> str:
    """The text of ``path``; :class:`SlrPoseError` naming ``kind`` if it is missing or not UTF-8."""
    if not path.is_file():
        raise SlrPoseError(f"{kind} file not found: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SlrPoseError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None


def _lines(path: Path, kind: str) -> Iterable[tuple[int, list[str]]]:
    text = read_utf8(path, kind)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith(";;"):
            yield lineno, line.split()


def _float(text: str, path: Path, lineno: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise SlrPoseError(f"{path}:{lineno}: {what} {text!r} is not a number")
    return value


def read_stm(path: str | Path) -> list[StmSegment]:
    """Segments of an STM file, in file order."""
    path = Path(path)
    out = []
    for lineno, f in _lines(path, "STM"):
        if len(f) < 5:
            raise SlrPoseError(f"{path}:{lineno}: an STM line needs id, channel, speaker, start, end; got {' '.join(f)!r}")
        start, end = _float(f[3], path, lineno, "start time"), _float(f[4], path, lineno, "end time")
        if not (math.isfinite(start) and start <= end):
            raise SlrPoseError(f"{path}:{lineno}: a segment from {f[3]} to {f[4]} s needs a finite start at or before its end")
        words = f[5:]
        label = None
        if words and words[0].startswith("<") and words[0].endswith(">"):
            label, words = words[0], words[1:]
        out.append(StmSegment(f[0], f[1], f[2], start, end, tuple(words), label))
    return out


def write_stm(path: str | Path, segments: Iterable[StmSegment]) -> None:
    """Write segments as STM (``end = inf`` is written as PHOENIX does, 1.79769e+308)."""
    lines = []
    for s in segments:
        end = "1.79769e+308" if math.isinf(s.end) else f"{s.end:g}"
        head = [s.id, s.channel, s.speaker, f"{s.start:.1f}" if s.start == int(s.start) else f"{s.start:g}", end]
        lines.append(" ".join(head + ([s.label] if s.label else []) + list(s.glosses)))
    _write(Path(path), lines)


def read_ctm(path: str | Path) -> list[CtmWord]:
    """Words of a CTM file, in file order."""
    path = Path(path)
    out = []
    for lineno, f in _lines(path, "CTM"):
        if len(f) not in (5, 6):
            raise SlrPoseError(f"{path}:{lineno}: a CTM line needs id, channel, start, duration, gloss [, confidence]; "
                               f"got {' '.join(f)!r}")  # fmt: skip
        conf = _float(f[5], path, lineno, "confidence") if len(f) == 6 else None
        start, duration = _float(f[2], path, lineno, "start time"), _float(f[3], path, lineno, "duration")
        if not (math.isfinite(start) and math.isfinite(duration) and duration >= 0 and (conf is None or math.isfinite(conf))):
            raise SlrPoseError(f"{path}:{lineno}: a word needs a finite start, duration >= 0 and confidence; got {' '.join(f)!r}")
        out.append(CtmWord(f[0], f[1], start, duration, f[4], conf))
    return out


def write_ctm(path: str | Path, words: Iterable[CtmWord]) -> None:
    """Write words as CTM (times with 3 decimals, as the PHOENIX baselines write them)."""
    lines = []
    for w in words:
        line = f"{w.id} {w.channel} {w.start:.3f} {w.duration:.3f} {w.gloss}"
        if w.confidence is not None:
            line += f" {w.confidence:.4f}"
        lines.append(line)
    _write(Path(path), lines)


def _write(path: Path, lines: list[str]) -> None:
    if not path.parent.is_dir():
        raise SlrPoseError(f"cannot write {path}: folder {path.parent} does not exist")
    write_text(path, "".join(line + "\n" for line in lines))


def ctm_words(id: str, glosses, frames, fps: float, channel: str = "1",
              confidences=None) -> list[CtmWord]:  # fmt: skip
    """CTM words of one decoded video.

    Args:
        glosses: the decoded glosses (strings).
        frames: ``(n, 2)`` [start, end) frames of each gloss (``Decoded.frames``).
        fps: frames per second of the decoder's output (after any temporal downsampling).
        confidences: optional per-gloss confidences in [0, 1].
    """
    frames = np.asarray(frames).reshape(-1, 2)
    if len(glosses) != len(frames):
        raise SlrPoseError(f"{len(glosses)} glosses but {len(frames)} frame spans for {id!r}")
    if not fps > 0:
        raise SlrPoseError(f"fps must be positive, got {fps!r}")
    confs = [None] * len(glosses) if confidences is None else [float(c) for c in confidences]
    return [CtmWord(id, channel, float(a) / fps, float(b - a) / fps, g, c)
            for g, (a, b), c in zip(glosses, frames, confs)]  # fmt: skip
