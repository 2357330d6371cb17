import math

import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import CTCRecognizer, ctc_loss, gated_cross_entropy
from slr_pose.models.ctc import reverse_within_length


def _sentences(msl, n_sentences: int = 4, signs: int = 3):
    """Real signed 'sentences': consecutive MSL-150 clips of different signs joined in time."""
    x, y = msl
    order = [0, 20, 40, 60, 80, 10, 30, 50, 70, 5, 25, 45]
    xs, targets = [], []
    for s in range(n_sentences):
        idx = order[s * signs:(s + 1) * signs]
        xs.append(torch.cat([x[i] for i in idx], dim=1))  # (3, signs * 30, V)
        targets.append(y[idx] + 1)  # gloss ids 1..5
    return torch.stack(xs), torch.stack(targets)


def _model(make_encoder, graph, seq="bilstm", **kwargs):
    torch.manual_seed(0)
    enc = make_encoder("pose_transformer_small", graph, depth=1)
    return CTCRecognizer(enc, {"lsm": 5, "ase": 3}, sequence_model=seq, **kwargs)


@pytest.mark.parametrize("seq", ["bilstm", "transformer"])
@pytest.mark.parametrize("downsample", [1, 3])
def test_ctc_shapes_lengths_and_padding(seq, downsample, graph57, msl, make_encoder):
    x, _ = _sentences(msl, 2)
    lengths = torch.tensor([90, 61])
    mask = torch.arange(90)[None] < lengths[:, None]
    model = _model(make_encoder, graph57, seq, hidden=32, layers=2, downsample=downsample).eval()
    lang = torch.tensor([0, 1])
    with torch.no_grad():
        log_probs, out_lengths = model(x, lang, mask)
    steps = math.ceil(90 / downsample)
    assert log_probs.shape == (2, steps, 6)
    assert out_lengths.tolist() == [steps, math.ceil(61 / downsample)]
    assert out_lengths.tolist() == model.output_lengths(lengths).tolist()
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(2, steps))
    assert (log_probs[1, :, 4:] < -1e3).all()  # language "ase" has 3 glosses
    # extra padding (any values) leaves the real steps unchanged
    padded = torch.cat([x, 3 * torch.randn(2, 3, 14, 57)], dim=2)
    pmask = torch.cat([mask, torch.zeros(2, 14, dtype=torch.bool)], dim=1)
    with torch.no_grad():
        lp2, ol2 = model(padded, lang, pmask)
    assert ol2.tolist() == out_lengths.tolist()
    for i in range(2):
        n = out_lengths[i]
        torch.testing.assert_close(lp2[i, :n], log_probs[i, :n], atol=1e-4, rtol=1e-4)


def test_reverse_within_length_is_its_own_inverse():
    x = torch.arange(12.0).view(2, 6, 1)
    lengths = torch.tensor([6, 4])
    r = reverse_within_length(x, lengths)
    assert r[0, :, 0].tolist() == [5, 4, 3, 2, 1, 0]
    assert r[1, :, 0].tolist() == [9, 8, 7, 6, 10, 11]
    assert torch.equal(reverse_within_length(r, lengths), x)


def test_ctc_loss_falls_fast_on_a_tiny_real_batch(graph57, msl, make_encoder):
    x, targets = _sentences(msl, 4)
    model = _model(make_encoder, graph57, "bilstm", hidden=64, layers=1, downsample=2, dropout=0.0)
    lang = torch.zeros(4, dtype=torch.long)
    mask = torch.ones(4, 90, dtype=torch.bool)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        log_probs, out_lengths = model(x, lang, mask)
        loss = ctc_loss(log_probs, targets, out_lengths, torch.full((4,), 3))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # past the all-blank plateau (about 2 per gloss) and still falling
    assert losses[-1] < 0.1 * losses[0], losses[::5]
    assert losses[-1] < 0.75 * losses[20], losses[::5]


def test_gloss_span_head_pools_each_span(graph57, msl, make_encoder):
    x, targets = _sentences(msl, 2)
    model = _model(make_encoder, graph57, "transformer", hidden=32, layers=1, downsample=2, gloss_head=True).eval()
    lang = torch.tensor([0, 1])
    spans = torch.tensor([[[0, 30], [30, 60], [60, 90]], [[0, 31], [31, 90], [0, 0]]])
    with torch.no_grad():
        seq, mask = model.forward_sequence(x)
        logits = model.span_logits(seq, spans, lang)
        manual = torch.stack([seq[0, 0:15].mean(0), seq[0, 15:30].mean(0), seq[0, 30:45].mean(0)])
        expected = model.gloss_head(manual, torch.zeros(3, dtype=torch.long))
    assert logits.shape == (2, 3, 5)
    torch.testing.assert_close(logits[0], expected)
    assert (logits[1, :, 3:] == -1e4).all()
    # trainable with the gated loss on the real spans (padding span left out)
    real = spans[..., 1] > spans[..., 0]
    span_lang = lang[:, None].expand(2, 3)[real]
    loss = gated_cross_entropy(logits[real], (targets[real] - 1) % 3 * (span_lang == 1) + (targets[real] - 1) * (span_lang == 0),
                               span_lang)
    assert torch.isfinite(loss)
    with pytest.raises(SlrPoseError, match="gloss_head"):
        _model(make_encoder, graph57, hidden=32, layers=1).span_logits(seq, spans, lang)


def test_bad_ctc_options_are_user_errors(graph57, make_encoder):
    enc = make_encoder("pose_transformer_small", graph57, depth=1)
    with pytest.raises(SlrPoseError, match="'gru'"):
        CTCRecognizer(enc, {"lsm": 5}, sequence_model="gru")
    with pytest.raises(SlrPoseError, match="downsample"):
        CTCRecognizer(enc, {"lsm": 5}, downsample=0)
    with pytest.raises(SlrPoseError, match="even"):
        CTCRecognizer(enc, {"lsm": 5}, hidden=33)
