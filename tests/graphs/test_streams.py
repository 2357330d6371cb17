"""Joint, bone, motion and hand-frame streams on real clips."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.graphs.streams import channel_slices
from tests.graphs.real_sequences import NO_FACE

ALL = ("joint", "bone", "joint_motion", "bone_motion")


@pytest.fixture(scope="module")
def processed(msl_samples):
    pre = Preprocessor(NO_FACE, streams=ALL, hand_frame=True, length=None, trim_idle=False)
    return pre, [pre(s) for s in msl_samples[:25]]


def test_channels_are_stacked_stream_by_stream(processed):
    pre, outs = processed
    assert pre.config.streams == ALL + ("hand",)
    assert pre.num_channels == 15 and pre.channels["bone"] == slice(3, 6) and pre.channels["hand"] == slice(12, 15)
    assert channel_slices(("joint", "bone"), 2) == {"joint": slice(0, 2), "bone": slice(2, 4)}
    assert all(o.x.shape == (15, 30, 57) for o in outs)


def test_bones_are_node_minus_parent(processed):
    pre, outs = processed
    parents = pre.skeleton.parents
    found = 0
    for o in outs:
        joint, bone, m = o.x[pre.channels["joint"]], o.x[pre.channels["bone"]], o.landmark_mask
        both = m & m[:, parents]
        np.testing.assert_allclose(bone[:, both], (joint - joint[:, :, parents])[:, both], atol=1e-6)
        assert not bone[:, ~both].any()
        assert not bone[:, :, pre.skeleton.center].any()
        found += both.mean() / len(outs)
    assert found > 0.5


def test_motion_is_the_next_frame_minus_this_one(processed):
    pre, outs = processed
    for o in outs:
        joint, motion, m = o.x[pre.channels["joint"]], o.x[pre.channels["joint_motion"]], o.landmark_mask
        both = m[:-1] & m[1:]
        np.testing.assert_allclose(motion[:, :-1][:, both], (joint[:, 1:] - joint[:, :-1])[:, both], atol=1e-6)
        assert not motion[:, -1].any() and not motion[:, :-1][:, ~both].any()
        bone, bmotion = o.x[pre.channels["bone"]], o.x[pre.channels["bone_motion"]]
        bm = m & m[:, pre.skeleton.parents]
        good = bm[:-1] & bm[1:]
        np.testing.assert_allclose(bmotion[:, :-1][:, good], (bone[:, 1:] - bone[:, :-1])[:, good], atol=1e-6)


def test_hand_frame_is_wrist_centred_and_palm_scaled(processed):
    pre, outs = processed
    names = pre.layout.names
    for side in ("left_hand", "right_hand"):
        wrist, mcp = names.index(f"{side}/WRIST"), names.index(f"{side}/MIDDLE_FINGER_MCP")
        for o in outs:
            hand = o.x[pre.channels["hand"]]
            seen = o.landmark_mask[:, wrist] & o.landmark_mask[:, mcp]
            if seen.sum() < 3:
                continue
            assert not hand[:, :, wrist].any()
            np.testing.assert_allclose(np.median(np.linalg.norm(hand[:, seen, mcp], axis=0)), 1.0, rtol=1e-5)
    body = [i for i, n in enumerate(names) if n.startswith("pose/")]
    assert all(not o.x[pre.channels["hand"]][:, :, body].any() for o in outs)


def test_hand_frame_ignores_where_the_hand_is_and_how_big(msl_samples):
    pre = Preprocessor(NO_FACE, streams=("hand",), length=None, trim_idle=False)
    s = next(s for s in msl_samples if not s.missing[:, 2].any())
    xyz = s.xyz.copy()
    hand = slice(54, 75)
    wrist = xyz[:, 54:55].copy()
    xyz[:, hand] = (xyz[:, hand] - wrist) * 1.7 + wrist + np.array([0.1, -0.05, 0.0], np.float32)
    np.testing.assert_allclose(pre(replace(s, xyz=xyz)).x, pre(s).x, atol=1e-4)


def test_hand_stream_needs_hands():
    from slr_pose.keypoints.layout import Layout

    pose_only = Layout("pose-only", NO_FACE.names[:33])
    with pytest.raises(SlrPoseError, match="needs landmarks the data lacks"):
        Preprocessor(pose_only, hand_frame=True)
