"""Training augmentation: reproducible, and each transform does what it says."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.augment import Augment
from slr_pose.graphs.pipeline import Preprocessor
from tests.graphs.real_sequences import NO_FACE

OFF = dict(rotation=0, scale=0, shear=0, translation=0, speed=0, crop=0, landmark_dropout=0, hand_dropout=0)
PLAIN = dict(streams=("joint", "bone"), length=None, trim_idle=False)


def test_same_seed_same_result_and_none_is_deterministic(msl_samples):
    aug = Augment(mirror=0.5, depth_rotation=15)
    pre = Preprocessor(NO_FACE, augment=aug)
    plain = Preprocessor(NO_FACE)
    for i, s in enumerate(msl_samples[:10]):
        a, b = pre(s, rng=np.random.default_rng(i)), pre(s, rng=np.random.default_rng(i))
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.source_index, b.source_index)
        c = pre(s, rng=np.random.default_rng(i + 1000))
        assert not np.array_equal(a.x, c.x)
        # no generator: augmentation off, the evaluation result
        np.testing.assert_array_equal(pre(s).x, plain(s).x)


def test_rotation_keeps_lengths_and_translation_keeps_bones(msl_samples):
    s = msl_samples[5]
    base = Preprocessor(NO_FACE, **PLAIN)(s)
    rotated = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "rotation": 40}), **PLAIN)(s, rng=np.random.default_rng(1))
    bone, rbone = base.x[3:6], rotated.x[3:6]
    np.testing.assert_allclose(np.linalg.norm(rbone[:2], axis=0), np.linalg.norm(bone[:2], axis=0), atol=1e-5)
    np.testing.assert_allclose(rbone[2], bone[2], atol=1e-6)  # in-plane rotation leaves depth alone
    # every bone turned by the same angle, within the configured 40 degrees
    m = base.landmark_mask
    (bx, by), (rx, ry) = bone[:2, m], rbone[:2, m]
    angle = np.arctan2((bx * ry - by * rx).sum(), (bx * rx + by * ry).sum())
    c, s_ = np.cos(angle), np.sin(angle)
    np.testing.assert_allclose(rx, c * bx - s_ * by, atol=1e-5)
    assert 0.1 < abs(np.degrees(angle)) <= 40
    moved = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "translation": 0.5}), **PLAIN)(s, rng=np.random.default_rng(2))
    np.testing.assert_allclose(moved.x[3:6], bone, atol=1e-5)
    shift = (moved.x[:2] - base.x[:2])[:, base.landmark_mask]
    assert np.ptp(shift, axis=1).max() < 1e-5 and np.abs(shift).max() > 0.01  # one rigid shift


def test_scale_and_shear_change_sizes_within_bounds(msl_samples):
    s = msl_samples[7]
    base = Preprocessor(NO_FACE, **PLAIN)(s)
    pre = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "scale": 0.2}), **PLAIN)
    ratios = []
    for seed in range(20):
        out = pre(s, rng=np.random.default_rng(seed))
        m = base.landmark_mask
        ratios.append(np.linalg.norm(out.x[3:6][:, m]) / np.linalg.norm(base.x[3:6][:, m]))
    assert 0.8 - 1e-6 <= min(ratios) < 0.95 and 1.05 < max(ratios) <= 1.2 + 1e-6


def test_landmark_and_hand_dropout(msl_samples):
    s = max(msl_samples, key=lambda s: (~s.missing[:, 1]).sum())  # the left hand seen most
    base = Preprocessor(NO_FACE, **PLAIN)(s)
    dropped = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "landmark_dropout": 0.3}), **PLAIN)
    rates = [1 - dropped(s, rng=np.random.default_rng(k)).landmark_mask.sum() / base.landmark_mask.sum() for k in range(10)]
    assert abs(np.mean(rates) - 0.3) < 0.03
    hands = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "hand_dropout": 1.0}), **PLAIN)
    names = hands.layout.names
    left = [i for i, n in enumerate(names) if n.startswith("left_hand/")]
    body = [i for i, n in enumerate(names) if n.startswith("pose/")]
    had = base.landmark_mask[:, left].any(1)
    assert had.sum() >= 10
    hits = 0
    for k in range(10):
        out = hands(s, rng=np.random.default_rng(k))
        gone = np.flatnonzero(had & ~out.landmark_mask[:, left].any(1))
        hits += len(gone) > 0
        if len(gone):
            span = slice(gone[0], gone[-1] + 1)
            assert not out.landmark_mask[span][:, left].any()  # one contiguous span
            assert not out.x[:, span][:, :, left].any()
        np.testing.assert_array_equal(out.landmark_mask[:, body], base.landmark_mask[:, body])
    assert hits >= 8


def test_speed_and_crop_choose_other_frames(msl_samples):
    s = msl_samples[0]
    pre = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "speed": 0.5, "crop": 0.4}), **PLAIN)
    lengths, firsts = set(), set()
    for k in range(20):
        out = pre(s, rng=np.random.default_rng(k))
        src = out.source_index
        assert src[0] >= 0 and src[-1] <= 29 and np.all(np.diff(src) > 0)
        lengths.add(out.length)
        firsts.add(round(float(src[0]), 3))
    assert len(lengths) > 5 and len(firsts) > 5 and max(lengths) > 30 and min(lengths) < 20


def test_mirror_probability(msl_samples):
    pre = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "mirror": 1.0}))
    assert all(pre(s, rng=np.random.default_rng(0)).mirrored for s in msl_samples[:5])
    half = Preprocessor(NO_FACE, augment=Augment(**{**OFF, "mirror": 0.5}))
    flips = [half(msl_samples[0], rng=np.random.default_rng(k)).mirrored for k in range(200)]
    assert 70 < sum(flips) < 130


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("scale", 1.5, r"augment scale=1.5 is outside \[0, 1\)"),
        ("rotation", -5, r"augment rotation=-5 is outside \[0, 180\]"),
        ("landmark_dropout", float("nan"), "augment landmark_dropout=nan"),
        ("mirror", "yes", "augment mirror='yes'"),
        ("speed", True, "augment speed=True"),
    ],
)
def test_bad_augment_values(field, value, message):
    with pytest.raises(SlrPoseError, match=message):
        Augment(**{field: value})
