"""Training augmentation: reproducible, and each transform does what it says."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.augment import Augment
from slr_pose.graphs.normalisation.pipeline import Preprocessor
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


def _augmented(sample, seeds: int = 20, **transform):
    """The plain result and one per seed with only ``transform`` on."""
    pre = Preprocessor(NO_FACE, augment=Augment(**{**OFF, **transform}), **PLAIN)
    return Preprocessor(NO_FACE, **PLAIN)(sample), [pre(sample, rng=np.random.default_rng(k)) for k in range(seeds)]


def test_scale_changes_sizes_within_bounds(msl_samples):
    base, outs = _augmented(msl_samples[7], scale=0.2)
    m = base.landmark_mask
    ratios = [np.linalg.norm(out.x[3:6][:, m]) / np.linalg.norm(base.x[3:6][:, m]) for out in outs]
    assert 0.8 - 1e-6 <= min(ratios) < 0.95 and 1.05 < max(ratios) <= 1.2 + 1e-6


def _linear_map(base, out):
    """The 3x3 map taking the base joints to the augmented ones (least squares over valid points), and its residual."""
    m = base.landmark_mask
    p, q = base.x[:3, m].T, out.x[:3, m].T  # (P, 3)
    r, *_ = np.linalg.lstsq(p, q, rcond=None)
    return r.T, np.abs(p @ r - q).max()


def test_shear_alone_moves_x_by_y_and_y_by_x(msl_samples):
    base, outs = _augmented(msl_samples[7], shear=0.3)
    factors = []
    for out in outs:
        np.testing.assert_array_equal(out.landmark_mask, base.landmark_mask)
        r, residual = _linear_map(base, out)
        assert residual < 1e-5
        # x' = x + a * y, y' = b * x + y, z' = z
        a, b = r[0, 1], r[1, 0]
        np.testing.assert_allclose(r, [[1, a, 0], [b, 1, 0], [0, 0, 1]], atol=1e-5)
        np.testing.assert_allclose(out.x[2], base.x[2], atol=1e-6)
        factors += [a, b]
    factors = np.array(factors)
    assert np.abs(factors).max() <= 0.3 + 1e-5 and np.abs(factors).max() > 0.2
    assert (factors > 0.05).any() and (factors < -0.05).any()


def test_crop_alone_cuts_at_most_its_fraction(msl_samples):
    base, outs = _augmented(msl_samples[3], seeds=30, crop=0.4)
    assert base.length == 30
    cuts = []
    for out in outs:
        src = out.source_index[: out.length]
        np.testing.assert_allclose(np.diff(src), 1.0, atol=1e-5)  # same speed: only the ends move
        assert src[0] >= 0 and src[-1] <= 29
        cut = 1 - (src[-1] - src[0]) / 29
        assert cut <= 0.4 + 1 / 29  # the last partial frame may be lost to whole-frame steps
        cuts.append(cut)
        # the values are the uncut clip's, sampled at the cut's positions
        i0, w = np.floor(src).astype(int), (src - np.floor(src))[None, :, None]
        i1 = np.minimum(i0 + 1, 29)
        both = base.landmark_mask[i0] & base.landmark_mask[i1]
        want = (1 - w) * base.x[:, i0] + w * base.x[:, i1]
        np.testing.assert_allclose(out.x[:3][:, both], want[:3][:, both], atol=1e-5)
    assert max(cuts) > 0.3 and min(cuts) < 0.1


def test_depth_rotation_turns_in_3d_and_keeps_bone_lengths(msl_samples):
    base, outs = _augmented(msl_samples[5], depth_rotation=30)
    m = base.landmark_mask
    yaws, pitches = [], []
    for out in outs:
        # 3D bone lengths stay; their lengths in the image plane do not
        np.testing.assert_allclose(np.linalg.norm(out.x[3:6], axis=0), np.linalg.norm(base.x[3:6], axis=0), atol=1e-5)
        r, residual = _linear_map(base, out)
        assert residual < 1e-5
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5)  # a rotation
        assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-5)
        # turning (about y) then nodding (about x): y' = cos(p) y - sin(p) z never involves x
        assert abs(r[1, 0]) < 1e-5
        yaws.append(np.degrees(np.arctan2(-r[2, 0], r[0, 0])))
        pitches.append(np.degrees(np.arctan2(-r[1, 2], r[1, 1])))
        assert np.abs(out.x[2, m] - base.x[2, m]).max() > 1e-3  # z changes
    for angles in (np.array(yaws), np.array(pitches)):
        assert np.abs(angles).max() <= 30 + 1e-3 and np.abs(angles).max() > 15
    flat, turned = np.linalg.norm(base.x[3:5], axis=0), np.linalg.norm(outs[0].x[3:5], axis=0)
    assert np.abs(turned - flat)[m].max() > 0.01


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
