"""Evaluating an isolated-sign run on a pose store: accuracy, per class and language, confusion matrices."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.cslr import evaluate_cslr_run
from slr_pose.evaluation.samples import run_dataset, run_samples
from slr_pose.inference.runs import LoadedRun, load_run
from slr_pose.outputs import atomic_path, write_text
from slr_pose.training.data import collate
from slr_pose.training.islr import score_batches
from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.metrics import Evaluation, evaluate_scores


#: test-time augmentations :func:`score_run` knows ("": none)
TTA = ("", "mirror")


def run_scores(run: LoadedRun, dataset, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    return score_batches(run.model, loader)


def store_scores(
    run: LoadedRun,
    store: str | Path,
    *,
    split: str = "all",
    language: str = "",
    batch_size: int = 64,
    tta: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, LabelSpace]:
    """``(scores (M, C_max), target (M,), language (M,), labels)`` of an isolated-sign run on a store's samples.

    ``tta``: test-time augmentation; ``"mirror"`` averages the logits of each
    sample and of its mirror image (the signer flipped left-right, hands swapped).
    """
    if tta not in TTA:
        raise SlrPoseError(f"unknown test-time augmentation {tta!r}; choose 'mirror' or none ('')")
    if tta and run.modality != "pose":
        raise SlrPoseError("test-time mirroring is for landmark runs; this run reads RGB clips")
    labels = LabelSpace.from_json(run.meta["labels"])
    samples, indices, pre, data = run_samples(run, store, split=split, language=language)
    for lang in sorted(set(samples.language[indices])):
        labels.language_index(lang)
    scores, target, lang, _ = run_scores(run, run_dataset(run, samples, indices, labels, data, pre), batch_size)
    if tta == "mirror":
        mirrored = [run.preprocessor(s.layout, mirrored=True) for s in samples.stores]
        scores = 0.5 * (scores + run_scores(run, run_dataset(run, samples, indices, labels, data, mirrored),
                                            batch_size)[0])
    return scores, target, lang, labels


def score_run(
    run: LoadedRun,
    store: str | Path,
    *,
    split: str = "all",
    language: str = "",
    groups: str | Path | None = None,
    batch_size: int = 64,
    tta: str = "",
) -> tuple[Evaluation, LabelSpace]:
    """Metrics and confusion matrices of an isolated-sign run on a store.

    ``groups``: a VSSign table for the grouped metrics (default: the run's own grouping, if any).
    ``tta``: see :func:`store_scores`.
    """
    scores, target, lang, labels = store_scores(run, store, split=split, language=language, batch_size=batch_size,
                                                tta=tta)
    grouping = Grouping.load(groups) if groups else run.grouping
    return evaluate_scores(scores, target, lang, labels, grouping=grouping), labels


def evaluate_run(
    run_dir: str | Path,
    store: str | Path,
    *,
    split: str = "all",
    language: str = "",
    groups: str | Path | None = None,
    out_dir: str | Path | None = None,
    batch_size: int = 64,
    decoding: dict | None = None,
    tta: str = "",
) -> dict:
    """Top-1/top-5, per-class and per-language accuracy of a run on a store.

    A continuous-signing run is scored by
    :func:`slr_pose.evaluation.cslr.evaluate_cslr_run` instead, with the
    ``decoding`` options it takes (lm, beam_width, lm_weight, insertion_bonus).

    Writes ``confusion_<language>.csv`` and ``.png`` and ``metrics.json`` to
    ``out_dir`` (default ``RUN/eval/<store name>``). With ``groups`` (a VSSign
    table), also the grouped accuracy of a model trained on ungrouped labels.
    ``tta``: see :func:`store_scores`.
    """
    run = load_run(run_dir)
    if run.task != "islr":
        if tta:
            raise SlrPoseError("test-time augmentation is for isolated-sign runs")
        return evaluate_cslr_run(run, run_dir, store, split=split, language=language, out_dir=out_dir, **(decoding or {}))
    ev, labels = score_run(run, store, split=split, language=language, groups=groups, batch_size=batch_size, tta=tta)
    out = Path(out_dir) if out_dir else Path(run_dir) / "eval" / Path(store).stem
    out.mkdir(parents=True, exist_ok=True)
    for name, matrix in ev.confusions.items():
        _write_confusion(out, name, matrix, labels.classes[name])
    summary = {"store": str(store), "split": split, **({"tta": tta} if tta else {}), **ev.summary}
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    summary["output"] = str(out)
    return summary


def _write_confusion(out: Path, language: str, matrix: np.ndarray, names: tuple[str, ...]) -> None:
    with atomic_path(out / f"confusion_{language}.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["true \\ predicted", *names])
        for name, row in zip(names, matrix):
            w.writerow([name, *row.tolist()])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    size = min(2 + 0.35 * n, 30)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    if n <= 60:
        ax.set_xticks(range(n), names, rotation=90, fontsize=8)
        ax.set_yticks(range(n), names, fontsize=8)
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=f"confusion ({language})")
    fig.tight_layout()
    with atomic_path(out / f"confusion_{language}.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
