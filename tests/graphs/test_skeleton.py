import numpy as np
import pytest

from slr_pose.errors import LayoutError
from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.graphs.skeleton import Skeleton
from slr_pose.graphs.subsets import SUBSETS, select
from slr_pose.keypoints.layout import holistic_layout
from tests.graphs.real_sequences import NO_FACE

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


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_edge_index_holds_both_directions_of_every_edge(subset):
    sk = Skeleton.from_layout(select(FULL, subset)[0])
    ei = sk.edge_index
    assert ei.dtype == np.int64 and ei.shape == (2, 2 * len(sk.edges))
    pairs = set(map(tuple, ei.T.tolist()))
    assert len(pairs) == ei.shape[1]  # no edge twice, no self loop
    assert all((i, j) in pairs and (j, i) in pairs for i, j in sk.edges.tolist())
    assert not any(i == j for i, j in pairs)


def test_edge_index_drives_a_pyg_gcn_conv(msl_samples):
    """GCNConv on the edge list equals D^-1/2 (A + I) D^-1/2 X W with the skeleton's dense adjacency."""
    torch = pytest.importorskip("torch")
    GCNConv = pytest.importorskip("torch_geometric.nn").GCNConv
    pre = Preprocessor(NO_FACE, subset="upper_body_hands", length=None, streams=("joint",))
    sk = pre.skeleton
    out = pre(msl_samples[0])
    x = torch.from_numpy(out.x[:, 10].T.copy())  # (V, 3): one real frame's joints
    torch.manual_seed(0)
    conv = GCNConv(3, 8, bias=False)
    got = conv(x, torch.from_numpy(sk.edge_index)).detach().numpy()
    a = np.eye(sk.num_nodes)
    a[sk.edges[:, 0], sk.edges[:, 1]] = a[sk.edges[:, 1], sk.edges[:, 0]] = 1
    d = 1 / np.sqrt(a.sum(0))
    want = (d[:, None] * a * d[None, :]) @ x.double().numpy() @ conv.lin.weight.detach().double().numpy().T
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.abs(want).max() > 0.1
    # the same graph as the ST-GCN adjacency: "uniform" is A + I with columns normalised
    np.testing.assert_allclose(sk.adjacency("uniform")[0], a / a.sum(0), rtol=1e-6)
