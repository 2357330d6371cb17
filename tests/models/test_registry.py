import math

import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import DEFAULT_MODEL, Recognizer, boundary_loss, create_model, gated_cross_entropy, list_models
from slr_pose.models.registry import register_model

FAMILIES = {"stgcn", "ctrgcn", "pyg_gcn", "pose_transformer", "conv_transformer"}


def test_registry_lists_every_family_and_the_default():
    names = list_models()
    assert FAMILIES <= set(names)
    assert DEFAULT_MODEL in names
    assert names == sorted(names)


def test_unknown_model_names_the_known_ones():
    with pytest.raises(SlrPoseError) as e:
        create_model("resnet50", in_channels=3, num_nodes=57)
    msg = str(e.value)
    assert "'resnet50'" in msg and "stgcn" in msg and "conv_transformer" in msg and "\n" not in msg


def test_bad_size_argument_and_missing_graph_are_user_errors(graph57):
    with pytest.raises(SlrPoseError, match="depht"):
        create_model("pose_transformer", in_channels=3, num_nodes=57, depht=2)
    with pytest.raises(SlrPoseError, match="adjacency"):
        create_model("stgcn", in_channels=3, num_nodes=57)
    with pytest.raises(SlrPoseError, match="edge_index"):
        create_model("pyg_gcn", in_channels=3, num_nodes=57)
    with pytest.raises(SlrPoseError, match=r"\(K, 42, 42\)"):
        create_model("ctrgcn", in_channels=3, num_nodes=42, adjacency=graph57.adjacency("spatial"))


def test_register_twice_is_refused():
    with pytest.raises(ValueError, match="stgcn"):

        @register_model
        def stgcn(in_channels, num_nodes):  # noqa: F811 - the clash is the point
            return None


def test_default_model_fits_the_cpu_budget_in_parameters(graph57, make_encoder):
    enc = make_encoder(DEFAULT_MODEL, graph57, in_channels=6)
    assert sum(p.numel() for p in enc.parameters()) <= 5_000_000


def test_size_arguments_change_the_model(graph57, make_encoder):
    small = make_encoder("stgcn", graph57, base_channels=16, num_blocks=4, inflate=(3,), down=(3,))
    assert small.num_features == 32 and small.temporal_stride == 2
    out = small.forward_features(torch.zeros(1, 3, 9, 57))
    assert out.shape == (1, 5, 32)


def _step(model, x, mask, lang, y, bnd):
    out = model(x, lang, mask)
    loss = gated_cross_entropy(out.logits, y, lang) + boundary_loss(out.boundary, bnd)
    model.zero_grad()
    loss.backward()
    return loss


@pytest.mark.parametrize("name", list_models("pose"))
def test_every_model_meets_the_encoder_contract(name, graph57, msl, make_encoder):
    x_all, y_all = msl
    pick = torch.tensor([0, 20, 40, 70])  # four different signs
    t = 20
    x, y = x_all[pick, :, 5:5 + t].contiguous(), y_all[pick]
    lengths = torch.tensor([t, 17, t, 11])
    mask = torch.arange(t)[None] < lengths[:, None]
    lang = torch.tensor([0, 0, 1, 1])
    y = torch.where(lang == 1, y % 2, y)  # language 1 has 2 classes
    bnd = torch.tensor([[0.1, 0.9], [0.0, 1.0], [0.2, 0.7], [-0.1, 0.8]])
    torch.manual_seed(0)
    enc = make_encoder(name, graph57)
    model = Recognizer(enc, {"lsm": 5, "ase": 2}, boundary=True)

    # every parameter learns. One SGD step first: zero-initialised gates (CTR-GCN's
    # alpha) block their branch's gradient until they have moved.
    model.train()
    _step(model, x, mask, lang, y, bnd)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.01 * p.grad.sign()
    loss = _step(model, x, mask, lang, y, bnd)
    assert torch.isfinite(loss)
    silent = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]
    assert not silent, f"{name}: no gradient for {silent}"

    # shapes and masks
    model.eval()
    t_out = math.ceil(t / enc.temporal_stride)
    fmask = enc.feature_mask(mask)
    assert fmask.shape == (4, t_out) and fmask.dtype == torch.bool
    assert fmask[:, 0].all() and not fmask[3].all()
    with torch.no_grad():
        fa = enc.forward_features(x, mask)
        logits, boundary = model.forward_head(model.pool(fa, fmask), lang)
    assert fa.shape == (4, t_out, enc.num_features)
    assert logits.shape == (4, 5) and boundary.shape == (4, 2)
    assert torch.isfinite(logits).all() and torch.isfinite(boundary).all()
    assert (logits[2:, 2:] == -1e4).all()

    # padding frames (of any value) do not change a clip's output
    if enc.masks_padding:
        g = torch.Generator().manual_seed(1)
        padded = torch.cat([x, 5 * torch.randn(4, 3, 9, 57, generator=g)], dim=2)
        padded[3, :, 11:t] = 7.0  # garbage in the masked tail of a shorter clip too
        pmask = torch.cat([mask, torch.zeros(4, 9, dtype=torch.bool)], dim=1)
        with torch.no_grad():
            out = model(padded, lang, pmask)
            fb = enc.forward_features(padded, pmask)[:, :t_out]
        torch.testing.assert_close(out.logits, logits, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(out.boundary, boundary, atol=1e-4, rtol=1e-4)
        real = fmask[..., None].expand_as(fa)
        torch.testing.assert_close(fb[real], fa[real], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", list_models("pose"))
def test_every_model_runs_on_the_hands_graph(name, hands_graph, make_encoder):
    enc = make_encoder(name, hands_graph, in_channels=2).eval()
    x = torch.randn(2, 2, 17, hands_graph.num_nodes)
    with torch.no_grad():
        out = enc.forward_features(x)
    assert out.shape == (2, math.ceil(17 / enc.temporal_stride), enc.num_features)
    assert torch.isfinite(out).all()
    with pytest.raises(SlrPoseError, match="is not"):
        enc.forward_features(torch.zeros(2, 3, 17, hands_graph.num_nodes))
