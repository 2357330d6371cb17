"""The numba kernels agree with their NumPy twins on real sequences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from slr_pose.graphs.normalisation import kernels, twins
from slr_pose.graphs.normalisation.body_frame import BodyAnchors
from slr_pose.graphs.normalisation.pipeline import Augment, Preprocessor
from tests.graphs.real_sequences import FULL, NO_FACE

ALL_STREAMS = ("joint", "bone", "joint_motion", "bone_motion")
CONFIGS = {
    "default": {},
    "continuous-25fps": {"length": None, "fps": 25.0, "idle_speed": 0.5, "min_confidence": 0.95},
    "resample-2d": {"length": 32, "fit": "resample", "dims": 2, "max_gap": 3},
    "augmented": {"augment": Augment(mirror=0.5, depth_rotation=10, landmark_dropout=0.2, hand_dropout=0.5)},
    "hands": {"subset": "hands", "max_gap": 0},
}


def _agree(layout, samples, options):
    fast = Preprocessor(layout, streams=ALL_STREAMS, hand_frame=True, **options)
    twin = Preprocessor(layout, streams=ALL_STREAMS, hand_frame=True, backend="numpy", **options)
    for i, s in enumerate(samples):
        a, b = fast(s, rng=np.random.default_rng(i)), twin(s, rng=np.random.default_rng(i))
        np.testing.assert_allclose(a.x, b.x, rtol=1e-6, atol=1e-6, err_msg=s.info.id)
        np.testing.assert_array_equal(a.landmark_mask, b.landmark_mask, err_msg=s.info.id)
        np.testing.assert_array_equal(a.observed_mask, b.observed_mask, err_msg=s.info.id)
        np.testing.assert_array_equal(a.source_index, b.source_index, err_msg=s.info.id)
        assert a.mirrored == b.mirrored and a.body == b.body


@pytest.mark.realdata
@pytest.mark.parametrize("config", list(CONFIGS))
def test_twins_agree_on_kaggle(kaggle_samples, config):
    # the clips include frames and whole clips where one hand is never found
    hand_gone = [s.missing[:, 1:3].any() for s in kaggle_samples]
    assert all(hand_gone)
    _agree(FULL, kaggle_samples, CONFIGS[config])


@pytest.mark.parametrize("config", list(CONFIGS))
def test_twins_agree_on_msl(msl_samples, config):
    assert sum(s.missing[:, 1].any() for s in msl_samples) > 40  # left hand often missed
    _agree(NO_FACE, msl_samples, CONFIGS[config])


@pytest.mark.parametrize("min_confidence", [0.0, 0.5])
def test_nan_confidence_is_missing_in_both_twins(msl_samples, min_confidence):
    rng = np.random.default_rng(7)
    samples = []
    for s in msl_samples[:30]:
        conf = s.confidence.copy()
        conf[rng.random(conf.shape) < 0.05] = np.nan
        conf[:4, 11:13] = np.nan  # both shoulders: the body frame comes from the other frames
        samples.append(replace(s, confidence=conf))
    _agree(NO_FACE, samples, {"min_confidence": min_confidence})
    _agree(NO_FACE, samples, {"min_confidence": min_confidence, "length": None, "trim_idle": False, "max_gap": 0})
    pre = Preprocessor(NO_FACE, length=None, trim_idle=False, max_gap=0, min_confidence=min_confidence)
    for s in samples:
        out = pre(s)
        nan = np.isnan(s.confidence[:, NO_FACE.index(pre.layout.names)])
        assert nan.any() and not out.landmark_mask[nan].any()


def test_clip_frame_twin_on_partial_bodies(msl_samples):
    # shoulders gone in some frames, hands gone in others, then no pose at all
    r = BodyAnchors.from_layout(NO_FACE)
    for s in msl_samples[:20]:
        xyz = s.xyz.copy()
        xyz[::3, 11] = np.nan
        xyz[1::4, 33:54] = np.inf
        for x in (xyz, np.where(np.arange(75)[None, :, None] < 33, np.nan, xyz).astype(np.float32)):
            args = (x, s.missing, s.confidence, 0.9, r.ref, r.ref_group, 16 / 9, r.motion, r.motion_group, 30.0, 0.3, True)
            got, want = kernels.clip_frame(*args), twins.clip_frame(*args)
            np.testing.assert_allclose(got[:3], want[:3], rtol=1e-12)
            assert got[3:] == want[3:]
