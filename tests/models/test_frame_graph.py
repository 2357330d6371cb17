import torch

from slr_pose.models.conv_transformer import FrameGraphConv


def test_frame_graph_conv_is_stgcns_spatial_unit(graph57):
    """The aggregation computes relu(bn(sum_k W_k x (A_k * M_k))) exactly."""
    torch.manual_seed(0)
    a = torch.from_numpy(graph57.adjacency("spatial"))
    layer = FrameGraphConv(6, 16, a)
    with torch.no_grad():
        layer.importance.uniform_(0.5, 1.5)
        layer.bn.running_mean.uniform_(-1, 1)
        layer.bn.running_var.uniform_(0.5, 2)
    layer.eval()
    x = torch.randn(10, 6, 57)  # (graphs, C, V)
    dense = torch.einsum("bcv,kvw->bkcw", x, a * layer.importance)  # dense ST-GCN aggregation
    want = torch.einsum("bkcw,kco->bwo", dense, layer.weight) + layer.bias
    want = torch.relu(layer.bn(want.reshape(-1, 16))).view(10, 57, 16)
    got = layer(x.permute(2, 0, 1).contiguous())  # node-major (V, graphs, C)
    torch.testing.assert_close(got.permute(1, 0, 2), want, atol=1e-5, rtol=1e-5)
    # a node only hears its skeleton neighbours: changing a hand tip leaves the far shoulder alone
    names = graph57.layout.names
    tip, shoulder = names.index("right_hand/INDEX_FINGER_TIP"), names.index("pose/LEFT_SHOULDER")
    moved = x.clone()
    moved[:, :, tip] += 5.0
    out = layer(moved.permute(2, 0, 1).contiguous())
    assert torch.equal(out[shoulder], got[shoulder]) and not torch.equal(out[tip], got[tip])
