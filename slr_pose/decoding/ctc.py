"""CTC decoding: greedy (best path) and prefix beam search with an optional gloss LM.

Input everywhere is a CTC head's log-softmax output ``log_probs`` of shape
``(T, C)`` (frames x classes, natural log, class ``blank`` = the CTC blank).

The prefix beam search is the standard algorithm (Graves 2012 / Hannun et al.
2014, "First-pass large vocabulary continuous speech recognition using
bi-directional recurrent DNNs"; the same recursion as pyctcdecode and
ctcdecode): each hypothesis is a gloss prefix with two log-probabilities,
of all alignments ending in a blank and of those ending in its last gloss;
per frame every prefix may stay (blank, or repeat its last gloss) or grow by
one gloss, and prefixes reached along different alignments are merged by
summing. Hypotheses are ranked by

    log P_ctc(prefix) + lm_weight * log P_lm(prefix) + insertion_bonus * len(prefix)

where the LM scores each emitted gloss given the ones before it (and ``</s>``
once the input ends). The loop is one numba kernel (no compiled extension to
build): prefixes live in a trie with a hashed child table, so a prefix is an
integer, its LM state and score are computed once, when it is first created.

With ``beam_width=1`` a single hypothesis cannot hold the sum over
alignments, so width 1 is best-path decoding: without an LM it is exactly
:func:`greedy_decode`; with an LM each frame takes the label maximising its
log-probability plus the LM and insertion terms of the gloss it would emit.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from slr_pose.decoding.beam_kernel import best_path_lm_kernel, prefix_beam_search_kernel
from slr_pose.decoding.lm import NGramLM
from slr_pose.decoding.lm_tables import BoundLM
from slr_pose.errors import SlrPoseError

NEG_INF = -np.inf


class Decoded:
    """One decoding result.

    Attributes:
        tokens: int64 ``(n,)`` gloss ids (no blanks, repeats collapsed).
        frames: int64 ``(n, 2)``: each gloss's first frame and one past its
            last frame (half-open ``[start, end)``) in the most probable CTC
            alignment of ``tokens``. Beam search computes them (Viterbi,
            O(T x n)) on first access, so unused hypotheses cost nothing.
        score: the ranking score (natural log): CTC log-probability (of the
            best path for greedy, of all alignments for beam search) plus
            ``lm_weight`` x LM log-probability plus ``insertion_bonus`` x n.
        ctc_score / lm_score: the two log-probabilities inside ``score``
            (``lm_score`` is 0.0 without an LM).

    ``frames`` may be given as an array or as a function of no arguments that returns it.
    """

    def __init__(self, tokens: np.ndarray, frames, score: float, ctc_score: float = math.nan,
                 lm_score: float = 0.0) -> None:  # fmt: skip
        self.tokens = np.asarray(tokens, dtype=np.int64)  # no copy when already int64
        self._frames = frames
        self.score, self.ctc_score, self.lm_score = float(score), float(ctc_score), float(lm_score)

    @property
    def frames(self) -> np.ndarray:
        if callable(self._frames):
            self._frames = np.asarray(self._frames(), dtype=np.int64).reshape(-1, 2)
        return self._frames

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Decoded(tokens={self.tokens.tolist()}, score={self.score:.4f})"


def check_log_probs(log_probs, blank: int = 0) -> np.ndarray:
    """``log_probs`` as a C-contiguous float32 ``(T, C)`` array, or :class:`SlrPoseError`."""
    lp = np.asarray(log_probs)
    if lp.ndim != 2:
        raise SlrPoseError(f"log_probs must have shape (T, C), got shape {lp.shape}")
    if not np.issubdtype(lp.dtype, np.floating):
        raise SlrPoseError(f"log_probs must be floating point, got dtype {lp.dtype}")
    if lp.shape[1] < 2:
        raise SlrPoseError(f"log_probs needs a blank and at least one gloss column, got {lp.shape[1]} column(s)")
    if not 0 <= blank < lp.shape[1]:
        raise SlrPoseError(f"blank id {blank} is outside the {lp.shape[1]} classes of log_probs")
    lp = np.ascontiguousarray(lp, dtype=np.float32)
    if lp.size:
        if np.isnan(lp).any():
            raise SlrPoseError("log_probs contains NaN")
        top = float(lp.max())
        if top > 1e-3:
            raise SlrPoseError(f"log_probs must be log-softmax outputs (<= 0), found {top:.4g}; apply log_softmax first")
    return lp


# -- alignment ---------------------------------------------------------------------------


@numba.njit(cache=True)
def _viterbi_frames(lp: np.ndarray, tokens: np.ndarray, blank: int, prev_label: int) -> np.ndarray:
    """[start, end) frames of each token in the most probable alignment of ``tokens``.

    ``prev_label`` >= 0 lets the alignment first continue the run of a gloss
    emitted before ``lp`` (a stream); that run emits nothing.
    """
    T = lp.shape[0]
    L = tokens.shape[0]
    frames = np.zeros((L, 2), dtype=np.int64)
    if L == 0 or T == 0:
        return frames
    # state 0: still in prev_label's run; then blank, y1, blank, y2, ..., yL, blank
    S = 2 * L + 2
    ext = np.empty(S, dtype=np.int64)
    ext[0] = prev_label
    for s in range(1, S):
        ext[s] = blank if s % 2 == 1 else tokens[s // 2 - 1]
    dp = np.full(S, -np.inf)
    back = np.zeros((T, S), dtype=np.int8)
    if prev_label >= 0:
        dp[0] = lp[0, prev_label]
    dp[1] = lp[0, blank]
    if ext[2] != prev_label:
        dp[2] = lp[0, ext[2]]
    new = np.empty(S)
    for t in range(1, T):
        for s in range(S):
            best, arg = dp[s], 0
            if s >= 1 and dp[s - 1] > best:
                best, arg = dp[s - 1], 1
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] and dp[s - 2] > best:
                best, arg = dp[s - 2], 2
            new[s] = best + lp[t, ext[s]] if ext[s] >= 0 else -np.inf
            back[t, s] = arg
        dp[:] = new
    s = S - 1 if dp[S - 1] >= dp[S - 2] else S - 2
    for i in range(L):
        frames[i, 0] = T
        frames[i, 1] = 0
    for t in range(T - 1, -1, -1):
        if s % 2 == 0 and s > 0:
            i = s // 2 - 1
            frames[i, 0] = t
            if frames[i, 1] == 0:
                frames[i, 1] = t + 1
        s -= back[t, s]
    return frames


def token_frames(log_probs, tokens, blank: int = 0) -> np.ndarray:
    """``(n, 2)`` [start, end) frames of ``tokens`` in their most probable CTC alignment (Viterbi)."""
    lp = check_log_probs(log_probs, blank)
    tokens = np.asarray(tokens, dtype=np.int64)
    return _viterbi_frames(lp, tokens, blank, -1)


# -- greedy ------------------------------------------------------------------------------


def _runs(labels: np.ndarray, blank: int, prev_label: int) -> tuple[np.ndarray, np.ndarray]:
    """Tokens and [start, end) frames of a frame-label path, collapsing repeats and blanks.

    ``prev_label`` is the label of the frame before the path (-1 for none): a run
    that continues it emits nothing.
    """
    if labels.size == 0:
        return np.zeros(0, np.int64), np.zeros((0, 2), np.int64)
    before = np.concatenate(([prev_label], labels[:-1]))
    starts = np.flatnonzero(labels != before)
    ends = np.append(starts[1:], labels.size)
    keep = labels[starts] != blank  # a run continuing prev_label has no start here, so emits nothing
    tokens = labels[starts][keep].astype(np.int64)
    frames = np.stack([starts[keep], ends[keep]], axis=1).astype(np.int64)
    return tokens, frames


def greedy_decode(log_probs, blank: int = 0) -> Decoded:
    """Best-path decoding: the most probable label per frame, repeats merged, blanks removed.

    Args:
        log_probs: ``(T, C)`` log-softmax outputs.
        blank: the blank's class id.

    Returns:
        :class:`Decoded` whose score is the best path's log-probability.
    """
    lp = check_log_probs(log_probs, blank)
    labels = lp.argmax(axis=1) if lp.shape[0] else np.zeros(0, np.int64)
    tokens, frames = _runs(labels, blank, -1)
    score = float(lp.max(axis=1).astype(np.float64).sum()) if lp.shape[0] else 0.0
    return Decoded(tokens, frames, score, ctc_score=score)


# -- beam search -------------------------------------------------------------------------

_NO_LM_TABLES = None


def _no_lm_tables():
    """Empty tables of the LM table types, so the kernel compiles once for both cases."""
    global _NO_LM_TABLES
    if _NO_LM_TABLES is None:
        _NO_LM_TABLES = (np.full(16, -1, np.int64), np.zeros(16, np.int32), np.zeros(1), np.zeros(1),
                         np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1))  # fmt: skip
    return _NO_LM_TABLES


def check_lm(lm, n_classes: int):

    if lm is None:
        return None
    if isinstance(lm, NGramLM):
        raise SlrPoseError("beam_search needs the LM bound to the CTC vocabulary: bind it with BoundLM(lm, vocabulary)")
    if not isinstance(lm, BoundLM):
        raise SlrPoseError(f"lm must be a BoundLM (BoundLM(lm, vocabulary)), got {type(lm).__name__}")
    if len(lm.token_word) != n_classes:
        raise SlrPoseError(f"the LM is bound to {len(lm.token_word)} classes but log_probs has {n_classes}")
    return lm


def decode_segment(lp: np.ndarray, beam_width: int, blank: int, lm, lm_weight: float, insertion_bonus: float,
                   prune: float, beam_prune: float, max_candidates: int, lm_state: int | None = None,
                   prev_token: int = -1, prev_in_run: bool = False, final: bool = True) -> list[Decoded]:  # fmt: skip
    """:func:`beam_search` on checked input, optionally continuing a stream.

    Args:
        lm_state: LM state to start from (default: sentence start).
        prev_token / prev_in_run: the gloss emitted just before ``lp`` and
            whether its frames run into ``lp``'s first frame.
        final: whether ``lp`` ends the sentence (adds the LM's ``</s>`` score).
    """
    C = lp.shape[1]
    if beam_width == 1:
        return [_best_path(lp, blank, lm, lm_weight, insertion_bonus, prune, max_candidates,
                           lm_state, prev_token, prev_in_run, final)]  # fmt: skip
    if lm is not None:
        tables, n_words, token_word, eos = lm.tables, lm.n_words, lm.token_word, lm.eos_word
        state = lm.bos_state if lm_state is None else lm_state
    else:
        tables, n_words, token_word, eos, state = _no_lm_tables(), 1, np.full(C, -1, np.int32), 0, 0
    tokens, lengths, scores, ctc, lms = prefix_beam_search_kernel(
        lp, blank, beam_width, float(prune), float(beam_prune), max(1, min(max_candidates, C - 1)), lm is not None,
        tables, n_words,
        token_word, float(lm_weight) if lm is not None else 0.0, float(insertion_bonus), state, eos, final,
        prev_token, prev_in_run)  # fmt: skip
    out = []
    prev = prev_token if prev_in_run else -1
    for row, n, score, c, l in zip(tokens, lengths, scores, ctc, lms):
        toks = row[:n]
        out.append(Decoded(toks, functools.partial(_viterbi_frames, lp, toks, blank, prev), score, c, l))
    return out


def _best_path(lp, blank, lm, lm_weight, insertion_bonus, prune, max_candidates, lm_state, prev_token,
               prev_in_run, final) -> Decoded:  # fmt: skip
    prev_label = (prev_token if prev_in_run else blank) if prev_token >= 0 else -1
    if lm is None and insertion_bonus == 0:  # exactly greedy decoding
        labels = lp.argmax(axis=1)
        ctc = float(lp.max(axis=1).astype(np.float64).sum()) if lp.shape[0] else 0.0
        tokens, frames = _runs(labels, blank, prev_label)
        return Decoded(tokens, frames, ctc, ctc)
    if lm is None:
        tables, n_words, token_word, state, lm_weight = _no_lm_tables(), 1, np.full(lp.shape[1], -1, np.int32), 0, 0.0
    else:
        tables, n_words, token_word = lm.tables, lm.n_words, lm.token_word
        state = lm.bos_state if lm_state is None else lm_state
    labels, ctc, lm_lp, state = best_path_lm_kernel(
        lp, blank, float(prune), max(1, min(max_candidates, lp.shape[1] - 1)), tables, n_words, token_word,
        float(lm_weight), float(insertion_bonus), state, prev_label)  # fmt: skip
    tokens, frames = _runs(labels, blank, prev_label)
    if lm is None:
        lm_lp = 0.0
    elif final:
        lm_lp += lm.end_score(state)
    return Decoded(tokens, frames, ctc + lm_weight * lm_lp + insertion_bonus * len(tokens), ctc, lm_lp)


def beam_search(log_probs, beam_width: int = 10, blank: int = 0, lm=None, lm_weight: float = 0.0,
                insertion_bonus: float = 0.0, prune: float = 6.0, max_candidates: int = 40,
                beam_prune: float = 12.0) -> list[Decoded]:  # fmt: skip
    """CTC prefix beam search, optionally with a gloss n-gram LM.

    Args:
        log_probs: ``(T, C)`` log-softmax outputs of a CTC head.
        beam_width: hypotheses kept per frame; 1 is best-path decoding (see module doc).
        blank: the blank's class id.
        lm: a :class:`~slr_pose.decoding.lm_tables.BoundLM` (``BoundLM(lm, vocabulary)``) or None.
        lm_weight: weight of the LM log-probability in the score.
        insertion_bonus: added to the score per emitted gloss (counters the
            LM's and CTC's preference for short outputs).
        prune: per frame, glosses whose log-probability is more than ``prune``
            below the frame's best label are not tried (6 nats: below 1/400 of the best
            label's probability; ``math.inf``: try all).
        max_candidates: at most this many glosses tried per frame (the most probable).
        beam_prune: hypotheses whose score falls more than this below the best
            one's are dropped even when the beam has room (``math.inf``: keep
            ``beam_width``); on peaky CTC outputs this is what keeps wide beams fast.

    Returns:
        Up to ``beam_width`` :class:`Decoded` hypotheses (fewer where ``beam_prune``
        dropped some), best score first;
        their ``frames`` come from each hypothesis's Viterbi alignment.
    """
    lp = check_log_probs(log_probs, blank)
    if not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise SlrPoseError(f"beam_width must be a positive integer, got {beam_width!r}")
    for name, value in (("prune", prune), ("beam_prune", beam_prune)):
        if not value > 0:
            raise SlrPoseError(f"{name} must be positive (a log-probability margin), got {value!r}")
    if not isinstance(max_candidates, (int, np.integer)) or max_candidates < 1:
        raise SlrPoseError(f"max_candidates must be a positive integer, got {max_candidates!r}")
    lm = check_lm(lm, lp.shape[1])
    return decode_segment(lp, int(beam_width), blank, lm, lm_weight, insertion_bonus, prune, beam_prune,
                          int(max_candidates))
