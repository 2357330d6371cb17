"""Isolated sign recognition: gated classification heads, optional boundary head."""

from __future__ import annotations

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.training.config import Config
from slr_pose.training.data import (
    PoseDataset,
    SampleSet,
    build_preprocessors,
    coverage_warnings,
    load_samples,
    preprocess_config,
)
from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.metrics import evaluate_scores
from slr_pose.training.modeling import build_recognizer, load_encoder_init


class ISLRTask:
    """Builds data and model for isolated signs from a :class:`Config`."""

    score_name = "top1"

    def __init__(self, config: Config, samples: SampleSet | None = None) -> None:
        self.config = config
        self.samples = samples or load_samples(config.data, "islr")
        s = self.samples
        train = s.where("train")
        if len(train) == 0:
            raise SlrPoseError("the training split is empty (check data.split and the stores' split column)")
        self.labels = LabelSpace.from_samples(zip(s.language[train], s.label[train]))
        self.grouping = Grouping.load(config.data.groups) if config.data.groups else None
        train_pre = build_preprocessors(preprocess_config(config, train=True), s.stores)
        self.preprocessors = build_preprocessors(preprocess_config(config, train=False), s.stores)
        self.warnings = coverage_warnings(s.stores, self.preprocessors)
        seed = config.train.seed
        self.train_set = PoseDataset(s, train, train_pre, self.labels, train=True, seed=seed)
        val, test = s.where("val"), s.where("test")
        self.val_set = PoseDataset(s, val, self.preprocessors, self.labels, train=False) if len(val) else None
        self.test_set = PoseDataset(s, test, self.preprocessors, self.labels, train=False) if len(test) else None
        pre = self.preprocessors[0]
        self.model = build_recognizer(config.model, self.labels.sizes, pre)
        if config.model.init:
            load_encoder_init(self.model, config.model.init)
        if config.model.freeze_encoder:
            self.model.freeze_encoder(True)

    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        from slr_pose.models.losses import boundary_loss, gated_cross_entropy

        train = self.config.train
        x, target, language = batch["x"], batch["target"], batch["language"]
        if train.mixup > 0 or train.cutmix > 0:
            x, target = self._mix(x, target, language, batch["frame_mask"], step_seed)
        out = model(x, language, batch["frame_mask"])
        cls = gated_cross_entropy(out.logits, target, language, label_smoothing=train.label_smoothing)
        logs = {"cls_loss": cls.detach()}
        loss = cls
        if out.boundary is not None and batch["has_boundary"].any():
            reg = boundary_loss(out.boundary, batch["boundary"], mask=batch["has_boundary"])
            loss = loss + train.boundary_weight * reg
            logs["boundary_loss"] = reg.detach()
        return loss, logs

    def _mix(self, x, target, language, frame_mask, step_seed: int):
        """Mixup / temporal CutMix within each language's sub-batch (soft targets)."""
        from slr_pose.models.mixing import mix_within_language

        train = self.config.train
        g = torch.Generator().manual_seed(step_seed)
        return mix_within_language(
            x, target, language, self.labels.sizes, mixup_alpha=train.mixup, cutmix_alpha=train.cutmix,
            generator=g, frame_mask=frame_mask,
        )

    @torch.no_grad()
    def scores(self, model: torch.nn.Module, loader) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(scores (M, C_max), target (M,), language (M,), sample index (M,))`` of a loader."""
        model.eval()
        device = next(model.parameters()).device
        out = {"scores": [], "target": [], "language": [], "index": []}
        for batch in loader:
            logits = model(batch["x"].to(device), batch["language"].to(device), batch["frame_mask"].to(device)).logits
            out["scores"].append(logits.float().cpu().numpy())
            for k in ("target", "language", "index"):
                out[k].append(batch[k].numpy())
        return tuple(np.concatenate(out[k]) for k in ("scores", "target", "language", "index"))

    def evaluate(self, model: torch.nn.Module, loader) -> dict:
        scores, target, language, _ = self.scores(model, loader)
        return evaluate_scores(scores, target, language, self.labels, grouping=self.grouping).summary

    def meta(self) -> dict:
        pre = self.preprocessors[0]
        return {
            "task": "islr",
            "labels": self.labels.to_json(),
            "num_channels": pre.num_channels,
            "landmarks": list(pre.layout.names),
            "preprocess": pre.config.to_dict(),
            "extractors": [st.provenance.get("extractor", {}) for st in self.samples.stores],
        }
