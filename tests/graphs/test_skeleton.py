import numpy as np
import pytest

from slr_pose.errors import LayoutError
from slr_pose.graphs.skeleton import Skeleton
from slr_pose.graphs.subsets import SUBSETS, select
from slr_pose.keypoints.layout import holistic_layout

FULL = holistic_layout("full")


def names_of(sk, pairs):
    return {(sk.layout.names[a], sk.layout.names[b]) for a, b in pairs}


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_every_subset_is_connected_and_partitioned(subset):
    layout, idx = select(FULL, subset)
    sk = Skeleton.from_layout(layout)
    assert np.isfinite(sk.hop_distance).all()
    a = sk.adjacency("spatial")
    assert a.shape == (3, sk.num_nodes, sk.num_nodes) and a.dtype == np.float32
    # the three partitions split one column-normalised adjacency
    np.testing.assert_allclose(a.sum(0).sum(0), 1.0, rtol=1e-5)
    # partitions are disjoint
    assert ((a > 0).sum(0) <= 1).all()
    assert sk.edge_index.shape == (2, 2 * len(sk.edges))


def test_upper_body_hands_graph():
    layout, _ = select(FULL, "upper_body_hands")
    sk = Skeleton.from_layout(layout)
    assert sk.num_nodes == 57 and sk.layout.names[sk.center] == "pose/NOSE"
    edges = names_of(sk, sk.edges)
    # contracted through the dropped inner eye corner
    assert ("pose/NOSE", "pose/LEFT_EYE") in edges
    # MediaPipe's separate models joined at the wrists
    assert ("pose/LEFT_WRIST", "left_hand/WRIST") in edges
    assert ("pose/RIGHT_WRIST", "right_hand/WRIST") in edges
    assert ("left_hand/INDEX_FINGER_PIP", "left_hand/INDEX_FINGER_DIP") in edges
    # no accidental link between the eyes through the face
    assert ("pose/LEFT_EYE", "pose/RIGHT_EYE") not in edges
    parents = sk.parents
    i = layout.names.index
    assert parents[i("left_hand/INDEX_FINGER_TIP")] == i("left_hand/INDEX_FINGER_DIP")
    assert parents[i("left_hand/WRIST")] == i("pose/LEFT_WRIST")
    assert parents[sk.center] == sk.center


def test_spatial_partitions_follow_stgcn():
    layout, _ = select(FULL, "upper_body_hands")
    sk = Skeleton.from_layout(layout)
    root, close, far = sk.adjacency("spatial")
    i = layout.names.index
    elbow, wrist = i("pose/LEFT_ELBOW"), i("pose/LEFT_WRIST")
    # A[k, a, b]: b aggregates from a; "close" holds a farther from the centre than b
    assert close[wrist, elbow] > 0 and far[elbow, wrist] > 0
    assert root[wrist, wrist] > 0 and close[elbow, wrist] == 0


def test_hands_only_layout_joins_the_two_hands():
    layout, _ = select(FULL, "hands")
    sk = Skeleton.from_layout(layout)
    assert len(sk.edges) == 2 * 21 + 1  # 21 bones per hand + one join
    assert np.isfinite(sk.hop_distance).all()


def test_face_subset_uses_contours_not_the_whole_mesh():
    layout, _ = select(FULL, "upper_body_hands_face")
    sk = Skeleton.from_layout(layout)
    degree = np.bincount(sk.edges.ravel(), minlength=sk.num_nodes)
    assert degree.max() <= 8


def test_subset_on_a_store_without_face():
    with pytest.raises(LayoutError, match="subset 'upper_body_hands_face' needs landmarks"):
        select(holistic_layout("none"), "upper_body_hands_face")
    with pytest.raises(LayoutError, match="unknown landmark subset"):
        select(FULL, "legs")
