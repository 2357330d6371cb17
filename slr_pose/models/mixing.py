"""Mixup and temporal CutMix that mix samples of the same sign language only.

Mixing a Russian sign with an American one would ask each head for a class it
does not have, so every sample's partner is drawn from its own language's
sub-batch (a random permutation within it; a language with a single sample
in the batch is paired with itself). The targets come back as distributions
over the C_max classes, ready for
:func:`slr_pose.models.losses.gated_cross_entropy`.

- mixup (Zhang et al., 2018): ``x = lam * x_i + (1 - lam) * x_j`` over the
  real frames of each (padding zeroed first), ``lam ~ Beta(alpha, alpha)``;
  the mask is the union of both masks.
- temporal CutMix: a run of ``round((1 - lam) * n_i)`` of sample i's n_i real
  frames is replaced by an equally long run of its partner's real frames, so
  the clip keeps its length and mask; the target weight is the share of
  frames actually kept.

Randomness comes from one ``torch.Generator`` (or torch's global generator),
so a seeded generator reproduces a batch exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from slr_pose.errors import SlrPoseError

MODES = ("mixup", "cutmix")


@dataclass(frozen=True)
class MixedBatch:
    """A mixed batch.

    Attributes:
        x: ``(N, C, T, V)`` mixed input.
        frame_mask: ``(N, T)`` bool.
        target: ``(N, C_max)`` soft targets.
        partner: ``(N,)`` int64, the sample each one was mixed with (same language).
        lam: ``(N,)`` float, the weight of the sample itself in its target.
    """

    x: torch.Tensor
    frame_mask: torch.Tensor
    target: torch.Tensor
    partner: torch.Tensor
    lam: torch.Tensor


def _partners(language: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    lang = language.cpu().numpy()
    partner = np.arange(len(lang))
    for value in np.unique(lang):
        idx = np.flatnonzero(lang == value)
        partner[idx] = idx[rng.permutation(len(idx))]
    return partner


def mix_within_language(x: torch.Tensor, frame_mask: torch.Tensor, target: torch.Tensor, language: torch.Tensor,
                        num_classes: int, mode: str = "mixup", alpha: float = 0.8,
                        generator: torch.Generator | None = None) -> MixedBatch:
    """Mix each sample with a partner of the same language.

    Args:
        x: ``(N, C, T, V)``.
        frame_mask: ``(N, T)`` bool, real frames first.
        target: ``(N,)`` int64 classes or ``(N, C_max)`` soft targets.
        language: ``(N,)`` int64 language ids.
        num_classes: C_max, the width of the model's logits.
        mode: ``"mixup"`` or ``"cutmix"``.
        alpha: Beta(alpha, alpha) parameter of the mixing weight.
        generator: source of randomness.
    """
    if mode not in MODES:
        raise SlrPoseError(f"unknown mixing mode {mode!r}; choose one of {', '.join(MODES)}")
    if alpha <= 0:
        raise SlrPoseError(f"mixing alpha must be positive, got {alpha}")
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    partner_np = _partners(language, rng)
    partner = torch.from_numpy(partner_np).to(x.device)
    lam_np = rng.beta(alpha, alpha, size=n)
    soft = F.one_hot(target, num_classes).to(x.dtype) if target.dim() == 1 else target.to(x.dtype)

    if mode == "mixup":
        lam = torch.as_tensor(lam_np, dtype=x.dtype, device=x.device)
        clean = x * frame_mask[:, None, :, None].to(x.dtype)
        lx = lam.view(n, 1, 1, 1)
        mixed = lx * clean + (1 - lx) * clean[partner]
        mask = frame_mask | frame_mask[partner]
    else:
        mixed, mask, lam = _temporal_cutmix(x, frame_mask, partner_np, lam_np, rng)
    lt = lam.view(n, 1)
    return MixedBatch(mixed, mask, lt * soft + (1 - lt) * soft[partner], partner, lam)


def _temporal_cutmix(x: torch.Tensor, frame_mask: torch.Tensor, partner: np.ndarray, lam: np.ndarray,
                     rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n, _, t, _ = x.shape
    lengths = frame_mask.sum(1).cpu().numpy()
    src_sample = np.repeat(np.arange(n)[:, None], t, axis=1)
    src_frame = np.repeat(np.arange(t)[None], n, axis=0)
    kept = np.ones(n)
    for i in range(n):
        j, own, other = partner[i], int(lengths[i]), int(lengths[partner[i]])
        cut = min(int(round((1 - lam[i]) * own)), other) if j != i else 0
        if cut == 0 or own == 0:
            continue
        start = rng.integers(0, own - cut + 1)
        start_j = rng.integers(0, other - cut + 1)
        src_sample[i, start:start + cut] = j
        src_frame[i, start:start + cut] = np.arange(start_j, start_j + cut)
        kept[i] = 1 - cut / own
    s = torch.from_numpy(src_sample).to(x.device)
    f = torch.from_numpy(src_frame).to(x.device)
    mixed = x.permute(0, 2, 1, 3)[s, f].permute(0, 2, 1, 3).contiguous()  # (N, C, T, V)
    return mixed, frame_mask[s, f], torch.as_tensor(kept, dtype=x.dtype, device=x.device)
