"""What isolated (ISLR) and continuous (CSLR) recognition share: samples, splits, pipelines, datasets, a model.

A task is built from a :class:`~slr_pose.training.config.Config`; the
trainer's loop (:mod:`.trainer`) only calls :meth:`Task.loss`,
:meth:`Task.evaluate` and :meth:`Task.meta`. Subclasses say what a label is
(:meth:`Task.label_space`) and which model recognises it (:meth:`Task.build_model`).
"""

from __future__ import annotations

import torch

from slr_pose.errors import SlrPoseError
from slr_pose.training.config import Config
from slr_pose.training.data import (
    PoseDataset,
    SampleSet,
    build_preprocessors,
    coverage_warnings,
    preprocess_config,
)
from slr_pose.training.labels import LabelSpace
from slr_pose.training.modeling import load_encoder_init


class Task:
    """Data and model of one run.

    Attributes:
        samples: every sample of the config's stores, with its split.
        labels: the label space (classes or glosses per language).
        preprocessors: one unaugmented pipeline per store (evaluation); training uses augmented twins.
        train_set, val_set, test_set: datasets (``None`` for an empty split).
        model: the model, initialised from ``model.init`` and frozen as the config says.
        warnings: what the user should know about the data (e.g. landmarks a store lacks).
    """

    task = ""
    score_name = ""  # the validation metric that picks the best epoch (higher is better)
    preprocessors: list = []

    def __init__(self, config: Config, samples: SampleSet) -> None:
        self.config = config
        self.samples = s = samples
        train = s.where("train")
        if len(train) == 0:
            raise SlrPoseError("the training split is empty (check data.split and the stores' split column)")
        self.labels = self.label_space(train)
        self.warnings: list[str] = []
        self.prepare()
        val, test = s.where("val"), s.where("test")
        self.train_set = self.dataset(train, train=True)
        self.val_set = self.dataset(val, train=False) if len(val) else None
        self.test_set = self.dataset(test, train=False) if len(test) else None
        self.model = self.build_model()
        if config.model.init:
            load_encoder_init(self.model, config.model.init)
        if config.model.freeze_encoder:
            self.model.freeze_encoder(True)

    def prepare(self) -> None:
        """Make what turns stored samples into model input: one landmark pipeline per store."""
        s, config = self.samples, self.config
        self._train_pre = build_preprocessors(preprocess_config(config, train=True), s.stores)
        self.preprocessors = build_preprocessors(preprocess_config(config, train=False), s.stores)
        self.warnings = coverage_warnings(s.stores, self.preprocessors)

    def dataset(self, indices, *, train: bool) -> torch.utils.data.Dataset:
        """The model-ready samples of ``indices``, augmented when ``train``."""
        pre = self._train_pre if train else self.preprocessors
        extra = self.training_options() if train else {}
        return PoseDataset(self.samples, indices, pre, self.labels, train=train, seed=self.config.train.seed,
                           **self.dataset_options(), **extra)

    # -- what a task says about itself
    def label_space(self, train) -> LabelSpace:
        raise NotImplementedError

    def build_model(self) -> torch.nn.Module:
        raise NotImplementedError

    def dataset_options(self) -> dict:
        """Keyword arguments of every :class:`PoseDataset` of this task."""
        return {}

    def training_options(self) -> dict:
        """Keyword arguments of the training dataset only."""
        return {}

    # -- what the trainer calls
    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def evaluate(self, model: torch.nn.Module, loader) -> dict:
        raise NotImplementedError

    def finish(self, run_dir) -> None:
        """What a task writes beside the trained model at the end (continuous signing: LMs, decoder settings)."""

    def meta(self) -> dict:
        """What a checkpoint records to rebuild the model and read new data the same way."""
        pre = self.preprocessors[0]
        return {
            "task": self.task,
            "num_channels": pre.num_channels,
            "landmarks": list(pre.layout.names),
            "preprocess": pre.config.to_dict(),
            "extractors": [st.provenance.get("extractor", {}) for st in self.samples.stores],
        }
