"""Score a CTM hypothesis file against an STM reference, as sclite and the PHOENIX scripts do.

sclite (``-h hyp.ctm ctm -r ref.stm stm``) splits each file's hypothesis
words into the reference segments by time, using each word's midpoint: a
word belongs to the first segment of its file and channel that ends after
its midpoint (words after the last segment go to the last). Each segment
is then aligned with :func:`slr_pose.decoding.error_rate.align`. Words of files the
STM does not list are not scored; :attr:`Score.unknown_ids` names them.

With ``protocol="phoenix2014"`` or ``"phoenix2014t"`` the glosses are first
rewritten as that benchmark's evaluation script does, and a segment without
hypothesis words is scored as ``[EMPTY]`` (see :mod:`slr_pose.decoding.phoenix`).
Hypothesis words are ordered by start time before the rewriting.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from slr_pose.decoding import phoenix
from slr_pose.decoding.error_rate import Alignment, WERResult, align
from slr_pose.decoding.stm import CtmWord, StmSegment, read_ctm, read_stm
from slr_pose.errors import SlrPoseError

PROTOCOLS = ("none",) + phoenix.PROTOCOLS


@dataclass(frozen=True)
class Score:
    """The corpus result, each segment's alignment (keyed ``id`` or ``id#k`` for a file's k-th
    segment after the first), and the hypothesis file ids missing from the reference."""

    result: WERResult
    alignments: dict[str, Alignment]
    unknown_ids: tuple[str, ...] = ()


def _segment_words(segments: list[StmSegment], words: list[CtmWord]) -> list[list[str]]:
    """Hypothesis glosses of each segment (same order as ``segments``)."""
    by_file: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, s in enumerate(segments):
        by_file[(s.id, s.channel)].append(i)
    for key in by_file:
        by_file[key].sort(key=lambda i: (segments[i].start, segments[i].end))
    out: list[list[str]] = [[] for _ in segments]
    for w in sorted(words, key=lambda w: (w.id, w.channel, w.start)):
        idx = by_file.get((w.id, w.channel))
        if idx is None:
            continue
        target = next((i for i in idx if w.midpoint < segments[i].end), idx[-1])
        out[target].append(w.gloss)
    return out


def score_segments(segments: Sequence[StmSegment], hypotheses: Sequence[Sequence[str]], protocol: str = "none",
                   case_sensitive: bool = False) -> Score:  # fmt: skip
    """Score already split hypotheses (one gloss list per segment) under ``protocol``."""
    if protocol not in PROTOCOLS:
        raise SlrPoseError(f"unknown scoring protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    alignments: dict[str, Alignment] = {}
    seen: dict[str, int] = defaultdict(int)
    for seg, hyp in zip(segments, hypotheses):
        ref = list(seg.glosses)
        hyp = list(hyp)
        if protocol != "none":
            ref = phoenix.clean_reference(ref, protocol)
            hyp = phoenix.fill_empty(phoenix.clean_hypothesis(hyp, protocol))
        key = seg.id if seen[seg.id] == 0 else f"{seg.id}#{seen[seg.id]}"
        seen[seg.id] += 1
        alignments[key] = align(ref, hyp, case_sensitive)
    return Score(WERResult.from_alignments(alignments.values()), alignments)


def score_ctm(stm: str | Path | Sequence[StmSegment], ctm: str | Path | Sequence[CtmWord], protocol: str = "none",
              case_sensitive: bool = False) -> Score:  # fmt: skip
    """Score a CTM (path or words) against an STM (path or segments).

    Args:
        protocol: ``"none"`` (sclite on the glosses as written),
            ``"phoenix2014"`` or ``"phoenix2014t"`` (that benchmark's gloss rewriting first).
        case_sensitive: sclite ``-s``.

    Raises:
        SlrPoseError: on unreadable files, or when no hypothesis file id is in the reference.
    """
    segments = read_stm(stm) if isinstance(stm, (str, Path)) else list(stm)
    words = read_ctm(ctm) if isinstance(ctm, (str, Path)) else list(ctm)
    if not segments:
        raise SlrPoseError("the reference has no segments to score")
    ref_ids = {s.id for s in segments}
    unknown = tuple(sorted({w.id for w in words} - ref_ids))
    if words and len(unknown) == len({w.id for w in words}):
        raise SlrPoseError(f"no hypothesis id is in the reference (first hypothesis id: {words[0].id!r})")
    score = score_segments(segments, _segment_words(segments, words), protocol, case_sensitive)
    return Score(score.result, score.alignments, unknown)
