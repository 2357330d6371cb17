"""Numba kernels of the normalisation pipeline (compiled once, cached on disk).

Two kernels do all per-frame work, so a sample costs two compiled calls:

- :func:`clip_frame`: the clip's body frame (centre and scale) and its active
  span (first and last frame with a hand in view and, optionally, moving);
- :func:`normalise`: gather a landmark subset, apply one affine map (aspect,
  centre, scale, mirror and augmentation folded together), fill short gaps,
  resample in time, zero what stays missing and write the streams.

:mod:`slr_pose.graphs.normalisation.twins` holds a plain NumPy twin of each, used only by
tests (which check that the two agree on real sequences) and benchmarks.

Conventions shared by both:

- a point is valid when its group is not marked missing, its x, y, z are
  finite and within ``LIMIT`` (image-normalised coordinates beyond that are
  detector failures, and would overflow float32 once scaled), and its
  confidence is at least ``min_conf`` (so a NaN confidence means missing;
  MediaPipe's pose visibility: low for body points outside the frame, whose
  positions it guesses; hand and face points have confidence 1 when found);
- ``xyz`` is ``(T, V, 3)`` float32 as stored (x, y fractions of width and
  height, MediaPipe's relative z), ``missing`` is ``(T, G)`` bool.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

#: |coordinate| above this (in image widths/heights) marks a point invalid.
LIMIT = 1.0e4
#: A body scale below this (image heights) is degenerate.
MIN_SCALE = 1.0e-4
#: Shoulder width / palm length (wrist to middle-finger MCP, 3D), the median
#: over the MSL-150 keypoints (3.49 and 3.44 for the two hands, one signer,
#: 1280x720): puts hands-only clips in about the units of the body frame.
SHOULDERS_PER_PALM = 3.5

#: Method codes returned by :func:`clip_frame`.
BODY_SHOULDERS, BODY_HANDS, BODY_IMAGE = 0, 1, 2
#: Stream codes understood by :func:`normalise`.
JOINT, BONE, JOINT_MOTION, BONE_MOTION, HAND = 0, 1, 2, 3, 4


@nb.njit(cache=True)
def _finite(x, y, z):
    # scalars only: passing arrays to a helper costs reference counting per call
    return -LIMIT <= x <= LIMIT and -LIMIT <= y <= LIMIT and -LIMIT <= z <= LIMIT  # False for NaN


@nb.njit(cache=True)
def _validity(xyz, missing, confidence, min_conf, points, groups):
    """``(T, len(points))`` bool: the point (store index, -1 if absent) is valid."""
    out = np.zeros((xyz.shape[0], points.shape[0]), np.bool_)
    for t in range(xyz.shape[0]):
        for k in range(points.shape[0]):
            v, g = points[k], groups[k]
            if v >= 0 and (g < 0 or not missing[t, g]) and confidence[t, v] >= min_conf:
                out[t, k] = _finite(xyz[t, v, 0], xyz[t, v, 1], xyz[t, v, 2])
    return out


@nb.njit(cache=True)
def clip_frame(xyz, missing, confidence, min_conf, ref, ref_group, aspect, motion, motion_group, fps, idle_speed, trim):
    """The body frame and the active span of one clip.

    Args:
        xyz: ``(T, V, 3)`` float32 stored landmarks; missing: ``(T, G)`` bool;
            confidence: ``(T, V)`` float32; min_conf: the least valid confidence.
        ref: ``(6,)`` int64 store indices (-1 if absent) of the left and right
            shoulder, left wrist and middle-finger MCP (hand model), right
            wrist and middle-finger MCP; ref_group: their mask columns.
        aspect: width / height of the source frames.
        motion: ``(M,)`` int64 indices whose presence means a hand is in view
            (and whose speed means it signs); motion_group: their columns.
        fps: frames per second (only used with ``idle_speed > 0``).
        idle_speed: a frame is idle below this mean speed of the motion
            points, in body scales per second; 0 disables the motion test.
        trim: compute the active span (else it is the whole clip).

    Returns:
        ``(cx, cy, scale, method, first, last)``: the centre (isotropic image
        units: x * aspect, y), the scale (image heights per body unit), the
        method (``BODY_SHOULDERS``: median shoulder midpoint and 2D width over
        frames with both shoulders; ``BODY_HANDS``: median hand-model wrist and
        median palm length * ``SHOULDERS_PER_PALM``; ``BODY_IMAGE``: the image
        centre and height), and the first and last active frame (the whole
        clip when no frame is active).
    """
    t_len = xyz.shape[0]
    cx, cy, scale, method = 0.5 * aspect, 0.5, 1.0, BODY_IMAGE
    okr = _validity(xyz, missing, confidence, min_conf, ref, ref_group)
    # shoulders
    mx = np.empty(t_len)
    my = np.empty(t_len)
    width = np.empty(t_len)
    n = 0
    ls, rs = ref[0], ref[1]
    for t in range(t_len):
        if okr[t, 0] and okr[t, 1]:
            x0, y0 = np.float64(xyz[t, ls, 0]) * aspect, np.float64(xyz[t, ls, 1])
            x1, y1 = np.float64(xyz[t, rs, 0]) * aspect, np.float64(xyz[t, rs, 1])
            mx[n] = 0.5 * (x0 + x1)
            my[n] = 0.5 * (y0 + y1)
            width[n] = math.sqrt((x0 - x1) ** 2 + (y0 - y1) ** 2)
            n += 1
    if n > 0:
        w = np.median(width[:n])
        if w >= MIN_SCALE:
            cx, cy, scale, method = np.median(mx[:n]), np.median(my[:n]), w, BODY_SHOULDERS
    if method == BODY_IMAGE:
        # hands: wrist-centred, palm-scaled
        wx = np.empty(2 * t_len)
        wy = np.empty(2 * t_len)
        palm = np.empty(2 * t_len)
        n = 0
        for h in range(2):
            wi, mi = ref[2 + 2 * h], ref[3 + 2 * h]
            for t in range(t_len):
                if okr[t, 2 + 2 * h] and okr[t, 3 + 2 * h]:
                    wx[n] = np.float64(xyz[t, wi, 0]) * aspect
                    wy[n] = np.float64(xyz[t, wi, 1])
                    dx = np.float64(xyz[t, mi, 0]) * aspect - wx[n]
                    dy = np.float64(xyz[t, mi, 1]) - wy[n]
                    dz = (np.float64(xyz[t, mi, 2]) - np.float64(xyz[t, wi, 2])) * aspect
                    palm[n] = math.sqrt(dx * dx + dy * dy + dz * dz)
                    n += 1
        if n > 0:
            p = np.median(palm[:n]) * SHOULDERS_PER_PALM
            if p >= MIN_SCALE:
                cx, cy, scale, method = np.median(wx[:n]), np.median(wy[:n]), p, BODY_HANDS
    first, last = 0, t_len - 1
    if trim and motion.shape[0] > 0:
        okm = _validity(xyz, missing, confidence, min_conf, motion, motion_group)
        present = np.zeros(t_len, np.bool_)
        speed = np.zeros(t_len)
        for t in range(t_len):
            total, count = 0.0, 0
            for k in range(motion.shape[0]):
                v = motion[k]
                if okm[t, k]:
                    present[t] = True
                    if idle_speed > 0 and t > 0 and okm[t - 1, k]:
                        dx = np.float64(xyz[t, v, 0]) * aspect - np.float64(xyz[t - 1, v, 0]) * aspect
                        dy = np.float64(xyz[t, v, 1]) - np.float64(xyz[t - 1, v, 1])
                        total += math.sqrt(dx * dx + dy * dy)
                        count += 1
            if count > 0:
                speed[t] = total / count / scale * fps
        if t_len > 1:
            speed[0] = speed[1]
        first, last = -1, -1
        for t in range(t_len):
            moving = idle_speed <= 0 or speed[t] >= idle_speed or (t + 1 < t_len and speed[t + 1] >= idle_speed)
            if present[t] and moving:
                if first < 0:
                    first = t
                last = t
        if first < 0:
            first, last = 0, t_len - 1
    return cx, cy, scale, method, first, last


@nb.njit(cache=True)
def normalise(
    xyz, missing, confidence, min_conf, idx, gidx, affine, max_gap, first, step, n_pos, out_len, drop, parents, streams, dims,
    hand_of, hand_wrist, hand_palm, work,
):
    """Model input of one clip.

    Args:
        xyz, missing, confidence: the stored clip, ``(T, V_store, 3)``,
            ``(T, G)`` and ``(T, V_store)``; min_conf: the least valid confidence.
        idx, gidx: ``(V,)`` store index and mask column of each output node.
        affine: ``(3, 4)`` float64 map from stored (x, y, z, 1) to output xyz.
        max_gap: longest run of missing frames (per landmark, between two
            valid frames) that is filled by linear interpolation.
        first, step, n_pos: output frame ``k < n_pos`` samples the stored
            clip at fractional frame ``first + step * k`` (linear
            interpolation; a point is valid when both neighbours are, or when
            the nearer one is).
        out_len: output frames (``>= n_pos``; the rest is padding).
        drop: ``(out_len, V)`` bool points to drop after resampling, or ``(0, 0)``.
        parents: ``(V,)`` parent node of each node (bones).
        streams: stream codes (``JOINT``, ``BONE``, ``JOINT_MOTION``,
            ``BONE_MOTION``, ``HAND``); dims: 2 (x, y) or 3 (x, y, z).
        hand_of: ``(V,)`` 0 / 1 for left / right hand nodes, else -1;
            hand_wrist, hand_palm: ``(2,)`` node of each hand's wrist and
            middle-finger MCP (-1 if absent). ``HAND`` is the node minus its
            hand's wrist over the clip's median palm length.
        work: float64 scratch of ``3 * V * (T + n_pos)`` values, reused
            across calls (a smaller one is replaced): allocating and freeing
            megabytes per call of a long clip made glibc return the memory to
            the system and fault it back in, 5x slower.

    Returns:
        ``x``: ``(len(streams) * dims, out_len, V)`` float32, zero where
        invalid; ``mask``: ``(out_len, V)`` bool, the joint is valid;
        ``observed``: ``(out_len, V)`` bool, valid and sampled from detections
        only (no gap filling); ``source``: ``(out_len,)`` float32 sampled
        position, -1 on padding.
    """
    v_len = idx.shape[0]
    positions = np.empty(n_pos)
    source = np.full(out_len, -1.0, np.float32)
    for k in range(n_pos):
        positions[k] = first + step * k
        source[k] = positions[k]
    t_len = xyz.shape[0]
    need = 3 * v_len * (t_len + n_pos)
    if work.shape[0] < need:
        work = np.empty(need)
    pts = work[: 3 * v_len * t_len].reshape((3, t_len, v_len))
    q = work[3 * v_len * t_len : need].reshape((3, n_pos, v_len))
    ok = _gather(xyz, missing, confidence, min_conf, idx, gidx, affine, pts)
    seen = ok
    if max_gap > 0:
        seen = ok.copy()
        _fill_gaps(pts, ok, max_gap)
    qok, qseen = _resample(pts, ok, seen, positions, out_len, drop, q)
    out = np.empty((streams.shape[0] * dims, out_len, v_len), np.float32)
    out[:, n_pos:] = 0.0  # padding
    for si in range(streams.shape[0]):
        s, base = streams[si], si * dims
        if s == JOINT:
            _copy(out, base, q, dims)
        elif s == BONE:
            _bone(out, base, q, qok, parents, dims)
        elif s == JOINT_MOTION:
            _motion(out, base, q, qok, dims)
        elif s == BONE_MOTION:
            _bone_motion(out, base, q, qok, parents, dims)
        elif s == HAND:
            _hand(out, base, q, qok, dims, hand_of, hand_wrist, _palm_lengths(pts, ok, hand_wrist, hand_palm))
    return out, qok, qseen, source


@nb.njit(cache=True)
def _gather(xyz, missing, confidence, min_conf, idx, gidx, affine, pts):
    """Subset and affine map into ``pts`` ``(3, T, V)`` (left as is where invalid); returns ``(T, V)`` validity."""
    t_len, v_len = xyz.shape[0], idx.shape[0]
    ok = np.zeros((t_len, v_len), np.bool_)
    # locals: stores into pts could alias affine, which would force reloads
    a00, a01, a02, a03 = affine[0, 0], affine[0, 1], affine[0, 2], affine[0, 3]
    a10, a11, a12, a13 = affine[1, 0], affine[1, 1], affine[1, 2], affine[1, 3]
    a20, a21, a22, a23 = affine[2, 0], affine[2, 1], affine[2, 2], affine[2, 3]
    for t in range(t_len):
        for j in range(v_len):
            s, g = idx[j], gidx[j]
            # not >=: a NaN confidence is missing, as in _validity
            if (g >= 0 and missing[t, g]) or not confidence[t, s] >= min_conf:
                continue
            x, y, z = xyz[t, s, 0], xyz[t, s, 1], xyz[t, s, 2]
            if _finite(x, y, z):
                pts[0, t, j] = a00 * x + a01 * y + a02 * z + a03
                pts[1, t, j] = a10 * x + a11 * y + a12 * z + a13
                pts[2, t, j] = a20 * x + a21 * y + a22 * z + a23
                ok[t, j] = True
    return ok


@nb.njit(cache=True)
def _fill_gaps(pts, ok, max_gap):
    """In place: linear interpolation over runs of at most ``max_gap`` invalid frames between valid ones."""
    t_len, v_len = ok.shape
    for j in range(v_len):
        last = -1
        for t in range(t_len):
            if not ok[t, j]:
                continue
            gap = t - last - 1
            if last >= 0 and 0 < gap <= max_gap:
                for u in range(last + 1, t):
                    w = (u - last) / (t - last)
                    for c in range(3):
                        pts[c, u, j] = pts[c, last, j] + w * (pts[c, t, j] - pts[c, last, j])
                    ok[u, j] = True
            last = t


@nb.njit(cache=True)
def _resample(pts, ok, seen, positions, out_len, drop, q):
    """Points at fractional frame positions, minus dropped ones, into ``q`` ``(3, L, V)`` (0 where invalid).

    Returns the ``(out_len, V)`` validity, and where it holds with every
    stored point used in ``seen`` (detected, not gap-filled).
    """
    t_len, v_len = ok.shape
    n_pos = positions.shape[0]
    qok = np.zeros((out_len, v_len), np.bool_)
    qseen = np.zeros((out_len, v_len), np.bool_)
    dropping = drop.shape[0] > 0
    for k in range(n_pos):
        p = min(max(positions[k], 0.0), t_len - 1.0)
        i0 = int(math.floor(p))
        i1 = min(i0 + 1, t_len - 1)
        w = p - i0
        if w == 0.0:  # a stored frame (no resampling): a plain copy
            for j in range(v_len):
                good = ok[i0, j] and not (dropping and drop[k, j])
                qok[k, j] = good
                qseen[k, j] = good and seen[i0, j]
                for c in range(3):
                    q[c, k, j] = pts[c, i0, j] if good else 0.0
            continue
        for j in range(v_len):
            for c in range(3):
                q[c, k, j] = 0.0
            if dropping and drop[k, j]:
                continue
            a, b = ok[i0, j], ok[i1, j]
            if a and b:
                for c in range(3):
                    q[c, k, j] = (1.0 - w) * pts[c, i0, j] + w * pts[c, i1, j]
                qok[k, j] = True
                qseen[k, j] = seen[i0, j] and seen[i1, j]
            elif a and w <= 0.5:
                for c in range(3):
                    q[c, k, j] = pts[c, i0, j]
                qok[k, j] = True
                qseen[k, j] = seen[i0, j]
            elif b and w >= 0.5:
                for c in range(3):
                    q[c, k, j] = pts[c, i1, j]
                qok[k, j] = True
                qseen[k, j] = seen[i1, j]
    return qok, qseen


# The stream writers fill channels base .. base + dims - 1 of out (C, out_len, V)
# for the real frames, writing 0 where a value needs an invalid point (out is
# not zeroed beforehand: that pass cost as much as a stream). They take out
# whole, as a slice of it would lose its contiguity for numba.


@nb.njit(cache=True)
def _copy(out, base, v, dims):
    for c in range(dims):
        for k in range(v.shape[1]):
            for j in range(v.shape[2]):
                out[base + c, k, j] = v[c, k, j]  # v is 0 where invalid


@nb.njit(cache=True)
def _bone(out, base, q, qok, parents, dims):
    """Node minus parent where both are valid."""
    for c in range(dims):
        for k in range(q.shape[1]):
            for j in range(q.shape[2]):
                pa = parents[j]
                good = qok[k, j] and qok[k, pa]
                out[base + c, k, j] = q[c, k, j] - q[c, k, pa] if good else 0.0


@nb.njit(cache=True)
def _bone_motion(out, base, q, qok, parents, dims):
    """Bone at k + 1 minus bone at k where all four points are valid; 0 at the last frame."""
    n = q.shape[1]
    for c in range(dims):
        for k in range(n):
            for j in range(q.shape[2]):
                pa = parents[j]
                good = k + 1 < n and qok[k, j] and qok[k, pa] and qok[k + 1, j] and qok[k + 1, pa]
                out[base + c, k, j] = (q[c, k + 1, j] - q[c, k + 1, pa]) - (q[c, k, j] - q[c, k, pa]) if good else 0.0


@nb.njit(cache=True)
def _motion(out, base, v, ok, dims):
    """``v[:, k + 1] - v[:, k]`` where both are valid; 0 at the last frame."""
    n = v.shape[1]
    for c in range(dims):
        for k in range(n):
            for j in range(v.shape[2]):
                good = k + 1 < n and ok[k, j] and ok[k + 1, j]
                out[base + c, k, j] = v[c, k + 1, j] - v[c, k, j] if good else 0.0


@nb.njit(cache=True)
def _hand(out, base, q, qok, dims, hand_of, hand_wrist, palm):
    """Hand nodes minus their wrist, over the hand's palm length; 0 elsewhere."""
    for c in range(dims):
        for k in range(q.shape[1]):
            for j in range(q.shape[2]):
                h = hand_of[j]
                good = h >= 0 and qok[k, j] and qok[k, hand_wrist[h]]
                out[base + c, k, j] = (q[c, k, j] - q[c, k, hand_wrist[h]]) / palm[h] if good else 0.0


@nb.njit(cache=True)
def _palm_lengths(pts, ok, hand_wrist, hand_palm):
    """Median 3D wrist to middle-finger-MCP length of each hand (1 when never seen)."""
    t_len = ok.shape[0]
    out = np.ones(2)
    buf = np.empty(t_len)
    for h in range(2):
        wr, mc = hand_wrist[h], hand_palm[h]
        if wr < 0 or mc < 0:
            continue
        n = 0
        for t in range(t_len):
            if ok[t, wr] and ok[t, mc]:
                d = 0.0
                for c in range(3):
                    d += (pts[c, t, mc] - pts[c, t, wr]) ** 2
                buf[n] = math.sqrt(d)
                n += 1
        if n > 0:
            m = np.median(buf[:n])
            if m >= MIN_SCALE:
                out[h] = m
    return out
