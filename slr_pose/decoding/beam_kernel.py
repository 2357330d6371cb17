"""The numba kernels behind :func:`slr_pose.decoding.ctc.beam_search`.

Prefixes are nodes of a trie that grows during the search (arrays ``parent``,
``token``, ``length``, plus the prefix's LM log-probability and LM state,
computed once when the node is created). Children are found through an
open-addressing hash on ``parent * C + token``. Per frame, every live prefix
spreads its probability to itself (blank, or a repeat of its last gloss) and
to its children (the candidate glosses of the frame); ``slot`` maps a node to
its entry among the next frame's hypotheses so that merging is O(1).

The plain-Python twin used by tests and benchmarks is
:func:`slr_pose.decoding.ctc_twin.prefix_beam_search_python`.
"""

from __future__ import annotations

import numba
import numpy as np

from slr_pose.decoding.hash_table import EMPTY, build, find
from slr_pose.decoding.lm_tables import lm_score


@numba.njit(cache=True, inline="always")
def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@numba.njit(cache=True, inline="always")
def _entry(node, slot, nxt_node, nxt_pb, nxt_pnb, n_next):
    """The index of ``node`` among the next frame's hypotheses (added, empty, if new), and the new count."""
    s = slot[node]
    if s < 0:
        s = n_next
        slot[node] = s
        nxt_node[s] = node
        nxt_pb[s] = -np.inf
        nxt_pnb[s] = -np.inf
        n_next += 1
    return s, n_next


@numba.njit(cache=True)
def _top(score: np.ndarray, n: int, k: int, order: np.ndarray) -> int:
    """Indices of the ``k`` highest of ``score[:n]`` into ``order``, best first, ties in index order.

    An insertion into a sorted prefix: n is a few times k here, cheaper than a full sort.
    """
    m = 0
    for i in range(n):
        v = score[i]
        if m == k and v <= score[order[m - 1]]:
            continue
        j = m if m < k else k - 1
        while j > 0 and score[order[j - 1]] < v:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
        if m < k:
            m += 1
    return m


@numba.njit(cache=True)
def _grow_int(a: np.ndarray, size: int, fill: int) -> np.ndarray:
    out = np.full(size, fill, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True)
def _grow_float(a: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True)
def _candidates(row: np.ndarray, blank: int, prune: float, max_candidates: int, out: np.ndarray) -> int:
    """Labels worth extending with at this frame: within ``prune`` of the best, at most ``max_candidates``."""
    best = -np.inf
    for c in range(row.shape[0]):
        if row[c] > best:
            best = row[c]
    threshold = best - prune
    n = 0
    for c in range(row.shape[0]):
        if c != blank and row[c] >= threshold and row[c] > -np.inf:
            out[n] = c
            n += 1
    if n > max_candidates:
        vals = np.empty(n)
        for i in range(n):
            vals[i] = -row[out[i]]
        order = np.argsort(vals, kind="mergesort")
        kept = out[:n][order[:max_candidates]].copy()
        out[:max_candidates] = kept
        n = max_candidates
    return n


