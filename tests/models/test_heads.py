import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import MASKED_LOGIT, LanguageGatedHead, MaskedPool

CLASSES = {"rsl": 5, "asl": 3, "lsm": 7}


def _head() -> LanguageGatedHead:
    torch.manual_seed(0)
    return LanguageGatedHead(16, CLASSES)


def test_each_sample_gets_its_own_languages_head():
    head = _head()
    feats = torch.randn(6, 16)
    lang = torch.tensor([0, 1, 2, 0, 1, 2])
    logits = head(feats, lang)
    assert logits.shape == (6, 7)
    for i, (tag, n) in enumerate(zip(["rsl", "asl", "lsm"] * 2, [5, 3, 7] * 2)):
        torch.testing.assert_close(logits[i, :n], head.heads[tag](feats[i]))
        assert (logits[i, n:] == MASKED_LOGIT).all()


def test_changing_one_head_leaves_the_other_languages_alone():
    head = _head()
    feats = torch.randn(6, 16)
    lang = torch.tensor([0, 1, 2, 0, 1, 2])
    before = head(feats, lang)
    with torch.no_grad():
        head.heads["asl"].weight.add_(1.0)
        head.heads["asl"].bias.sub_(3.0)
    after = head(feats, lang)
    other = lang != 1
    torch.testing.assert_close(after[other], before[other])
    assert (after[~other, :3] - before[~other, :3]).abs().min() > 1e-3
    assert (after[~other, 3:] == MASKED_LOGIT).all()


def test_masked_classes_get_no_probability_and_are_never_argmax():
    head = _head()
    with torch.no_grad():
        head.heads["asl"].bias.fill_(-50.0)  # real classes far below zero still win over the mask
    feats = torch.randn(32, 16)
    lang = torch.full((32,), 1)
    logits = head(feats, lang)
    probs = torch.softmax(logits, dim=1)
    assert (probs[:, 3:] == 0).all()
    torch.testing.assert_close(probs.sum(1), torch.ones(32))
    assert (logits.argmax(1) < 3).all()


def test_gate_works_per_time_step_as_the_ctc_head_uses_it():
    head = _head()
    seq = torch.randn(3, 9, 16)
    lang = torch.tensor([2, 0, 1])
    out = head(seq, lang)
    assert out.shape == (3, 9, 7)
    for t in (0, 4, 8):
        torch.testing.assert_close(out[:, t], head(seq[:, t], lang))


def test_bad_language_ids_and_class_dicts_are_user_errors():
    head = _head()
    with pytest.raises(SlrPoseError, match="language id 3"):
        head(torch.randn(2, 16), torch.tensor([0, 3]))
    with pytest.raises(SlrPoseError, match="'bsl'"):
        head.language_ids(["asl", "bsl"])
    assert head.language_ids(["lsm", "rsl"]).tolist() == [2, 0]
    for bad in ({}, {"asl": 0}, {"a.b": 3}, {"asl": 2.5}):
        with pytest.raises(SlrPoseError):
            LanguageGatedHead(8, bad)


def test_masked_mean_and_attention_pooling_ignore_padded_steps():
    torch.manual_seed(0)
    feats = torch.randn(3, 6, 8)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    mean = MaskedPool(8, "mean")(feats, mask)
    torch.testing.assert_close(mean[0], feats[0].mean(0))
    torch.testing.assert_close(mean[1], feats[1, :3].mean(0))
    assert (mean[2] == 0).all()
    attn = MaskedPool(8, "attention")
    changed = feats.clone()
    changed[1, 3:] = 100.0
    a, b = attn(feats, mask), attn(changed, mask)
    torch.testing.assert_close(a[:2], b[:2])
    assert torch.isfinite(a).all() and (a[2] == 0).all()
    # attention weights over the real steps sum to one: constant features pool to themselves
    const = torch.ones(1, 6, 8) * 2.5
    torch.testing.assert_close(attn(const, mask[1:2]), torch.full((1, 8), 2.5))
    with pytest.raises(SlrPoseError, match="'max'"):
        MaskedPool(8, "max")
