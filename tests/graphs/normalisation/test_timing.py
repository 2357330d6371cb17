"""Gap filling, idle trimming, resampling and the source index, on real clips."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.graphs.normalisation.timing import frame_plan, plan_positions
from tests.graphs.real_sequences import NO_FACE

PLAIN = {"streams": ("joint",), "length": None, "trim_idle": False}


def _with_frames(s, xyz, missing):
    t = len(xyz)
    conf = np.isfinite(xyz).all(-1).astype(np.float32)
    return replace(s, xyz=xyz, missing=missing, confidence=conf, time=(np.arange(t) / 30).astype(np.float32))


@pytest.fixture(scope="module")
def right_hand_clip(msl_samples):
    """A real clip with the right hand found in every frame."""
    return next(s for s in msl_samples if not s.missing[:, 2].any())


def test_frame_plan():
    assert frame_plan(0, 29) == (0.0, 1.0, 30, 30)
    assert frame_plan(0, 29, step=2.0) == (0.0, 2.0, 15, 15)  # 30 -> 15 fps
    assert frame_plan(0, 29, length=64) == (0.0, 1.0, 30, 64)  # padded
    first, step, n, out = frame_plan(0, 29, length=64, fit="resample")
    assert (n, out) == (64, 64) and plan_positions(first, step, n)[-1] == pytest.approx(29)
    first, step, n, out = frame_plan(3, 99, length=16)
    np.testing.assert_allclose(plan_positions(first, step, n)[[0, -1]], [3, 99])
    assert frame_plan(5, 5, length=8) == (5.0, 1.0, 1, 8)  # a single frame
    assert frame_plan(0, 10, length=1) == (5.0, 0.0, 1, 1)


def test_short_gaps_are_filled_linearly_and_long_ones_stay_missing(right_hand_clip):
    s = right_hand_clip
    pre = Preprocessor(NO_FACE, max_gap=4, **PLAIN)
    hand = [i for i, n in enumerate(pre.layout.names) if n.startswith("right_hand/")]
    full = pre(s)
    for lo, hi, filled in ((10, 13, True), (10, 15, False), (0, 3, False), (27, 30, False)):
        missing = s.missing.copy()
        missing[lo:hi, 2] = True  # the hand model missed these frames
        out = pre(replace(s, missing=missing))
        assert out.landmark_mask[lo:hi][:, hand].all() == filled
        if filled:
            w = ((np.arange(lo, hi) - (lo - 1)) / (hi - lo + 1))[None, :, None]
            want = full.x[:, lo - 1 : lo, hand] * (1 - w) + full.x[:, hi : hi + 1, hand] * w
            np.testing.assert_allclose(out.x[:, lo:hi, hand], want, atol=1e-5)
        else:
            assert not out.landmark_mask[lo:hi][:, hand].any() and not out.x[:, lo:hi][:, :, hand].any()
        # the rest of the clip is untouched
        keep = np.r_[0:lo, hi:30]
        np.testing.assert_allclose(out.x[:, keep], full.x[:, keep], atol=1e-6)


def test_observed_mask_leaves_out_filled_points(right_hand_clip, msl_samples):
    s = right_hand_clip
    missing = s.missing.copy()
    missing[10:13, 2] = True
    pre = Preprocessor(NO_FACE, max_gap=4, **PLAIN)
    out = pre(replace(s, missing=missing))
    hand = [i for i, n in enumerate(pre.layout.names) if n.startswith("right_hand/")]
    assert out.landmark_mask[10:13][:, hand].all() and not out.observed_mask[10:13][:, hand].any()
    np.testing.assert_array_equal(np.delete(out.observed_mask, [10, 11, 12], 0), np.delete(out.landmark_mask, [10, 11, 12], 0))
    # real detection gaps: what is observed with filling is exactly what is valid without it
    filling, none = Preprocessor(NO_FACE, max_gap=8, **PLAIN), Preprocessor(NO_FACE, max_gap=0, **PLAIN)
    filled = 0
    for s in msl_samples:
        a, b = filling(s), none(s)
        np.testing.assert_array_equal(a.observed_mask, b.landmark_mask, err_msg=s.info.id)
        assert not (a.observed_mask & ~a.landmark_mask).any()
        filled += (a.landmark_mask & ~a.observed_mask).sum()
    assert filled > 100


def test_observed_mask_through_resampling(msl_samples):
    filling = Preprocessor(NO_FACE, max_gap=8, fps=25.0, **PLAIN)
    none = Preprocessor(NO_FACE, max_gap=0, **PLAIN)
    on_stored = between = 0
    for s in msl_samples:
        out, seen = filling(s), none(s).landmark_mask  # seen: (30, V) stored frames, detections only
        assert not (out.observed_mask & ~out.landmark_mask).any()
        for k, p in enumerate(out.source_index[: out.length]):
            i0 = int(np.floor(p))
            if p == i0:
                np.testing.assert_array_equal(out.observed_mask[k], seen[i0])
                on_stored += 1
            else:
                # between two detections resampling observes; next to none it cannot
                both, either = seen[i0] & seen[i0 + 1], seen[i0] | seen[i0 + 1]
                assert out.observed_mask[k][both].all() and not out.observed_mask[k][~either].any()
                between += 1
    assert on_stored >= 86 * 5 and between >= 86 * 19


def test_idle_frames_without_hands_are_trimmed(right_hand_clip):
    s = right_hand_clip
    pre = Preprocessor(NO_FACE, streams=("joint",), length=None, trim_idle=True)
    ref = pre(s)
    # five frames before the signing where MediaPipe found nothing ...
    empty = np.full((5, 75, 3), np.nan, np.float32)
    longer = _with_frames(s, np.concatenate([empty, s.xyz]), np.concatenate([np.ones((5, 3), bool), s.missing]))
    out = pre(longer)
    np.testing.assert_array_equal(out.source_index, ref.source_index + 5)
    np.testing.assert_allclose(out.x, ref.x, atol=1e-6)
    # ... or found the body but no hand
    body = np.repeat(s.xyz[:1], 5, axis=0)
    body[:, 33:75] = np.nan
    no_hand = np.repeat([[False, True, True]], 5, axis=0)
    longer = _with_frames(s, np.concatenate([body, s.xyz]), np.concatenate([no_hand, s.missing]))
    np.testing.assert_array_equal(pre(longer).source_index, ref.source_index + 5)
    # a clip with no hand at all is kept whole rather than emptied
    assert pre(_with_frames(s, body, no_hand)).length == 5


def test_still_hands_are_trimmed_with_idle_speed(right_hand_clip):
    s = right_hand_clip
    xyz = np.concatenate([np.repeat(s.xyz[:1], 8, axis=0), s.xyz])  # hands held still first
    missing = np.concatenate([np.repeat(s.missing[:1], 8, axis=0), s.missing])
    longer = _with_frames(s, xyz, missing)
    assert Preprocessor(NO_FACE, streams=("joint",), length=None, idle_speed=0.0)(longer).source_index[0] == 0
    moving = Preprocessor(NO_FACE, streams=("joint",), length=None, idle_speed=0.05)(longer)
    assert moving.source_index[0] >= 7


def test_fps_resampling_picks_stored_frames(right_hand_clip):
    s = right_hand_clip
    full = Preprocessor(NO_FACE, **PLAIN)(s)
    half = Preprocessor(NO_FACE, **{**PLAIN, "fps": 15.0})(s)
    assert half.x.shape[1] == 15
    np.testing.assert_array_equal(half.source_index, np.arange(0, 30, 2))
    np.testing.assert_allclose(half.x, full.x[:, ::2], atol=1e-6)
    # 30 -> 20 fps: every other output frame lies between two stored frames
    third = Preprocessor(NO_FACE, **{**PLAIN, "fps": 20.0})(s)
    np.testing.assert_allclose(third.source_index[:4], [0, 1.5, 3, 4.5])
    np.testing.assert_allclose(third.x[:, 1], (full.x[:, 1] + full.x[:, 2]) / 2, atol=1e-5)


def test_fixed_length_pads_or_resamples(right_hand_clip):
    s = right_hand_clip
    padded = Preprocessor(NO_FACE, streams=("joint",), length=64, trim_idle=False)(s)
    assert padded.x.shape == (3, 64, 57) and padded.length == 30
    assert (padded.source_index[30:] == -1).all() and not padded.x[:, 30:].any()
    assert not padded.landmark_mask[30:].any()
    stretched = Preprocessor(NO_FACE, streams=("joint",), length=64, fit="resample", trim_idle=False)(s)
    assert stretched.length == 64 and stretched.source_index[-1] == pytest.approx(29)
    squeezed = Preprocessor(NO_FACE, streams=("joint",), length=10, trim_idle=False)(s)
    assert squeezed.length == 10 and squeezed.source_index[[0, -1]].tolist() == [0, 29]


def test_continuous_signing_at_a_target_fps(msl_samples):
    # 20 real clips back to back: a 600-frame stream, resampled to 25 fps
    clips = msl_samples[:20]
    xyz = np.concatenate([s.xyz for s in clips])
    missing = np.concatenate([s.missing for s in clips])
    stream = _with_frames(clips[0], xyz, missing)
    stream = replace(stream, info=replace(stream.info, id="stream", length=len(xyz)))
    pre = Preprocessor(NO_FACE, length=None, fps=25.0, streams=("joint", "bone", "joint_motion"))
    out = pre(stream)
    assert out.x.shape[0] == 9 and out.x.shape[2] == 57 and np.isfinite(out.x).all()
    np.testing.assert_allclose(np.diff(out.source_index), 30 / 25, atol=1e-4)
    # the 7th sign (stored frames 180..209) maps to 25 output frames
    assert out.frames_of(180, 209).sum() == 25
