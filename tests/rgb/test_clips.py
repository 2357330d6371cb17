"""Clip sampling and video augmentation, on real signer crops of an MSL-150 video."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import SampleInfo
from slr_pose.keypoints.video import VideoFrames
from slr_pose.rgb.clips import KINETICS_MEAN, KINETICS_STD, ClipSampling, VideoAugment, sign_range, to_model_input
from slr_pose.rgb.crop import Box, crop_frames
from tests.rgb.conftest import MSL_VIDEOS

LOW = (0 - np.array(KINETICS_MEAN)) / np.array(KINETICS_STD)
HIGH = (1 - np.array(KINETICS_MEAN)) / np.array(KINETICS_STD)


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """16 real frames of doctor_001 (1280 x 720), the signer's square at 96 px."""
    video = [v for v in MSL_VIDEOS if v.stem == "doctor_001"][0]
    images = [f.image for f in VideoFrames(video, fps=15, max_side=320)][:16]
    return crop_frames(images, Box(100, 18, 119), 96)


def test_centred_window_in_evaluation():
    s = ClipSampling(16, 2)
    assert s.span == 31
    assert s.indices(100).tolist() == list(range(34, 65, 2))  # 69 spare frames, 34 before
    assert s.indices(31).tolist() == list(range(0, 31, 2))
    assert s.indices(100, start=10, stop=50).tolist() == list(range(14, 45, 2))


def test_a_short_sign_repeats_its_last_frame():
    assert ClipSampling(8, 2).indices(10).tolist() == [0, 2, 4, 6, 8, 9, 9, 9]
    assert ClipSampling(4, 1).indices(30, start=20, stop=22).tolist() == [20, 21, 21, 21]
    assert ClipSampling(4, 3).indices(1).tolist() == [0, 0, 0, 0]


def test_random_start_in_training_is_seeded_and_covers_every_start():
    s = ClipSampling(16, 2)
    a = [s.indices(60, np.random.default_rng(7)).tolist() for _ in range(3)]
    assert a[0] == a[1] == a[2]
    rng = np.random.default_rng(0)
    starts = np.array([s.indices(60, rng)[0] for _ in range(3000)])
    assert starts.min() == 0 and starts.max() == 60 - 31 and len(set(starts.tolist())) == 30
    for _ in range(50):
        idx = s.indices(60, rng, start=5, stop=45)
        assert idx[0] >= 5 and idx[-1] < 45 and (np.diff(idx) == 2).all()


def test_sign_range_uses_the_stored_sign_frames():
    assert sign_range(SampleInfo("a", length=40, sign_start=5, sign_end=30)) == (5, 31)
    assert sign_range(SampleInfo("a", length=40)) == (0, 40)
    assert sign_range(SampleInfo("a", length=40, sign_start=5)) == (5, 40)


def test_bad_sampling_is_one_line():
    with pytest.raises(SlrPoseError, match="num_frames"):
        ClipSampling(0, 2)
    with pytest.raises(SlrPoseError, match="not a non-empty range"):
        ClipSampling(4, 1).indices(10, start=10)


def test_model_input_shape_and_values(frames):
    x = to_model_input(frames)
    assert x.shape == (3, 16, 96, 96) and x.dtype == np.float32
    want = (frames[..., 0].astype(np.float32) / 255 - KINETICS_MEAN[0]) / KINETICS_STD[0]
    np.testing.assert_allclose(x[0], want, rtol=1e-6, atol=1e-6)
    assert to_model_input(frames, side=64).shape == (3, 16, 64, 64)


def test_augment_is_reproducible_and_stays_in_range(frames):
    aug = VideoAugment(out_side=64)
    x1, label = aug(frames, np.random.default_rng(3), "doctor")
    x2, _ = aug(frames, np.random.default_rng(3), "doctor")
    x3, _ = aug(frames, np.random.default_rng(4), "doctor")
    assert x1.shape == (3, 16, 64, 64) and x1.dtype == np.float32 and label == "doctor"
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)
    for c in range(3):
        assert LOW[c] - 1e-5 <= x1[c].min() and x1[c].max() <= HIGH[c] + 1e-5
    assert np.isfinite(x1).all()


def test_no_augmentation_is_the_evaluation_input(frames):
    none = VideoAugment(crop_scale=(1, 1), crop_ratio=(1, 1), brightness=0, contrast=0, saturation=0)
    x, _ = none(frames, np.random.default_rng(0), "doctor")
    np.testing.assert_allclose(x, to_model_input(frames), atol=1e-5)


def test_the_crop_is_one_window_for_the_whole_clip(frames):
    static = np.repeat(frames[:1], 8, axis=0)  # the same image 8 times
    aug = VideoAugment(out_side=48, crop_scale=(0.3, 0.5))
    x, _ = aug(static, np.random.default_rng(1))
    assert np.allclose(x[:, :1], x)  # same crop and colour in every frame: no flicker


def test_flip_only_with_a_policy_that_says_what_mirroring_means(frames):
    plain = dict(crop_scale=(1, 1), crop_ratio=(1, 1), brightness=0, contrast=0, saturation=0, flip_probability=1.0)
    x, label = VideoAugment(**plain)(frames, np.random.default_rng(0), "doctor")
    assert label == "doctor" and np.allclose(x, to_model_input(frames), atol=1e-5)  # default: never flipped
    policy = {"doctor": "doctor-left"}.get  # doctor mirrored is another sign; others may not be flipped
    x, label = VideoAugment(**plain, flip=policy)(frames, np.random.default_rng(0), "doctor")
    assert label == "doctor-left"
    np.testing.assert_allclose(x, to_model_input(np.ascontiguousarray(frames[:, :, ::-1])), atol=1e-5)
    x, label = VideoAugment(**plain, flip=policy)(frames, np.random.default_rng(0), "yo")
    assert label == "yo" and np.allclose(x, to_model_input(frames), atol=1e-5)


def test_bad_frames_and_options_are_one_line(frames):
    with pytest.raises(SlrPoseError, match=r"not \(T, S, S, 3\) uint8"):
        to_model_input(frames.astype(np.float32))
    with pytest.raises(SlrPoseError, match="crop_scale"):
        VideoAugment(crop_scale=(0.5, 1.5))
