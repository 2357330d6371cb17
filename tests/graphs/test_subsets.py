"""Landmark subsets: the three-point ``nose_wrists`` subset of tracker data (RWTH-BOSTON-104)."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.continuous.boston104 import PIXEL_SCALE, sentence_candidates
from slr_pose.errors import LayoutError
from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.graphs.skeleton import Skeleton
from slr_pose.graphs.subsets import select
from slr_pose.keypoints.layout import holistic_layout

NO_FACE = holistic_layout("none")


@pytest.mark.parametrize("face", ["none", "contour", "full"])
def test_nose_wrists_finds_the_three_pose_points_in_any_holistic_layout(face):
    layout = holistic_layout(face)
    sub, idx = select(layout, "nose_wrists")
    assert sub.names == ("pose/NOSE", "pose/LEFT_WRIST", "pose/RIGHT_WRIST")
    assert idx.tolist() == layout.index(list(sub.names)).tolist() == [0, 15, 16]  # MediaPipe's pose indices


def test_both_wrists_hang_from_the_nose():
    sk = Skeleton.from_layout(select(NO_FACE, "nose_wrists")[0])
    assert sk.center == 0
    # the dropped arms and shoulders join nose-wrist and, across the shoulders, wrist-wrist
    assert sk.edges.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert sk.parents.tolist() == [0, 0, 0]  # bone of a wrist = wrist - nose
    assert sk.adjacency("spatial").shape == (3, 3, 3)


def test_a_store_without_the_points_is_refused():
    hands_only = select(NO_FACE, "hands")[0]
    with pytest.raises(LayoutError, match="subset 'nose_wrists' needs landmarks"):
        select(hands_only, "nose_wrists")


@pytest.mark.realdata
def test_bone_is_hand_minus_nose_on_real_boston104_sentences(shared_data):
    pre = Preprocessor(NO_FACE, subset="nose_wrists", length=None, streams=("joint", "bone"), dims=2)
    candidates = sentence_candidates(shared_data / "boston104", NO_FACE)
    raw = np.load(shared_data / "boston104" / "sentences.npz")
    for k in (0, 57, 200):
        sample = candidates[k].load()
        out = pre(sample)
        # no shoulders and no hand model: the body frame falls back to the image (centre 0.5, scale 1)
        assert out.body == "image" and out.length == sample.info.length and out.landmark_mask.all()
        xy = raw["X"][k, : out.length].reshape(-1, 3, 2) / PIXEL_SCALE  # left hand, right hand, nose
        joint, bone = out.x[pre.channels["joint"]], out.x[pre.channels["bone"]]  # (2, T, 3): nose, left, right
        np.testing.assert_allclose(joint[:, :, 0].T, xy[:, 2] - 0.5, atol=1e-6)
        np.testing.assert_allclose(bone[:, :, 1].T, xy[:, 0] - xy[:, 2], atol=1e-6)  # left hand - nose
        np.testing.assert_allclose(bone[:, :, 2].T, xy[:, 1] - xy[:, 2], atol=1e-6)  # right hand - nose
        assert not bone[:, :, 0].any()
