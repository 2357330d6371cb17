"""Training losses: language-gated cross-entropy, sign-boundary regression, CTC.

Notation: a batch of N samples; sample i has language l_i with C_l classes,
logits z_i (``(C_max,)``, from :class:`~slr_pose.models.heads.LanguageGatedHead`)
and a target y_i (a class index, or a distribution over the C_max classes
that puts mass on the first C_l only, e.g. after mixup).

**Gated cross-entropy.** A mixed batch is split by language; each head's loss
is the mean cross-entropy over its sub-batch of n_l samples, computed over
that language's classes only, and weighted by the sub-batch's share n_l / N:

    L_cls = sum_l (n_l / N) * (1 / n_l) * sum_{i: l_i = l} CE_l(z_i, y_i)
          = (1 / N) * sum_i CE_{l_i}(z_i, y_i)
    CE_l(z, y) = - sum_{c < C_l} q_c * log softmax(z[:C_l])_c
    q = (1 - eps) * onehot(y) + eps / C_l        (label smoothing eps over C_l classes)

**Boundary loss** (Logos): predictions p and targets b are ``(N, 2)`` start
and end in clip units; both are squashed by s(u) = 2 sigmoid(u) - 1 and

    L_bnd = mean over samples with a boundary, and over start/end, of (s(p) - s(b))^2

The total is ``L_cls + boundary_weight * L_bnd`` with boundary_weight 2.5 by
default (:func:`recognition_loss`).

**CTC** (:func:`ctc_loss`): ``torch.nn.functional.ctc_loss`` with blank 0,
each sequence's loss divided by its target length, mean over the batch, and
infinite losses (targets longer than the output allows) zeroed.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F

from slr_pose.errors import SlrPoseError
from slr_pose.models.heads import MASKED_LOGIT, is_eager

#: Default weight of the boundary loss in the total (as in Logos).
BOUNDARY_WEIGHT = 2.5


def valid_classes(logits: torch.Tensor, language: torch.Tensor,
                  num_classes: Sequence[int] | torch.Tensor | None = None) -> torch.Tensor:
    """``(N, C_max)`` bool: the classes of each sample's language.

    From ``num_classes`` (classes per language id) when given, else read off
    the logits (a gated head marks other classes with :data:`MASKED_LOGIT`).
    """
    if num_classes is None:
        return logits > MASKED_LOGIT / 2
    counts = torch.as_tensor(num_classes, device=logits.device)[language]
    return torch.arange(logits.shape[-1], device=logits.device)[None] < counts[:, None]


def gated_cross_entropy(logits: torch.Tensor, target: torch.Tensor, language: torch.Tensor,
                        label_smoothing: float = 0.0,
                        num_classes: Sequence[int] | torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy of a mixed-language batch, each sample over its own language's classes.

    Args:
        logits: ``(N, C_max)``.
        target: ``(N,)`` int64 class indices, or ``(N, C_max)`` probabilities (soft targets).
        language: ``(N,)`` int64 language ids.
        label_smoothing: eps, spread over the sample's language's classes only.
        num_classes: classes per language id; default: read off the masked logits.

    Returns:
        the scalar L_cls of the module docstring (0 for an empty batch).
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    valid = valid_classes(logits, language, num_classes)
    count = valid.sum(1, keepdim=True).to(logits.dtype)
    if target.dim() == 1:
        c_max = logits.shape[1]
        if is_eager():
            ok = (target >= 0) & (target < c_max) & valid.gather(1, target.clamp(0, c_max - 1)[:, None])[:, 0]
            if not ok.all():
                bad = int((~ok).nonzero()[0])
                raise SlrPoseError(f"target class {int(target[bad])} of sample {bad} is not a class of its language")
        q = F.one_hot(target, c_max).to(logits.dtype)
    else:
        q = target.to(logits.dtype)
    q = (1.0 - label_smoothing) * q + label_smoothing * valid.to(logits.dtype) / count
    log_p = torch.log_softmax(logits.masked_fill(~valid, float("-inf")), dim=1).masked_fill(~valid, 0.0)
    return -(q * log_p).sum(1).mean()


def gated_soft_cross_entropy(logits: torch.Tensor, soft_target: torch.Tensor, language: torch.Tensor,
                             label_smoothing: float = 0.0) -> torch.Tensor:
    """:func:`gated_cross_entropy` with ``(N, C_max)`` soft targets (e.g. from mixing)."""
    if soft_target.dim() != 2:
        raise SlrPoseError(f"soft targets must be (N, C_max), got shape {tuple(soft_target.shape)}")
    return gated_cross_entropy(logits, soft_target, language, label_smoothing)


def boundary_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """L_bnd: MSE between ``2 sigmoid(pred) - 1`` and ``2 sigmoid(target) - 1``.

    Args:
        pred: ``(N, 2)`` predicted start, end (clip units).
        target: ``(N, 2)`` true start, end (clip units; any finite value where mask is False).
        mask: ``(N,)`` bool, samples that have a boundary; default all.

    Returns:
        the mean over masked samples and both ends; 0 (still in the graph) when none has one.
    """
    diff = (2 * torch.sigmoid(pred) - 1) - (2 * torch.sigmoid(target.to(pred.dtype)) - 1)
    sq = diff.pow(2).mean(1)  # (N,)
    if mask is None:
        return sq.mean() if sq.numel() else pred.sum() * 0.0
    m = mask.to(pred.dtype)
    return (sq * m).sum() / m.sum().clamp(min=1.0)


class LossParts(NamedTuple):
    total: torch.Tensor
    classification: torch.Tensor
    boundary: torch.Tensor


def recognition_loss(logits: torch.Tensor, target: torch.Tensor, language: torch.Tensor,
                     boundary: torch.Tensor | None = None, boundary_target: torch.Tensor | None = None,
                     boundary_mask: torch.Tensor | None = None, label_smoothing: float = 0.0,
                     boundary_weight: float = BOUNDARY_WEIGHT) -> LossParts:
    """``L_cls + boundary_weight * L_bnd``; the boundary term is 0 without predictions or targets."""
    cls = gated_cross_entropy(logits, target, language, label_smoothing)
    if boundary is None or boundary_target is None:
        bnd = logits.sum() * 0.0
    else:
        bnd = boundary_loss(boundary, boundary_target, boundary_mask)
    return LossParts(cls + boundary_weight * bnd, cls, bnd)


def ctc_loss(log_probs: torch.Tensor, targets: torch.Tensor, out_lengths: torch.Tensor,
             target_lengths: torch.Tensor) -> torch.Tensor:
    """CTC loss with blank 0, normalised by target length, mean over the batch.

    Args:
        log_probs: ``(N, T'', 1 + K)`` log-softmax outputs (batch first, as
            :class:`~slr_pose.models.ctc.CTCRecognizer` returns them).
        targets: ``(N, S)`` gloss ids 1..K padded with anything, or 1-D concatenated.
        out_lengths: ``(N,)`` valid output steps.
        target_lengths: ``(N,)`` glosses per sample.
    """
    if is_eager() and targets.numel() and targets.dim() == 2:
        real = torch.arange(targets.shape[1])[None] < target_lengths[:, None].cpu()
        if (targets.cpu()[real] == 0).any():
            raise SlrPoseError("a CTC target contains the blank id 0; glosses are numbered from 1")
    return F.ctc_loss(log_probs.transpose(0, 1), targets, out_lengths, target_lengths,
                      blank=0, reduction="mean", zero_infinity=True)
