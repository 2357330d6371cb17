import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from slr_pose.errors import SlrPoseError
from slr_pose.models import LanguageGatedHead, boundary_loss, ctc_loss, gated_cross_entropy, recognition_loss

CLASSES = {"a": 4, "b": 7, "c": 2}
COUNTS = list(CLASSES.values())


def _batch():
    torch.manual_seed(0)
    head = LanguageGatedHead(10, CLASSES)
    lang = torch.tensor([0, 0, 1, 2, 2, 2, 1, 0])
    target = torch.tensor([3, 0, 6, 1, 0, 1, 2, 2])
    logits = head(torch.randn(8, 10), lang)
    return logits, target, lang


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_gated_cross_entropy_is_the_share_weighted_mean_of_each_heads_loss(eps):
    logits, target, lang = _batch()
    n = len(lang)
    by_hand = 0.0
    for l, c in enumerate(COUNTS):
        idx = (lang == l).nonzero()[:, 0]
        head_loss = F.cross_entropy(logits[idx, :c], target[idx], label_smoothing=eps)  # mean over the sub-batch
        by_hand += len(idx) / n * head_loss
    got = gated_cross_entropy(logits, target, lang, label_smoothing=eps)
    torch.testing.assert_close(got, by_hand)
    # the same from explicit class counts, whatever sits in the masked columns
    noisy = logits.clone()
    masked = torch.arange(7)[None] >= torch.tensor(COUNTS)[lang][:, None]
    noisy[masked] = torch.randn(int(masked.sum()))
    torch.testing.assert_close(gated_cross_entropy(noisy, target, lang, eps, num_classes=COUNTS), by_hand)


def test_gated_cross_entropy_with_soft_targets_by_hand():
    logits, target, lang = _batch()
    g = torch.Generator().manual_seed(3)
    soft = torch.zeros(8, 7)
    for i, l in enumerate(lang.tolist()):
        soft[i, : COUNTS[l]] = torch.rand(COUNTS[l], generator=g)
    soft = soft / soft.sum(1, keepdim=True)
    eps = 0.2
    by_hand = 0.0
    for i, l in enumerate(lang.tolist()):
        c = COUNTS[l]
        q = (1 - eps) * soft[i, :c] + eps / c
        by_hand = by_hand - (q * torch.log_softmax(logits[i, :c], 0)).sum() / 8
    torch.testing.assert_close(gated_cross_entropy(logits, soft, lang, eps), by_hand)


def test_gated_cross_entropy_trains_only_real_classes_and_refuses_foreign_targets():
    logits, target, lang = _batch()
    logits = logits.detach().requires_grad_(True)
    gated_cross_entropy(logits, target, lang, 0.1).backward()
    masked = torch.arange(7)[None] >= torch.tensor(COUNTS)[lang][:, None]
    assert (logits.grad[masked] == 0).all() and (logits.grad[~masked] != 0).all()
    bad = target.clone()
    bad[3] = 2  # language c has classes 0, 1
    with pytest.raises(SlrPoseError, match="target class 2 of sample 3"):
        gated_cross_entropy(logits, bad, lang)
    assert gated_cross_entropy(logits[:0], target[:0], lang[:0]).item() == 0.0


def _squash(u):
    return 2.0 / (1.0 + np.exp(-u)) - 1.0


def test_boundary_loss_formula_and_mask():
    pred = torch.tensor([[0.3, 1.2], [-0.5, 0.4], [2.0, 3.0]])
    target = torch.tensor([[0.1, 0.9], [0.0, 1.0], [0.0, 0.0]])
    mask = torch.tensor([True, True, False])
    p, b = pred.numpy().astype(np.float64), target.numpy().astype(np.float64)
    per_sample = ((_squash(p) - _squash(b)) ** 2).mean(1)
    assert boundary_loss(pred, target, mask).item() == pytest.approx(per_sample[:2].mean(), rel=1e-6)
    assert boundary_loss(pred, target).item() == pytest.approx(per_sample.mean(), rel=1e-6)
    none = boundary_loss(pred.requires_grad_(True), target, torch.zeros(3, dtype=torch.bool))
    assert none.item() == 0.0
    none.backward()  # still part of the graph
    assert (pred.grad == 0).all()


def test_recognition_loss_adds_the_weighted_boundary_term():
    logits, target, lang = _batch()
    pred, bnd = torch.randn(8, 2), torch.rand(8, 2)
    mask = torch.tensor([1, 0, 1, 1, 0, 1, 1, 1], dtype=torch.bool)
    parts = recognition_loss(logits, target, lang, pred, bnd, mask, label_smoothing=0.1)
    cls = gated_cross_entropy(logits, target, lang, 0.1)
    b = boundary_loss(pred, bnd, mask)
    torch.testing.assert_close(parts.total, cls + 2.5 * b)
    torch.testing.assert_close(parts.classification, cls)
    torch.testing.assert_close(recognition_loss(logits, target, lang, pred, bnd, mask, 0.1, boundary_weight=1.0).total,
                               cls + b)
    assert recognition_loss(logits, target, lang).boundary.item() == 0.0


def test_ctc_loss_is_the_length_normalised_mean():
    torch.manual_seed(0)
    log_probs = torch.randn(3, 12, 6).log_softmax(-1)
    targets = torch.tensor([[1, 2, 3, 0], [4, 4, 0, 0], [5, 1, 2, 5]])
    tlen = torch.tensor([3, 2, 4])
    olen = torch.tensor([12, 9, 10])
    per = [
        F.ctc_loss(log_probs[i, : olen[i], None], targets[i : i + 1, : tlen[i]], olen[i : i + 1],
                   tlen[i : i + 1], reduction="sum") / tlen[i]
        for i in range(3)
    ]
    torch.testing.assert_close(ctc_loss(log_probs, targets, olen, tlen), torch.stack(per).mean())
    # an impossible alignment (5 glosses, 2 steps) is zeroed, not inf
    impossible = ctc_loss(log_probs[:1, :2], targets[2:3], torch.tensor([2]), torch.tensor([4]))
    assert math.isfinite(impossible.item()) and impossible.item() == 0.0
    with pytest.raises(SlrPoseError, match="blank"):
        ctc_loss(log_probs, torch.tensor([[1, 0, 3, 0], [4, 4, 0, 0], [5, 1, 2, 5]]), olen, tlen)
