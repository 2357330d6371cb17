"""Signer boxes on real MediaPipe landmarks of the bundled MSL-150 videos, and the crops they give."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.video import VideoFrames
from slr_pose.rgb.crop import Box, box_landmarks, clamp, crop_frames, signer_box

BODY = ("pose/LEFT_WRIST", "pose/RIGHT_WRIST", "pose/LEFT_SHOULDER", "pose/RIGHT_SHOULDER")


@pytest.fixture(scope="module")
def store(msl_rgb) -> PoseStore:
    return PoseStore(msl_rgb[0])


def pixels(sample, layout, names, width, height):
    """``(x, y, found)`` of named landmarks in pixels, ``(T, K)`` each; points past the edge sit on it."""
    idx = layout.index(names)
    xy = np.clip(sample.xyz[:, idx, :2], 0, 1) * [width, height]
    return xy[..., 0], xy[..., 1], sample.valid(layout)[:, idx]


def test_the_box_holds_wrists_and_shoulders_of_every_frame(store):
    for i in range(len(store)):
        s = store.read(i)
        w, h = s.info.width, s.info.height
        box = signer_box(s, store.layout)
        assert box.found and box.inside(w, h), (s.info.id, box)
        x, y, found = pixels(s, store.layout, BODY, w, h)
        assert found[:, 2:].all()  # both shoulders in every frame of these clips
        assert box.contains(x, y)[found].all(), s.info.id
        # and every detected hand point
        hands = [n for n in store.layout.names if n.startswith(("left_hand/", "right_hand/"))]
        hx, hy, hfound = pixels(s, store.layout, hands, w, h)
        assert box.contains(hx, hy)[hfound].all(), s.info.id
        # a signer, not the room: at most the frame's height, at least a third of it
        assert h / 3 < box.side <= h


def test_the_box_scales_with_the_frame_it_is_for(store):
    s = store.read(store.index_of("doctor_001"))
    full = signer_box(s, store.layout)
    small = signer_box(s, store.layout, size=(320, 180))  # the frames MediaPipe saw at --max-side 320
    scale = 320 / s.info.width
    assert small.inside(320, 180)
    assert abs(small.x0 - full.x0 * scale) <= 2 and abs(small.y0 - full.y0 * scale) <= 2
    assert abs(small.side - full.side * scale) <= 2


def test_missing_frames_and_nan_are_ignored(store):
    s = store.read(store.index_of("hoy_001"))
    layout = store.layout
    full = signer_box(s, layout)
    t = len(s.xyz)
    xyz, missing = s.xyz.copy(), s.missing.copy()
    xyz[: t // 2] = np.nan  # the first half lost entirely
    missing[t // 2 :, layout.groups.index("left_hand")] = True  # flagged missing, coordinates left as they were
    part = replace(s, xyz=xyz, missing=missing)
    box = signer_box(part, layout)
    x, y, found = pixels(part, layout, BODY, s.info.width, s.info.height)
    assert box.found and box.inside(s.info.width, s.info.height)
    assert found[t // 2 :].all() and not found[: t // 2].any()
    assert box.contains(x, y)[found].all()
    assert box.side <= full.side


def test_no_landmark_at_all_falls_back_to_the_centred_square(store):
    s = store.read(0)
    nothing = replace(s, xyz=np.full_like(s.xyz, np.nan), missing=np.ones_like(s.missing))
    box = signer_box(nothing, store.layout)
    assert box == Box(280, 0, 720, found=False)  # 1280 x 720: the middle 720 x 720


def test_clamp_moves_and_shrinks_into_the_frame():
    assert clamp(-30, -5, 100, 640, 480) == Box(0, 0, 100)
    assert clamp(600, 400, 100, 640, 480) == Box(540, 380, 100)
    assert clamp(-100, -100, 900, 640, 480) == Box(0, 0, 480)  # wider than the frame: cut to its shorter side
    with pytest.raises(SlrPoseError):
        clamp(0, 0, 10, 0, 480)


def test_crop_frames_on_real_frames(store, msl_rgb):
    s = store.read(store.index_of("doctor_001"))
    frames = np.stack([f.image for f in VideoFrames(msl_rgb[1] / s.info.source, fps=15, max_side=320)])
    box = signer_box(s, store.layout, size=(frames.shape[2], frames.shape[1]))
    out = crop_frames(frames, box, 112)
    assert out.shape == (len(frames), 112, 112, 3) and out.dtype == np.uint8
    # the crop is the box's pixels, resized: its mean colour matches the box's
    patch = frames[:, box.y0 : box.y1, box.x0 : box.x1].astype(np.float64)
    assert np.abs(out.mean((1, 2)) - patch.mean((1, 2))).max() < 2.0
    same = crop_frames(frames[:2], Box(box.x0, box.y0, 112), 112)  # no resize at the crop's own size
    assert np.array_equal(same, frames[:2, box.y0 : box.y0 + 112, box.x0 : box.x0 + 112])


def test_bad_inputs_are_one_line(store):
    s = store.read(0)
    with pytest.raises(SlrPoseError, match="frame size unknown"):
        signer_box(replace(s, info=replace(s.info, width=0)), store.layout)
    with pytest.raises(SlrPoseError, match="margin"):
        signer_box(s, store.layout, margin=-0.1)
    with pytest.raises(SlrPoseError, match="does not lie inside"):
        crop_frames(np.zeros((1, 100, 100, 3), np.uint8), Box(50, 50, 80), 32)
    assert len(box_landmarks(store.layout)) == 21 + 42 + 128  # pose points, both hands, the face contour
