import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import CTCRecognizer, Recognizer, gated_cross_entropy, load_encoder_state


def _model(make_encoder, graph, name="stgcn_small", **kwargs):
    torch.manual_seed(0)
    return Recognizer(make_encoder(name, graph), {"lsm": 5, "ase": 2}, **kwargs)


def test_forward_without_boundary_and_language_tags(graph57, msl, make_encoder):
    x, _ = msl
    model = _model(make_encoder, graph57, dropout=0.3).eval()
    lang = model.language_ids(["ase", "lsm", "lsm"])
    assert lang.tolist() == [1, 0, 0] and model.languages == ["lsm", "ase"]
    out = model(x[:3], lang)
    assert out.boundary is None and out.logits.shape == (3, 5) and out.features.shape == (3, 128)
    torch.testing.assert_close(out.features, model.forward_features(x[:3]))
    with pytest.raises(SlrPoseError, match="'bsl'"):
        model.language_ids(["bsl"])


def test_reset_classifier_keeps_the_encoder_and_changes_the_languages(graph57, msl, make_encoder):
    x, _ = msl
    model = _model(make_encoder, graph57, boundary=True).eval()
    enc_state = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    before = model(x[:2], torch.tensor([0, 0]))
    model.reset_classifier({"rsl": 9, "lsm": 3, "asl": 4})
    after = model(x[:2], torch.tensor([0, 1]))
    assert model.classes == {"rsl": 9, "lsm": 3, "asl": 4}
    assert after.logits.shape == (2, 9) and (after.logits[1, 3:] == -1e4).all()
    torch.testing.assert_close(after.features, before.features)
    torch.testing.assert_close(after.boundary, before.boundary)  # boundary head kept
    for k, v in model.encoder.state_dict().items():
        assert torch.equal(v, enc_state[k])


def test_frozen_encoder_does_not_change_while_the_head_learns(graph57, msl, make_encoder):
    x, y = msl
    model = _model(make_encoder, graph57)
    model.freeze_encoder()
    model.train()
    assert not model.encoder.training and model.head.training
    assert not any(p.requires_grad for p in model.encoder.parameters())
    enc_state = {k: v.clone() for k, v in model.encoder.state_dict().items()}  # incl. BN running stats
    head_before = model.head.heads["lsm"].weight.clone()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    lang = torch.zeros(8, dtype=torch.long)
    for _ in range(3):
        loss = gated_cross_entropy(model(x[:8], lang).logits, y[:8], lang)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in model.encoder.state_dict().items():
        assert torch.equal(v, enc_state[k]), k
    assert not torch.equal(model.head.heads["lsm"].weight, head_before)
    model.freeze_encoder(False)
    assert model.encoder.training and all(p.requires_grad for p in model.encoder.parameters())


def test_encoder_weights_load_into_a_ctc_model(graph57, make_encoder):
    islr = _model(make_encoder, graph57)
    with torch.no_grad():
        for p in islr.encoder.parameters():
            p.add_(0.5)
    torch.manual_seed(1)
    ctc = CTCRecognizer(make_encoder("stgcn_small", graph57), {"lsm": 20}, hidden=32, layers=1)
    load_encoder_state(ctc, islr.state_dict())
    for k, v in islr.encoder.state_dict().items():
        assert torch.equal(ctc.encoder.state_dict()[k], v)
    other = CTCRecognizer(make_encoder("ctrgcn_tiny", graph57), {"lsm": 20}, hidden=32, layers=1)
    with pytest.raises(SlrPoseError, match="do not fit"):
        load_encoder_state(other, islr.state_dict())
    with pytest.raises(SlrPoseError, match="no weights under 'encoder.'"):
        load_encoder_state(ctc, {"head.weight": torch.zeros(2)})
    wide = Recognizer(make_encoder("stgcn_small", graph57, base_channels=16), {"lsm": 5})
    with pytest.raises(SlrPoseError, match="has shape"):
        load_encoder_state(ctc, wide.state_dict())
