"""Word (gloss) error rate counted the way NIST sclite counts it.

sclite (SCTK, ``src/sclite/net_dp.c`` and ``word.c``) aligns reference and
hypothesis by dynamic programming minimising a weighted Levenshtein distance
with costs correct 0, substitution 4, insertion 3, deletion 3 (``wwd_WORD``).
Where two moves cost the same, a cell prefers substitution/correct, then
deletion, then insertion (``calculate_internal_cells``: sub if sub <= del and
sub <= ins, else del if del < ins, else ins), and the back trace starts at
the end of both strings. Words compare case-insensitively unless sclite's
``-s`` is given (``case_sensitive=True`` here). Reported error counts follow
from the chosen alignment, so they can differ from a unit-cost Levenshtein
(e.g. "A B" vs "B C": unit costs find 2 substitutions or 1 deletion + 1
insertion; sclite's weights give D + I = 6 < S + S = 8, so 1 deletion and 1
insertion).

WER = 100 * (S + D + I) / N (N = reference words), as in sclite's "Err" column.
Alternative references (``{ a / b }``) and optionally deletable words
(``(word)``) are not supported: the PHOENIX ground truth uses neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from slr_pose.errors import SlrPoseError

SUB_COST, INS_COST, DEL_COST = 4, 3, 3


@dataclass(frozen=True)
class Alignment:
    """One aligned sentence pair: ``ops`` are ``(op, ref_word, hyp_word)`` with op in C, S, D, I
    (``ref_word`` is None for an insertion, ``hyp_word`` None for a deletion)."""

    ops: tuple[tuple[str, str | None, str | None], ...]

    def count(self, op: str) -> int:
        return sum(o == op for o, _, _ in self.ops)

    @property
    def cor(self) -> int:
        return self.count("C")

    @property
    def sub(self) -> int:
        return self.count("S")

    @property
    def dele(self) -> int:
        return self.count("D")

    @property
    def ins(self) -> int:
        return self.count("I")

    @property
    def errors(self) -> int:
        return self.sub + self.dele + self.ins

    def pretty(self) -> str:
        """Three lines like sclite's ``pra`` report: REF, HYP (``***`` for gaps) and the ops."""
        cols = []
        for op, r, h in self.ops:
            r = r if r is not None else "*" * len(h or "")
            h = h if h is not None else "*" * len(r)
            if op != "C":
                r, h = r.upper(), h.upper()
            w = max(len(r), len(h))
            cols.append((r.ljust(w), h.ljust(w), ("" if op == "C" else op).ljust(w)))
        return "\n".join("REF: " + " ".join(c[0] for c in cols) if i == 0 else
                         ("HYP: " if i == 1 else "OPS: ") + " ".join(c[i] for c in cols) for i in range(3))  # fmt: skip


def align(ref: Sequence[str], hyp: Sequence[str], case_sensitive: bool = False) -> Alignment:
    """Align a hypothesis to a reference as sclite does (weights 0/4/3/3, sclite's tie-breaking).

    Args:
        ref, hyp: gloss sequences (or space-separated strings).
        case_sensitive: compare glosses case-sensitively (sclite ``-s``).
    """
    if isinstance(ref, str):
        ref = ref.split()
    if isinstance(hyp, str):
        hyp = hyp.split()
    a = [w if case_sensitive else w.lower() for w in ref]
    b = [w if case_sensitive else w.lower() for w in hyp]
    n, m = len(a), len(b)
    # cost and back pointer (0 diagonal, 1 deletion: up, 2 insertion: left)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(1, m + 1):
        cost[0][j], back[0][j] = cost[0][j - 1] + INS_COST, 2
    for i in range(1, n + 1):
        cost[i][0], back[i][0] = cost[i - 1][0] + DEL_COST, 1
        prev, row, ai = cost[i - 1], cost[i], a[i - 1]
        brow = back[i]
        for j in range(1, m + 1):
            sub = prev[j - 1] + (0 if ai == b[j - 1] else SUB_COST)
            dele = prev[j] + DEL_COST
            ins = row[j - 1] + INS_COST
            if sub <= dele and sub <= ins:
                row[j] = sub
            elif dele < ins:
                row[j], brow[j] = dele, 1
            else:
                row[j], brow[j] = ins, 2
    ops = []
    i, j = n, m
    while i > 0 or j > 0:
        move = back[i][j]
        if move == 0:
            ops.append(("C" if a[i - 1] == b[j - 1] else "S", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif move == 1:
            ops.append(("D", ref[i - 1], None))
            i -= 1
        else:
            ops.append(("I", None, hyp[j - 1]))
            j -= 1
    return Alignment(tuple(reversed(ops)))


@dataclass(frozen=True)
class WERResult:
    """Corpus error counts.

    Attributes:
        sub, dele, ins: substitutions, deletions, insertions.
        n_ref: reference words N.
        wer: 100 * (sub + dele + ins) / n_ref, in percent (NaN when n_ref is 0).
        cor: correct words.
        sentences / sentence_errors: sentence pairs scored and those with an error.
    """

    sub: int
    dele: int
    ins: int
    n_ref: int
    wer: float
    cor: int = 0
    sentences: int = 0
    sentence_errors: int = 0

    @classmethod
    def from_alignments(cls, alignments: Iterable[Alignment]) -> "WERResult":
        s = d = i = c = n_sent = n_err = 0
        for al in alignments:
            s, d, i, c = s + al.sub, d + al.dele, i + al.ins, c + al.cor
            n_sent += 1
            n_err += al.errors > 0
        n_ref = s + d + c
        wer = 100.0 * (s + d + i) / n_ref if n_ref else float("nan")
        return cls(s, d, i, n_ref, wer, c, n_sent, n_err)

    def __str__(self) -> str:
        return (f"WER {self.wer:.2f}% (sub {self.sub}, del {self.dele}, ins {self.ins} of {self.n_ref} reference glosses; "
                f"{self.sentence_errors}/{self.sentences} sentences with errors)")  # fmt: skip


def wer(refs: Sequence[Sequence[str]], hyps: Sequence[Sequence[str]], case_sensitive: bool = False) -> WERResult:
    """Corpus WER of paired reference and hypothesis gloss sequences (lists or space-separated strings)."""
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise SlrPoseError(f"{len(refs)} references but {len(hyps)} hypotheses: WER needs them paired")
    return WERResult.from_alignments(align(r, h, case_sensitive) for r, h in zip(refs, hyps))
