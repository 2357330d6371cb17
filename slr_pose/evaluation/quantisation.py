"""An int8 graph against its float32 graph on the run's own held-out clips (``slr-pose export --int8``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.samples import run_dataset, run_samples
from slr_pose.inference.runs import LoadedRun
from slr_pose.models.export import Int8Report, compare_int8
from slr_pose.training.data import collate
from slr_pose.training.labels import LabelSpace


def held_out_clips(run: LoadedRun, split: str = "test") -> tuple[np.ndarray, ...]:
    """The model inputs of ``split`` of every store the run was trained on.

    Returns:
        ``x`` ``(N, C, T, V)`` float32, ``language`` ``(N,)`` int64, ``frame_mask`` ``(N, T)`` bool,
        ``target`` ``(N,)`` int64 (class within the language) and ``classes`` ``(N,)`` (the language's class count).

    Raises:
        SlrPoseError: not an isolated-sign pose run, or no sample in that split.
    """
    if run.task != "islr" or run.modality != "pose":
        raise SlrPoseError(f"int8 comparison is for isolated-sign landmark runs, not {run.task} {run.modality}")
    labels = LabelSpace.from_json(run.meta["labels"])
    items = []
    for source in run.config.data.stores:
        try:
            samples, indices, pre, data = run_samples(run, source.path, split=split)
        except SlrPoseError:
            continue  # a store without samples in this split
        dataset = run_dataset(run, samples, indices, labels, data, pre)
        items += [dataset[i] for i in range(len(dataset))]
    if not items:
        raise SlrPoseError(f"the run's stores have no {split} samples to compare int8 and float32 on")
    batch = collate(items)  # pads time to the longest clip, as evaluation does
    sizes = np.array([labels.sizes[lang] for lang in labels.languages])
    language = batch["language"].numpy()
    return (batch["x"].numpy(), language, batch["frame_mask"].numpy(), batch["target"].numpy(), sizes[language])


def int8_report(run: LoadedRun, float_path: str | Path, int8_path: str | Path, split: str = "test") -> Int8Report:
    """Size, latency and top-1 of ``int8_path`` against ``float_path`` on the run's ``split`` clips."""
    return compare_int8(float_path, int8_path, *held_out_clips(run, split))
