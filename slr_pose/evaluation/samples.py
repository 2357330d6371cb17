"""Which samples of a store a trained run is scored on, and the dataset its pipeline (landmarks or RGB) makes of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.inference.runs import LoadedRun
from slr_pose.training.config import SplitConfig, StoreSource
from slr_pose.training.data import PoseDataset, load_samples, open_stores
from slr_pose.training.rgb import RGBDataset, open_caches


def run_samples(run: LoadedRun, store: str | Path, *, split: str = "all", language: str = "", task: str | None = None):
    """The samples of ``store`` (one split, or all) as the run's data pipeline sees them.

    For a store the run was trained on, ``split`` is the run's own split
    (random and signer splits are recomputed from the run's seed); for any
    other store it is the store's split column. Labels are grouped as the
    run's were in training (a run trained on VSSign groups has groups as
    classes).
    """
    path = str(Path(store).resolve())
    trained = [str(Path(s.path).resolve()) for s in run.config.data.stores]
    grouping = run.grouping
    if split != "all" and path in trained:
        data = dataclasses.replace(run.config.data, shots=0)
        samples = load_samples(data, task or run.task, grouping=grouping)
        k = trained.index(path)
        indices = np.flatnonzero((samples.store == k) & (samples.split == split))
    else:
        if not language and path in trained:
            language = run.config.data.stores[trained.index(path)].language
        opened = open_stores([str(store)])
        if not language and any(not lang for lang in opened[0].column("language").tolist()):
            raise SlrPoseError(f"store {store} has samples without a language; name it with --language")
        data = dataclasses.replace(
            run.config.data,
            stores=(StoreSource(str(store), language),),
            split=SplitConfig(mode="random", val_fraction=0, test_fraction=0),  # the store's own column decides
            shots=0,
        )
        samples = load_samples(data, task or run.task, stores=opened, grouping=grouping)
        stored = opened[0].column("split")
        indices = np.arange(len(samples)) if split == "all" else np.flatnonzero(stored == split)
    if len(indices) == 0:
        raise SlrPoseError(f"store {store} has no samples in split {split!r}")
    pre = [run.preprocessor(s.layout) for s in samples.stores] if run.modality == "pose" else []
    return samples, indices, pre, data


def run_dataset(run: LoadedRun, samples, indices, labels, data, pre) -> torch.utils.data.Dataset:
    """The evaluation dataset of :func:`run_samples`' result: landmarks through ``pre``, or RGB clips of the frame caches."""
    if run.modality == "rgb":
        caches = open_caches(samples, [src.frames_path for src in data.stores])
        return RGBDataset(samples, indices, caches, labels, run.config.data.clip, train=False)
    return PoseDataset(samples, indices, pre, labels, train=False)
