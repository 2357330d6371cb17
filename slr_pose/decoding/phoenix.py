"""The gloss clean-up the official PHOENIX evaluation scripts apply before sclite.

Published PHOENIX WERs are not plain sclite on raw glosses: each benchmark's
script rewrites glosses first, and a score is only comparable to the
literature under the same rules. Two protocols are implemented, each a
transcription of the shell/sed/awk/perl pipelines (as shipped with the
corpora and copied into VAC, CorrNet and their descendants under
``evaluation/slr_eval/``):

``phoenix2014`` (``evaluatePhoenix2014.sh`` / VAC ``preprocess.sh``):
    The reference STM is used as is; it keeps ``__ON__`` and ``__OFF__``,
    which are therefore scored. The script's sed rules run on each CTM line
    (one gloss per line), so per gloss: delete the substrings ``loc-``,
    ``cl-``, ``qu-``, ``poss-``, ``lh-``, ``__EMOTION__``, ``__PU__``,
    ``__LEFTHAND__`` and ``-PLUSPLUS``; ``S0NNE`` -> ``SONNE``, ``HABEN2`` ->
    ``HABEN``; a gloss ending in ``ZEIGEN`` gets ``-BILDSCHIRM`` appended;
    ``XYRAUM`` -> ``XY`` (two capitals before ``RAUM``); glosses containing
    ``__EPENTHESIS__`` are dropped and glosses left empty disappear. The
    script's multi-word rules (``WIE AUSSEHEN``, joining spelled letters,
    removing repetitions) cannot match a one-gloss CTM line, so they change
    nothing and are not applied.

``phoenix2014t`` (the PHOENIX-2014-T ``evaluateWER.sh`` with its "relaxed" rules):
    Hypothesis, per gloss: drop glosses containing ``__LEFTHAND__``,
    ``__EPENTHESIS__`` or ``__EMOTION__`` and every ``__X__`` gloss
    (``__ON__``, ``__OFF__``, ``__PU__`` ...); strip a ``loc-`` or ``cl-``
    prefix, a ``-PLUSPLUS`` suffix and a ``RAUM`` suffix after capitals; then
    merge consecutive identical glosses. Reference, on the whole sentence:
    the same deletions and strippings, ``WIE AUSSEHEN`` -> ``WIE-AUSSEHEN``,
    spelled single letters joined (``A S`` -> ``A+S``, also with ``SCH`` and
    ``NN``), and immediate repetitions of a capitals-only gloss removed (the
    perl rule, applied four times as the script does).

Both scripts score an utterance with no recognised gloss as the single
hypothesis word ``[EMPTY]`` (their awk step and ``mergectmstm.py``): one
substitution plus deletions instead of deletions only; the total error count
is the same. :data:`EMPTY` and :func:`fill_empty` reproduce this.
"""

from __future__ import annotations

import re
from typing import Sequence

from slr_pose.errors import SlrPoseError

PROTOCOLS = ("phoenix2014", "phoenix2014t")
EMPTY = "[EMPTY]"

_RAUM_2014 = re.compile(r"([A-Z][A-Z])RAUM")
_ZEIGEN_END = re.compile(r"ZEIGEN$")
_SPECIAL = re.compile(r"^__[^_ ]*__$")
_RAUM_T = re.compile(r"\b([A-Z][A-Z]*)RAUM$")
# the PHOENIX-2014-T reference rules, in the script's order; they run on "0 " + sentence so that
# the ^-anchored rule sees what it sees in the script: an utterance id, never a gloss
_REF_T_RULES = [
    (re.compile(r"\b__[^_ ]*__\b"), ""),
    (re.compile(r"\bloc-([^ ]*)\b"), r"\1"),
    (re.compile(r"\bcl-([^ ]*)\b"), r"\1"),
    (re.compile(r"\b([^ ]*)-PLUSPLUS\b"), r"\1"),
    (re.compile(r"\b([A-Z][A-Z]*)RAUM\b"), r"\1"),
    (re.compile(r"WIE AUSSEHEN"), "WIE-AUSSEHEN"),
    (re.compile(r"^([A-Z]) ([A-Z][+ ])"), r"\1+\2"),
    (re.compile(r"[ +]([A-Z]) ([A-Z]) "), r" \1+\2 "),
    (re.compile(r"([ +][A-Z]) ([A-Z][ +])"), r"\1+\2"),
    (re.compile(r"([ +][A-Z]) ([A-Z][ +])"), r"\1+\2"),
    (re.compile(r"([ +][A-Z]) ([A-Z][ +])"), r"\1+\2"),
    (re.compile(r"([ +]SCH) ([A-Z][ +])"), r"\1+\2"),
    (re.compile(r"([ +]NN) ([A-Z][ +])"), r"\1+\2"),
    (re.compile(r"([ +][A-Z]) (NN[ +])"), r"\1+\2"),
    (re.compile(r"([ +][A-Z]) ([A-Z])$"), r"\1+\2"),
] + [(re.compile(r"(?<![\w-])(\b[A-Z]+(?![\w-])) \1(?![\w-])"), r"\1")] * 4
_REF_T_WORDS = ("__LEFTHAND__", "__EPENTHESIS__", "__EMOTION__")


def _check(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise SlrPoseError(f"unknown PHOENIX scoring protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def _clean_2014(g: str) -> str:
    for s in ("loc-", "cl-", "qu-", "poss-", "lh-"):
        g = g.replace(s, "")
    g = g.replace("S0NNE", "SONNE").replace("HABEN2", "HABEN")
    for s in ("__EMOTION__", "__PU__", "__LEFTHAND__"):
        g = g.replace(s, "")
    g = _ZEIGEN_END.sub("ZEIGEN-BILDSCHIRM", g, count=1)
    g = _RAUM_2014.sub(r"\1", g)
    g = g.replace("-PLUSPLUS", "")
    return "" if "__EPENTHESIS__" in g else g


def _clean_2014t(g: str) -> str:
    if any(s in g for s in _REF_T_WORDS) or _SPECIAL.match(g):
        return ""
    if g.startswith("loc-"):
        g = g[4:]
    if g.endswith("-PLUSPLUS"):
        g = g[: -len("-PLUSPLUS")]
    if g.startswith("cl-"):
        g = g[3:]
    return _RAUM_T.sub(r"\1", g)


def clean_hypothesis(glosses: Sequence[str], protocol: str = "phoenix2014") -> list[str]:
    """A hypothesis gloss sequence as the protocol's script rewrites it (without the ``[EMPTY]`` fill)."""
    _check(protocol)
    if protocol == "phoenix2014":
        return [c for c in map(_clean_2014, glosses) if c]
    out: list[str] = []
    for c in map(_clean_2014t, glosses):
        if c and (not out or out[-1] != c):
            out.append(c)
    return out


def clean_reference(glosses: Sequence[str], protocol: str = "phoenix2014") -> list[str]:
    """A reference gloss sequence as the protocol's script rewrites it (PHOENIX-2014: unchanged)."""
    _check(protocol)
    if protocol == "phoenix2014":
        return list(glosses)
    words = [g for g in glosses if g not in _REF_T_WORDS]
    line = "0 " + " ".join(words)
    for pattern, repl in _REF_T_RULES:
        line = pattern.sub(repl, line)
    return line.split()[1:]


def fill_empty(glosses: list[str]) -> list[str]:
    """``[EMPTY]`` for an utterance with no hypothesis gloss, as both scripts score it."""
    return glosses if glosses else [EMPTY]
