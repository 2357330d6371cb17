"""Mixup and temporal CutMix that mix samples of the same sign language only.

Mixing a Russian sign with an American one would ask each head for a class it
does not have, so every sample's partner is drawn from its own language's
sub-batch (a random permutation within it; a language with a single sample
in the batch is paired with itself). Targets come back as distributions over
the C_max classes, ready for
:func:`slr_pose.models.losses.gated_cross_entropy`.

A mixed clip keeps its own length and frame mask, so the batch's
``frame_mask`` stays valid:

- mixup (Zhang et al., 2018): on the sample's real frames,
  ``x = lam * x_i + (1 - lam) * x_j`` (the partner's padding counts as zeros),
  ``lam ~ Beta(alpha, alpha)``, target ``lam * y_i + (1 - lam) * y_j``;
- temporal CutMix: a run of ``round((1 - lam) * n_i)`` of sample i's n_i real
  frames is replaced by an equally long run of its partner's real frames; the
  target weight is the share of frames actually kept.

With both alphas set, each batch uses one of the two, chosen at random (as
timm's ``Mixup``). Randomness comes from one ``torch.Generator`` (or torch's
global generator): a seeded generator reproduces a batch exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from slr_pose.errors import SlrPoseError


@dataclass(frozen=True)
class MixPlan:
    """The random choices of one mixed batch.

    Attributes:
        mode: ``"mixup"``, ``"cutmix"`` or ``"none"``.
        partner: ``(N,)`` int64, the sample each one is mixed with (same language).
        lam: ``(N,)`` float64, the weight of the sample itself in its target.
        source: for CutMix, ``(N, T, 2)`` int64 ``(sample, frame)`` each output frame comes from.
    """

    mode: str
    partner: np.ndarray
    lam: np.ndarray
    source: np.ndarray | None = None


def mix_plan(language: torch.Tensor, frame_mask: torch.Tensor, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0,
             generator: torch.Generator | None = None) -> MixPlan:
    """Draw partners (within each language) and weights for a batch of ``(N, T)`` frame masks."""
    for name, alpha in (("mixup_alpha", mixup_alpha), ("cutmix_alpha", cutmix_alpha)):
        if not (isinstance(alpha, (int, float)) and alpha >= 0):
            raise SlrPoseError(f"{name} must be a number >= 0, got {alpha!r}")
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    rng = np.random.default_rng(seed)
    n = len(language)
    partner = _partners(language, rng)
    if mixup_alpha == 0 and cutmix_alpha == 0:
        return MixPlan("none", partner, np.ones(n))
    use_cutmix = cutmix_alpha > 0 and (mixup_alpha == 0 or rng.random() < 0.5)
    alpha = cutmix_alpha if use_cutmix else mixup_alpha
    lam = rng.beta(alpha, alpha, size=n)
    if not use_cutmix:
        return MixPlan("mixup", partner, lam)
    return _cutmix_plan(frame_mask.cpu().numpy(), partner, lam, rng)


def _partners(language: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    lang = language.cpu().numpy()
    partner = np.arange(len(lang))
    for value in np.unique(lang):
        idx = np.flatnonzero(lang == value)
        partner[idx] = idx[rng.permutation(len(idx))]
    return partner


def _cutmix_plan(mask: np.ndarray, partner: np.ndarray, lam: np.ndarray, rng: np.random.Generator) -> MixPlan:
    n, t = mask.shape
    lengths = mask.sum(1)
    source = np.stack(np.meshgrid(np.arange(n), np.arange(t), indexing="ij"), axis=-1)  # (N, T, 2)
    kept = np.ones(n)
    for i in range(n):
        j, own, other = partner[i], int(lengths[i]), int(lengths[partner[i]])
        cut = min(int(round((1 - lam[i]) * own)), other) if j != i else 0
        if cut == 0:
            continue
        start, start_j = rng.integers(0, own - cut + 1), rng.integers(0, other - cut + 1)
        source[i, start:start + cut, 0] = j
        source[i, start:start + cut, 1] = np.arange(start_j, start_j + cut)
        kept[i] = 1 - cut / own
    return MixPlan("cutmix", partner, kept, source)


def class_counts(classes: Mapping[str, int] | Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Classes per language id, from ``{language: count}`` (in its order) or a sequence."""
    values = list(classes.values()) if isinstance(classes, Mapping) else classes
    return torch.as_tensor(values, dtype=torch.long)


def mix_within_language(x: torch.Tensor, target: torch.Tensor, language: torch.Tensor,
                        classes: Mapping[str, int] | Sequence[int], mixup_alpha: float = 0.0,
                        cutmix_alpha: float = 0.0, generator: torch.Generator | None = None,
                        frame_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each sample with a partner of the same language.

    Args:
        x: ``(N, C, T, V)``.
        target: ``(N,)`` int64 classes or ``(N, C_max)`` soft targets.
        language: ``(N,)`` int64 language ids.
        classes: classes per language (``{language: count}`` in head order, or counts by id).
        mixup_alpha, cutmix_alpha: Beta parameters; 0 turns a kind off.
        generator: source of randomness.
        frame_mask: ``(N, T)`` bool, real frames first (default: all real).

    Returns:
        ``(x, soft_target)``: mixed input ``(N, C, T, V)`` (same frame mask as
        given) and ``(N, C_max)`` targets.
    """
    counts = class_counts(classes)
    if frame_mask is None:
        frame_mask = torch.ones(x.shape[0], x.shape[2], dtype=torch.bool, device=x.device)
    plan = mix_plan(language, frame_mask, mixup_alpha, cutmix_alpha, generator)
    return apply_plan(plan, x, target, frame_mask, int(counts.max()))


def apply_plan(plan: MixPlan, x: torch.Tensor, target: torch.Tensor, frame_mask: torch.Tensor,
               num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix ``x`` and the targets as ``plan`` says; see :func:`mix_within_language`.

    ``x`` is ``(N, C, T, ...)``: landmarks ``(N, C, T, V)`` or RGB clips ``(N, 3, T, H, W)``.
    """
    shape = x.shape
    x = x.reshape(shape[0], shape[1], shape[2], -1)  # (N, C, T, V or H * W)
    partner = torch.from_numpy(plan.partner).to(x.device)
    lam = torch.as_tensor(plan.lam, dtype=x.dtype, device=x.device)
    soft = F.one_hot(target, num_classes).to(x.dtype) if target.dim() == 1 else target.to(x.dtype)
    soft = lam[:, None] * soft + (1 - lam[:, None]) * soft[partner]
    if plan.mode == "mixup":
        real = frame_mask[:, None, :, None].to(x.dtype)
        lx = lam.view(-1, 1, 1, 1)
        mixed = torch.where(real > 0, lx * x + (1 - lx) * (x * real)[partner], x)
    elif plan.mode == "cutmix":
        src = torch.from_numpy(plan.source).to(x.device)
        mixed = x.permute(0, 2, 1, 3)[src[..., 0], src[..., 1]].permute(0, 2, 1, 3).contiguous()
    else:
        mixed = x
    return mixed.reshape(shape), soft
