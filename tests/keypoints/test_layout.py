import numpy as np
import pytest

from slr_pose.errors import LayoutError
from slr_pose.keypoints.layout import Layout, face_contour_indices, holistic_layout


@pytest.mark.parametrize("face, n_face", [("none", 0), ("contour", 128), ("full", 468)])
def test_holistic_layout_sizes(face, n_face):
    layout = holistic_layout(face)
    assert len(layout) == 33 + 21 + 21 + n_face
    assert layout.group_slices["left_hand"] == slice(33, 54)
    assert layout.group_slices["right_hand"] == slice(54, 75)
    assert ("face" in layout.groups) == (n_face > 0)
    assert layout.names[0] == "pose/NOSE" and layout.names[33] == "left_hand/WRIST"


def test_group_index_maps_each_landmark_to_its_mask_column():
    layout = holistic_layout("contour")
    gi = layout.group_index
    assert gi[0] == 0 and gi[33] == 1 and gi[54] == 2 and gi[75] == 3 and gi[-1] == 3
    assert np.bincount(gi).tolist() == [33, 21, 21, 128]


def test_face_contour_is_lips_eyes_brows_oval():
    idx = face_contour_indices()
    assert len(idx) == 128 and 61 in idx and 291 in idx  # mouth corners


def test_index_and_subset():
    layout = holistic_layout("none")
    assert layout.index(["right_hand/WRIST", "pose/NOSE"]).tolist() == [54, 0]
    sub, idx = layout.subset(["right_hand/WRIST", "pose/NOSE"], "tiny")
    assert sub.names == ("pose/NOSE", "right_hand/WRIST") and idx.tolist() == [0, 54]


def test_missing_landmark_is_a_clear_error():
    with pytest.raises(LayoutError, match="has no landmark face/61"):
        holistic_layout("none").index(["pose/NOSE", "face/61"])


@pytest.mark.parametrize(
    "names, msg",
    [
        (("pose/NOSE", "pose/NOSE"), "twice"),
        (("nose",), "group/NAME"),
        (("left_hand/WRIST", "pose/NOSE"), "contiguous"),
    ],
)
def test_bad_layouts_are_rejected(names, msg):
    with pytest.raises(LayoutError, match=msg):
        Layout("bad", names)


def test_bad_face_detail():
    with pytest.raises(LayoutError, match="face detail 'eyes'"):
        holistic_layout("eyes")
