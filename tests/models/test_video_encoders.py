"""torchvision's video backbones as encoders: shapes, gradients, weights files, language heads.

Sizes: MViTv2-S runs from a 1 x 8 x 8 clip up (every convolution is padded
and it normalises with LayerNorm); R3D-18 and S3D use BatchNorm, which in
training needs more than one value per channel at every layer, so one clip
must be at least 2 x 32 x 32 (R3D-18) or 8 x 96 x 96 (S3D; at 64 px its last
pooling sees a 2 x 2 grid whose max is the same everywhere, and some
weights get no gradient).
"""

from __future__ import annotations

import pytest

torchvision = pytest.importorskip("torchvision")
pytestmark = pytest.mark.rgb

import torch  # noqa: E402

from slr_pose.errors import SlrPoseError  # noqa: E402
from slr_pose.models import Recognizer  # noqa: E402
from slr_pose.models.registry import create_model  # noqa: E402
from slr_pose.models.video_encoders import KINETICS400, torchvision_video  # noqa: E402

#: name -> (small clip T, side, features D, T' for that T)
SMALL = {"mvit_v2_s": (8, 64, 768, 4), "r3d_18": (8, 64, 512, 1), "s3d": (8, 96, 1024, 1)}
#: build arguments that keep the gradient test deterministic (MViT's stochastic depth off)
DETERMINISTIC = {"mvit_v2_s": {"drop_path": 0.0}}


def build(name: str, **kwargs):
    return create_model(name, **{**DETERMINISTIC.get(name, {}), **kwargs})


@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_and_backward_reach_every_parameter(name, one_torch_thread):
    t, side, d, steps = SMALL[name]
    torch.manual_seed(0)
    enc = build(name, num_frames=t, side=side)
    assert enc.num_features == d and enc.masks_padding is False
    x = torch.randn(2, 3, t, side, side)
    feats = enc.forward_features(x, torch.ones(2, t, dtype=torch.bool))
    assert feats.shape == (2, steps, d) and steps == enc.output_steps(t) and torch.isfinite(feats).all()
    # a random projection: the plain sum of a LayerNorm output is constant, so it would have no gradient
    (feats * torch.randn_like(feats)).sum().backward()
    without = [n for n, p in enc.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert without == []


@pytest.mark.slow
def test_mvit_at_16_by_112(one_torch_thread):
    enc = build("mvit_v2_s", num_frames=16, side=112)
    feats = enc(torch.randn(1, 3, 16, 112, 112))
    assert feats.shape == (1, 8, 768) and enc.temporal_stride == 2
    feats.mean().backward()
    assert enc.backbone.conv_proj.weight.grad is not None


def test_the_smallest_clip_mvit_accepts(one_torch_thread):
    enc = build("mvit_v2_s")
    assert enc(torch.randn(1, 3, 1, 8, 8)).shape == (1, 1, 768)
    assert enc(torch.randn(1, 3, 3, 50, 50)).shape == (1, 2, 768)  # odd sizes too: the token grid comes from the input


def test_output_steps_match_the_backbones(one_torch_thread):
    enc = build("s3d").eval()
    for t in (5, 9, 16, 17):
        with torch.no_grad():
            assert enc(torch.randn(1, 3, t, 64, 64)).shape[1] == enc.output_steps(t)
    enc = build("r3d_18").eval()
    for t in (1, 9, 16):
        with torch.no_grad():
            assert enc(torch.randn(1, 3, t, 32, 32)).shape[1] == enc.output_steps(t)


def test_recognizer_with_two_language_heads(one_torch_thread):
    torch.manual_seed(0)
    enc = build("mvit_v2_s", num_frames=8, side=64)
    model = Recognizer(enc, {"ase": 20, "rsl": 5})
    x = torch.randn(3, 3, 8, 64, 64)
    mask = torch.tensor([[True] * 8, [True] * 8, [True] * 5 + [False] * 3])
    out = model(x, model.language_ids(["ase", "rsl", "rsl"]), mask)
    assert out.logits.shape == (3, 20) and out.features.shape == (3, 768)
    assert (out.logits[1:, 5:] == -1.0e4).all() and (out.logits[0] > -1.0e4).all()
    assert enc.feature_mask(mask).tolist()[2] == [True, True, True, False]  # step t' is frame 2 t'


def test_pretrained_file_round_trips(tmp_path, one_torch_thread):
    video = torchvision_video()
    for name, make in (("r3d_18", video.r3d_18), ("mvit_v2_s", video.mvit_v2_s)):
        torch.manual_seed(1)
        source = make()  # torchvision's model, classifier included, as a Kinetics file holds it
        path = tmp_path / f"{name}.pth"
        torch.save(source.state_dict(), path)
        enc = build(name, pretrained=str(path))
        want = source.state_dict()
        for k, v in enc.backbone.state_dict().items():
            assert torch.equal(v, want[k]), k
        # the encoder's own state dict loads too (its keys carry a "backbone." prefix)
        torch.save(enc.state_dict(), tmp_path / "again.pth")
        again = build(name, pretrained=str(tmp_path / "again.pth"))
        assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), enc.state_dict().values()))


def test_mismatched_weights_are_one_line(tmp_path, one_torch_thread):
    video = torchvision_video()
    r3d = tmp_path / "r3d.pth"
    torch.save(video.r3d_18().state_dict(), r3d)
    cases = {
        "does not fit s3d": lambda: build("s3d", pretrained=str(r3d)),
        "not found": lambda: build("r3d_18", pretrained=str(tmp_path / "none.pth")),
    }
    state = video.r3d_18().state_dict()
    state["stem.0.weight"] = state["stem.0.weight"][:32]
    torch.save(state, tmp_path / "cut.pth")
    cases["has shape"] = lambda: build("r3d_18", pretrained=str(tmp_path / "cut.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    cases["not a readable torch weights file"] = lambda: build("r3d_18", pretrained=str(tmp_path / "junk.pth"))
    torch.save([1, 2, 3], tmp_path / "list.pth")
    cases["holds no state dict"] = lambda: build("r3d_18", pretrained=str(tmp_path / "list.pth"))
    for text, call in cases.items():
        with pytest.raises(SlrPoseError, match=text) as e:
            call()
        assert "\n" not in str(e.value)


def test_an_offline_download_is_one_line(monkeypatch):
    def offline(self, *args, **kwargs):
        raise OSError("<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(torchvision_video().R3D_18_Weights, "get_state_dict", offline)  # as if the machine were offline
    with pytest.raises(SlrPoseError, match="cannot download the Kinetics-400 weights of r3d_18.*local weights file"):
        build("r3d_18", pretrained=KINETICS400)


def test_bad_build_arguments_and_inputs(one_torch_thread):
    with pytest.raises(SlrPoseError, match="in_channels must be 3"):
        build("r3d_18", in_channels=6)
    with pytest.raises(SlrPoseError, match="no argument 'num_nodes'"):
        build("mvit_v2_s", num_nodes=57)
    with pytest.raises(SlrPoseError, match="at least 5 frames"):
        build("s3d", num_frames=4)
    enc = build("r3d_18")
    with pytest.raises(SlrPoseError, match=r"not \(N, 3, T >= 1, H, W\)"):
        enc(torch.randn(1, 3, 8, 57))  # a pose tensor (N, C, T, V)
    with pytest.raises(SlrPoseError, match="frame_mask"):
        enc(torch.randn(1, 3, 8, 32, 32), torch.ones(1, 7, dtype=torch.bool))