@numba.njit(cache=True)
def prefix_beam_search_kernel(lp, blank, beam_width, prune, beam_prune, max_candidates,
                              use_lm, tables, n_words, token_word, lm_weight, insertion_bonus,
                              start_state, eos_word, add_eos, prev_token, prev_in_run):  # fmt: skip
    """CTC prefix beam search over ``lp`` (T, C).

    Hypotheses scoring more than ``beam_prune`` below the frame's best are dropped.
    ``prev_token`` / ``prev_in_run`` continue a stream: the last gloss emitted
    before ``lp`` and whether its run of frames reaches into ``lp``'s first
    frame (then repeating it at once emits nothing). ``start_state`` is the
    LM state to start from; ``add_eos`` adds ``lm_weight * log P(</s>)`` at the end.

    Returns ``(tokens, lengths, scores, ctc, lm)`` of the final hypotheses,
    best first: their glosses (row i holds ``lengths[i]`` ids), scores, CTC
    and LM log-probabilities.
    """
    T, C = lp.shape
    cap = 1024
    parent = np.full(cap, -1, dtype=np.int32)
    token = np.full(cap, -1, dtype=np.int32)
    length = np.zeros(cap, dtype=np.int32)
    lm_acc = np.zeros(cap)
    lm_state = np.zeros(cap, dtype=np.int32)
    slot = np.full(cap, -1, dtype=np.int32)
    token[0] = prev_token
    lm_state[0] = start_state
    n_nodes = 1
    hsize = 4096
    hkeys = np.full(hsize, EMPTY, dtype=np.int64)
    hvals = np.zeros(hsize, dtype=np.int32)

    B = beam_width
    cur_node = np.zeros(B, dtype=np.int32)
    cur_pb = np.full(B, -np.inf)
    cur_pnb = np.full(B, -np.inf)
    if prev_in_run and prev_token >= 0:
        cur_pnb[0] = 0.0
    else:
        cur_pb[0] = 0.0
    n_cur = 1

    width = B * (max_candidates + 1)
    nxt_node = np.zeros(width, dtype=np.int32)
    nxt_pb = np.empty(width)
    nxt_pnb = np.empty(width)
    score = np.empty(width)
    cands = np.empty(C, dtype=np.int64)
    order = np.empty(B, dtype=np.int64)

    for t in range(T):
        row = lp[t]
        nc = _candidates(row, blank, prune, max_candidates, cands)
        n_next = 0
        for b in range(n_cur):
            node = cur_node[b]
            pb = cur_pb[b]
            pnb = cur_pnb[b]
            ptot = _lae(pb, pnb)
            last = token[node]
            # stay on the same prefix: a blank, or one more frame of its last gloss
            s, n_next = _entry(node, slot, nxt_node, nxt_pb, nxt_pnb, n_next)
            nxt_pb[s] = _lae(nxt_pb[s], ptot + row[blank])
            if last >= 0:
                nxt_pnb[s] = _lae(nxt_pnb[s], pnb + row[last])
            # grow by one gloss (the same gloss again only after a blank)
            for i in range(nc):
                c = cands[i]
                p = (pb if c == last else ptot) + row[c]
                if p == -np.inf:
                    continue
                key = np.int64(node) * C + c
                h = find(hkeys, key)
                child = hvals[h] if hkeys[h] == key else -1
                if child < 0:
                    if n_nodes == cap:
                        cap *= 2
                        parent = _grow_int(parent, cap, -1)
                        token = _grow_int(token, cap, -1)
                        length = _grow_int(length, cap, 0)
                        lm_state = _grow_int(lm_state, cap, 0)
                        slot = _grow_int(slot, cap, -1)
                        lm_acc = _grow_float(lm_acc, cap)
                    child = n_nodes
                    n_nodes += 1
                    parent[child] = node
                    token[child] = c
                    length[child] = length[node] + 1
                    if use_lm:
                        lp_lm, st = lm_score(tables, n_words, lm_state[node], token_word[c])
                        lm_acc[child] = lm_acc[node] + lp_lm
                        lm_state[child] = st
                    hkeys[h] = key
                    hvals[h] = child
                    if 2 * n_nodes > hsize:
                        hsize *= 2
                        hkeys, hvals = build(hkeys, hvals, hsize)
                s, n_next = _entry(child, slot, nxt_node, nxt_pb, nxt_pnb, n_next)
                nxt_pnb[s] = _lae(nxt_pnb[s], p)
        for s in range(n_next):
            node = nxt_node[s]
            score[s] = _lae(nxt_pb[s], nxt_pnb[s]) + lm_weight * lm_acc[node] + insertion_bonus * length[node]
            slot[node] = -1
        n_cur = _top(score, n_next, B, order)
        while n_cur > 1 and score[order[n_cur - 1]] < score[order[0]] - beam_prune:
            n_cur -= 1  # hypotheses hopelessly behind the best are not worth a slot
        for b in range(n_cur):
            s = order[b]
            cur_node[b] = nxt_node[s]
            cur_pb[b] = nxt_pb[s]
            cur_pnb[b] = nxt_pnb[s]

    ctc = np.empty(n_cur)
    lm = np.empty(n_cur)
    final = np.empty(n_cur)
    for b in range(n_cur):
        node = cur_node[b]
        ctc[b] = _lae(cur_pb[b], cur_pnb[b])
        lm[b] = lm_acc[node]
        if use_lm and add_eos:
            lm[b] += lm_score(tables, n_words, lm_state[node], eos_word)[0]
        final[b] = ctc[b] + lm_weight * lm[b] + insertion_bonus * length[node]
    order = np.argsort(-final, kind="mergesort")
    longest = 0
    for b in range(n_cur):
        longest = max(longest, length[cur_node[b]])
    tokens = np.zeros((n_cur, longest), dtype=np.int64)
    lengths = np.empty(n_cur, dtype=np.int64)
    for i in range(n_cur):
        node = cur_node[order[i]]
        lengths[i] = length[node]
        for j in range(length[node] - 1, -1, -1):
            tokens[i, j] = token[node]
            node = parent[node]
    return tokens, lengths, final[order], ctc[order], lm[order]


@numba.njit(cache=True)
def best_path_lm_kernel(lp, blank, prune, max_candidates, tables, n_words, token_word, lm_weight,
                        insertion_bonus, start_state, prev_label):  # fmt: skip
    """Best-path decoding with LM terms: per frame, the label maximising
    ``log p + [emits a gloss] * (lm_weight * log P_lm + insertion_bonus)``.

    ``prev_label`` is the label of the frame before ``lp`` (-1 for none).
    Returns ``(labels, ctc, lm, state)``: the frame labels, the path's CTC and
    LM log-probabilities and the LM state after it.
    """
    T, C = lp.shape
    labels = np.empty(T, dtype=np.int64)
    cands = np.empty(C, dtype=np.int64)
    state = start_state
    prev = prev_label
    ctc = 0.0
    lm = 0.0
    for t in range(T):
        row = lp[t]
        best_label = blank
        best = row[blank]
        best_lm = 0.0
        best_state = state
        if prev >= 0 and prev != blank and row[prev] > best:
            best_label = prev
            best = row[prev]
        nc = _candidates(row, blank, prune, max_candidates, cands)
        for i in range(nc):
            c = cands[i]
            if c == prev:
                continue
            lp_lm, st = lm_score(tables, n_words, state, token_word[c])
            v = row[c] + lm_weight * lp_lm + insertion_bonus
            if v > best:
                best, best_label, best_lm, best_state = v, c, lp_lm, st
        labels[t] = best_label
        ctc += row[best_label]
        lm += best_lm
        state = best_state
        prev = best_label
    return labels, ctc, lm, state
