"""Isolated sign recognition: gated classification heads, optional boundary head."""

from __future__ import annotations

import numpy as np
import torch

from slr_pose.models.losses import boundary_loss, gated_cross_entropy
from slr_pose.models.mixing import apply_plan, mix_plan
from slr_pose.training.config import Config
from slr_pose.training.data import SampleSet, load_samples
from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.metrics import evaluate_scores
from slr_pose.training.modeling import build_recognizer
from slr_pose.training.task import Task


class ISLRTask(Task):
    """Isolated signs: one class per sample, a gated classification head per language (and boundaries)."""

    task = "islr"
    score_name = "top1"

    def __init__(self, config: Config, samples: SampleSet | None = None) -> None:
        self.grouping = Grouping.load(config.data.groups) if config.data.groups else None
        super().__init__(config, samples or load_samples(config.data, "islr"))

    def label_space(self, train) -> LabelSpace:
        s = self.samples
        return LabelSpace.from_samples(zip(s.language[train], s.label[train]))

    def build_model(self) -> torch.nn.Module:
        return build_recognizer(self.config.model, self.labels.sizes, self.preprocessors[0])

    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        train = self.config.train
        x, target, language = batch["x"], batch["target"], batch["language"]
        boundary, has_boundary = batch["boundary"], batch["has_boundary"]
        if train.mixup > 0 or train.cutmix > 0:
            x, target, boundary, has_boundary = self._mix(x, target, language, batch["frame_mask"], boundary,
                                                          has_boundary, step_seed)
        out = model(x, language, batch["frame_mask"])
        cls = gated_cross_entropy(out.logits, target, language, label_smoothing=train.label_smoothing)
        logs = {"cls_loss": cls.detach()}
        loss = cls
        if out.boundary is not None:
            # Also on a batch without any boundary (the term is then 0 * squared error): under DDP with
            # find_unused_parameters=False every parameter must get a gradient at every step.
            reg = boundary_loss(out.boundary, boundary, mask=has_boundary)
            loss = loss + train.boundary_weight * reg
            if has_boundary.any():
                logs["boundary_loss"] = reg.detach()
        return loss, logs

    def _mix(self, x, target, language, frame_mask, boundary, has_boundary, step_seed: int):
        """Mixup / temporal CutMix within each language's sub-batch (soft targets, mixed boundaries)."""
        train = self.config.train
        g = torch.Generator().manual_seed(step_seed)
        plan = mix_plan(language, frame_mask, mixup_alpha=train.mixup, cutmix_alpha=train.cutmix, generator=g)
        x, soft = apply_plan(plan, x, target, frame_mask, max(self.labels.sizes.values()))
        return (x, soft, *mix_boundaries(plan, boundary, has_boundary, frame_mask))

    def evaluate(self, model: torch.nn.Module, loader) -> dict:
        scores, target, language, _ = score_batches(model, loader)
        return evaluate_scores(scores, target, language, self.labels, grouping=self.grouping).summary

    def meta(self) -> dict:
        return {
            **super().meta(),
            "labels": self.labels.to_json(),
            # the table as trained on: evaluation maps glosses to these classes even if the file changes
            "grouping": sorted([lang, gloss, group] for (lang, gloss), group in self.grouping.table.items())
            if self.grouping else None,
        }


@torch.no_grad()
def score_batches(model: torch.nn.Module, loader) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(scores (M, C_max), target (M,), language (M,), sample index (M,))`` of a loader, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    out = {"scores": [], "target": [], "language": [], "index": []}
    for batch in loader:
        logits = model(batch["x"].to(device), batch["language"].to(device), batch["frame_mask"].to(device)).logits
        out["scores"].append(logits.float().cpu().numpy())
        for k in ("target", "language", "index"):
            out[k].append(batch[k].numpy())
    return tuple(np.concatenate(out[k]) for k in ("scores", "target", "language", "index"))


def mix_boundaries(plan, boundary: torch.Tensor, has_boundary: torch.Tensor,
                   frame_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign-boundary targets ``(N, 2)`` and mask ``(N,)`` after a :class:`~slr_pose.models.mixing.MixPlan`.

    Mixup: the target is mixed as the class target is, ``lam * b_i + (1 - lam) * b_j``,
    with the partner's boundary moved to sample i's clip units (the clips are
    blended frame by frame, so a partner of another length has its sign at
    other relative times) and clamped to [0, 1]; it needs both boundaries.
    CutMix: a sample that received a run of its partner's frames has no single
    sign span any more, so it leaves the boundary loss; uncut samples keep theirs.
    """
    if plan.mode == "none":
        return boundary, has_boundary
    device = boundary.device
    partner = torch.from_numpy(plan.partner).to(device)
    lam = torch.as_tensor(plan.lam, dtype=boundary.dtype, device=device)
    if plan.mode == "cutmix":
        return boundary, has_boundary & (lam == 1)
    steps = (frame_mask.sum(1).to(boundary.dtype) - 1).clamp(min=1)  # (N,) clip length in frame steps
    theirs = (boundary[partner] * (steps[partner] / steps)[:, None]).clamp(0, 1)
    mixed = lam[:, None] * boundary + (1 - lam[:, None]) * theirs
    return mixed, has_boundary & has_boundary[partner]
