"""Plain NumPy twins of :mod:`slr_pose.graphs.normalisation.kernels`, for tests and benchmarks only.

Same signatures and results as the numba kernels (to float rounding), written
the way one would in NumPy: whole-array operations, no per-point loops. The
pipeline runs on them with ``Preprocessor(..., backend="numpy")``.
"""

from __future__ import annotations

import numpy as np

from slr_pose.graphs.normalisation.kernels import (
    BODY_HANDS,
    BODY_IMAGE,
    BODY_SHOULDERS,
    BONE,
    BONE_MOTION,
    HAND,
    JOINT,
    JOINT_MOTION,
    LIMIT,
    MIN_SCALE,
    SHOULDERS_PER_PALM,
)


def _valid(xyz, missing, confidence, min_conf, v, g) -> np.ndarray:
    """``(T, len(v))`` bool: point ``v[k]`` (mask column ``g[k]``) is valid in frame t."""
    v, g = np.atleast_1d(v), np.atleast_1d(g)
    ok = (np.abs(xyz[:, np.maximum(v, 0)]) <= LIMIT).all(-1)
    ok &= confidence[:, np.maximum(v, 0)] >= min_conf
    ok &= np.where(g >= 0, ~missing[:, np.maximum(g, 0)], True)
    return ok & (v >= 0)


def clip_frame(xyz, missing, confidence, min_conf, ref, ref_group, aspect, motion, motion_group, fps, idle_speed, trim):
    """Twin of :func:`slr_pose.graphs.normalisation.kernels.clip_frame`."""
    t_len = len(xyz)
    p = xyz.astype(np.float64)
    p[..., 0] *= aspect
    cx, cy, scale, method = 0.5 * aspect, 0.5, 1.0, BODY_IMAGE
    ls, rs = ref[0], ref[1]
    valid = lambda v, g: _valid(xyz, missing, confidence, min_conf, v, g)  # noqa: E731
    both = valid(ref[:2], ref_group[:2]).all(-1)
    if both.any():
        a, b = p[both, ls, :2], p[both, rs, :2]
        w = np.median(np.sqrt(((a - b) ** 2).sum(-1)))
        if w >= MIN_SCALE:
            mid = 0.5 * (a + b)
            cx, cy, scale, method = np.median(mid[:, 0]), np.median(mid[:, 1]), w, BODY_SHOULDERS
    if method == BODY_IMAGE:
        wrists, palms = [], []
        for h in range(2):
            wi, mi = ref[2 + 2 * h], ref[3 + 2 * h]
            sel = valid(ref[2 + 2 * h : 4 + 2 * h], ref_group[2 + 2 * h : 4 + 2 * h]).all(-1)
            d = p[sel, mi] - p[sel, wi]
            d[:, 2] *= aspect
            wrists.append(p[sel, wi, :2])
            palms.append(np.sqrt((d**2).sum(-1)))
        palm = np.concatenate(palms)
        if len(palm):
            s = np.median(palm) * SHOULDERS_PER_PALM
            if s >= MIN_SCALE:
                wr = np.concatenate(wrists)
                cx, cy, scale, method = np.median(wr[:, 0]), np.median(wr[:, 1]), s, BODY_HANDS
    first, last = 0, t_len - 1
    if trim and len(motion):
        ok = valid(motion, motion_group)  # (T, M)
        present = ok.any(-1)
        speed = np.zeros(t_len)
        if t_len > 1:
            step = np.sqrt(((p[1:, motion, :2] - p[:-1, motion, :2]) ** 2).sum(-1))
            pair = ok[1:] & ok[:-1]
            count = pair.sum(-1)
            total = np.where(pair, step, 0.0).sum(-1)
            speed[1:] = np.where(count > 0, total / np.maximum(count, 1) / scale * fps, 0.0)
            speed[0] = speed[1]
        moving = idle_speed <= 0 or (speed >= idle_speed) | (np.append(speed[1:], -np.inf) >= idle_speed)
        active = np.flatnonzero(present & moving)
        if len(active):
            first, last = int(active[0]), int(active[-1])
    return cx, cy, scale, method, first, last


