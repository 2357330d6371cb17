"""Plain-Python twins of the CTC decoders, for tests and benchmarks only.

:func:`prefix_beam_search_python` is the textbook prefix beam search with
dicts keyed by gloss tuples, the same pruning and ranking as the numba
kernel, and the LM queried through :meth:`NGramLM.log_prob` on gloss strings.
:func:`exhaustive_ctc` enumerates every frame-label path of a tiny input and
sums path probabilities per collapsed sequence: the exact answer that beam
search approximates.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np

from slr_pose.decoding.lm import BOS, EOS, NGramLM
from slr_pose.decoding.vocab import Vocabulary


def _lae(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def collapse(path, blank: int = 0) -> tuple[int, ...]:
    """The CTC collapse of a frame-label path: merge repeats, then drop blanks."""
    return tuple(k for k, _ in itertools.groupby(path) if k != blank)


def exhaustive_ctc(log_probs: np.ndarray, blank: int = 0) -> dict[tuple[int, ...], float]:
    """log P(sequence) for every sequence reachable on ``log_probs`` (T, C), by brute force (C**T paths)."""
    T, C = log_probs.shape
    out: dict[tuple[int, ...], float] = defaultdict(lambda: -math.inf)
    lp = log_probs.astype(np.float64)
    for path in itertools.product(range(C), repeat=T):
        seq = collapse(path, blank)
        out[seq] = _lae(out[seq], float(sum(lp[t, k] for t, k in enumerate(path))))
    return dict(out)


def prefix_beam_search_python(log_probs: np.ndarray, beam_width: int = 10, blank: int = 0,
                              lm: NGramLM | None = None, vocabulary: Vocabulary | None = None,
                              lm_weight: float = 0.0, insertion_bonus: float = 0.0, prune: float = 6.0,
                              max_candidates: int = 40, beam_prune: float = 12.0) -> list[tuple[tuple[int, ...], float]]:  # fmt: skip
    """CTC prefix beam search in plain Python; returns ``[(tokens, score), ...]`` best first.

    Same semantics as :func:`slr_pose.decoding.ctc.beam_search` for
    ``beam_width >= 2`` (``vocabulary`` maps token ids to the LM's glosses).
    """
    T, C = log_probs.shape
    lp = log_probs.astype(np.float64)
    lm_cache: dict[tuple[int, ...], float] = {(): 0.0}

    def lm_of(prefix: tuple[int, ...]) -> float:
        if lm is None:
            return 0.0
        if prefix not in lm_cache:
            glosses = [BOS, *vocabulary.decode(prefix)]
            lm_cache[prefix] = lm_of(prefix[:-1]) + lm.log_prob(glosses[-1], glosses[:-1])
        return lm_cache[prefix]

    def rank(prefix: tuple[int, ...], pb: float, pnb: float) -> float:
        return _lae(pb, pnb) + lm_weight * lm_of(prefix) + insertion_bonus * len(prefix)

    beams: list[tuple[tuple[int, ...], float, float]] = [((), 0.0, -math.inf)]
    for t in range(T):
        row = lp[t]
        threshold = row.max() - prune
        cands = [c for c in range(C) if c != blank and row[c] >= threshold and row[c] > -math.inf]
        cands = sorted(cands, key=lambda c: -row[c])[:max_candidates] if len(cands) > max_candidates else cands
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, pb, pnb in beams:
            ptot = _lae(pb, pnb)
            last = prefix[-1] if prefix else -1
            entry = nxt.setdefault(prefix, [-math.inf, -math.inf])
            entry[0] = _lae(entry[0], ptot + row[blank])
            if last >= 0:
                entry[1] = _lae(entry[1], pnb + row[last])
            for c in cands:
                p = (pb if c == last else ptot) + row[c]
                if p == -math.inf:
                    continue
                child = nxt.setdefault(prefix + (c,), [-math.inf, -math.inf])
                child[1] = _lae(child[1], p)
        ranked = sorted(nxt.items(), key=lambda kv: -rank(kv[0], *kv[1]))[:beam_width]
        best = rank(ranked[0][0], *ranked[0][1])
        ranked = [kv for kv in ranked if rank(kv[0], *kv[1]) >= best - beam_prune]
        beams = [(prefix, pb, pnb) for prefix, (pb, pnb) in ranked]

    final = []
    for prefix, pb, pnb in beams:
        score = rank(prefix, pb, pnb)
        if lm is not None:
            score += lm_weight * lm.log_prob(EOS, [BOS, *vocabulary.decode(prefix)])
        final.append((prefix, score))
    return sorted(final, key=lambda x: -x[1])