def normalise(
    xyz, missing, confidence, min_conf, idx, gidx, affine, max_gap, first, step, n_pos, out_len, drop, parents, streams, dims,
    hand_of, hand_wrist, hand_palm, work=None,
):
    """Twin of :func:`slr_pose.graphs.normalisation.kernels.normalise` (``work`` is not needed)."""
    t_len, v_len = len(xyz), len(idx)
    ok = _valid(xyz, missing, confidence, min_conf, idx, gidx)
    sub = np.where(ok[..., None], xyz[:, idx], 0.0)  # no inf * 0 below
    pts = sum(sub[..., c, None] * affine[:, c] for c in range(3)) + affine[:, 3]
    pts[~ok] = 0.0
    seen = ok
    # short gaps
    t = np.arange(t_len)[:, None]
    prev = np.maximum.accumulate(np.where(ok, t, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(ok, t, t_len)[::-1], axis=0)[::-1]
    fill = ~ok & (prev >= 0) & (nxt < t_len) & (nxt - prev - 1 <= max_gap)
    tf, jf = np.nonzero(fill)
    p0, p1 = prev[tf, jf], nxt[tf, jf]
    w = ((tf - p0) / (p1 - p0))[:, None]
    pts[tf, jf] = pts[p0, jf] + w * (pts[p1, jf] - pts[p0, jf])
    ok = ok | fill
    # time
    positions = first + step * np.arange(n_pos, dtype=np.float64)
    source = np.full(out_len, -1.0, np.float32)
    source[:n_pos] = positions
    p = np.clip(positions, 0.0, t_len - 1.0)
    i0 = np.floor(p).astype(np.int64)
    i1 = np.minimum(i0 + 1, t_len - 1)
    w = (p - i0)[:, None]
    a, b = ok[i0], ok[i1]
    q = np.zeros((out_len, v_len, 3))
    qok = np.zeros((out_len, v_len), bool)
    qseen = np.zeros((out_len, v_len), bool)
    lerp = (1.0 - w[..., None]) * pts[i0] + w[..., None] * pts[i1]
    use_a = a & ~b & (w <= 0.5)
    use_b = ~a & b & (w >= 0.5)
    q[:n_pos] = np.where((a & b)[..., None], lerp, np.where(use_a[..., None], pts[i0], np.where(use_b[..., None], pts[i1], 0.0)))
    qok[:n_pos] = (a & b) | use_a | use_b
    sa, sb = seen[i0], seen[i1]
    qseen[:n_pos] = np.where(w == 0.0, sa, (a & b & sa & sb) | (use_a & sa) | (use_b & sb))
    if drop.shape[0] > 0:
        qok[:n_pos] &= ~drop[:n_pos]
    qseen &= qok
    q[~qok] = 0.0
    # streams
    qv, pv = q[:n_pos], qok[:n_pos]
    bone = qv - qv[:, parents]
    bone_ok = pv & pv[:, parents]
    out = np.zeros((len(streams) * dims, out_len, v_len), np.float32)
    for si, s in enumerate(streams):
        if s == JOINT:
            val, good = qv, pv
        elif s == BONE:
            val, good = bone, bone_ok
        elif s == JOINT_MOTION:
            val = np.concatenate([qv[1:] - qv[:-1], np.zeros((1, v_len, 3))])
            good = np.concatenate([pv[1:] & pv[:-1], np.zeros((1, v_len), bool)])
        elif s == BONE_MOTION:
            val = np.concatenate([bone[1:] - bone[:-1], np.zeros((1, v_len, 3))])
            good = np.concatenate([bone_ok[1:] & bone_ok[:-1], np.zeros((1, v_len), bool)])
        elif s == HAND:
            palm = _palm_lengths(pts, ok, hand_wrist, hand_palm)
            h = np.maximum(hand_of, 0)
            wrist = qv[:, hand_wrist[h]]
            val = (qv - wrist) / palm[h][:, None]
            good = pv & pv[:, hand_wrist[h]] & (hand_of >= 0)
        out[si * dims : (si + 1) * dims, :n_pos] = np.where(good[..., None], val, 0.0)[..., :dims].transpose(2, 0, 1)
    return out, qok, qseen, source


def _palm_lengths(pts, ok, hand_wrist, hand_palm):
    out = np.ones(2)
    for h in range(2):
        wr, mc = hand_wrist[h], hand_palm[h]
        if wr < 0 or mc < 0:
            continue
        sel = ok[:, wr] & ok[:, mc]
        if sel.any():
            m = np.median(np.sqrt(((pts[sel, mc] - pts[sel, wr]) ** 2).sum(-1)))
            if m >= MIN_SCALE:
                out[h] = m
    return out
