"""Accuracy metrics for isolated signs: top-k, per class, per language, grouped.

Inputs are the model's scores for a set of samples, ``(M, C_max)``, where each
row only has meaningful entries for its language's classes (the gated head
fills the rest with a large negative value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slr_pose.training.labels import Grouping, LabelSpace


def topk_correct(scores: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """``(M,)`` bool: the target is among the ``k`` highest scores."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return (top == target[:, None]).any(1)


def per_class_accuracy(pred: np.ndarray, target: np.ndarray, num_classes: int) -> float:
    """Mean over classes present in ``target`` of their accuracy (balanced accuracy)."""
    accs = [np.mean(pred[target == c] == c) for c in range(num_classes) if np.any(target == c)]
    return float(np.mean(accs)) if accs else float("nan")


def confusion(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """``(C, C)`` counts, rows = true class, columns = predicted class."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (target, pred), 1)
    return m


@dataclass
class Evaluation:
    """Metrics of one evaluation; ``summary`` is what gets printed / written to JSON."""

    summary: dict
    confusions: dict[str, np.ndarray]


def evaluate_scores(
    scores: np.ndarray,
    target: np.ndarray,
    language: np.ndarray,
    labels: LabelSpace,
    *,
    grouping: Grouping | None = None,
) -> Evaluation:
    """Top-1/top-5 (per instance), per-class accuracy, per language and overall.

    Args:
        scores: ``(M, C_max)`` logits or probabilities.
        target: ``(M,)`` class index within each sample's language.
        language: ``(M,)`` language index.
        grouping: when given, also accuracy after mapping both prediction and
            truth to their VSSign group: overall, on samples whose sign is in a
            group of several glosses (``vssign``), and on the rest.
    """
    pred = scores.argmax(1)
    top1 = pred == target
    top5 = topk_correct(scores, target, 5)
    summary: dict = {
        "samples": int(len(target)),
        "top1": float(top1.mean()) if len(target) else float("nan"),
        "top5": float(top5.mean()) if len(target) else float("nan"),
        "languages": {},
    }
    confusions = {}
    per_class = []
    for li, lang in enumerate(labels.languages):
        sel = language == li
        if not sel.any():
            continue
        n = labels.sizes[lang]
        pc = per_class_accuracy(pred[sel], target[sel], n)
        per_class.append(pc)
        summary["languages"][lang] = {
            "samples": int(sel.sum()),
            "classes": n,
            "top1": float(top1[sel].mean()),
            "top5": float(top5[sel].mean()),
            "per_class_top1": pc,
            "chance": 1.0 / n,
        }
        confusions[lang] = confusion(pred[sel], target[sel], n)
    summary["per_class_top1"] = float(np.mean(per_class)) if per_class else float("nan")
    if grouping is not None and grouping.table:
        summary["grouped"] = _grouped(pred, target, language, labels, grouping)
    return Evaluation(summary, confusions)


def _grouped(pred, target, language, labels: LabelSpace, grouping: Grouping) -> dict:
    hit, vs = [], []
    for p, t, li in zip(pred, target, language):
        lang = labels.languages[li]
        names = labels.classes[lang]
        truth = names[t]
        hit.append(grouping.apply(lang, names[p]) == grouping.apply(lang, truth))
        vs.append(grouping.is_grouped(lang, truth))
    hit, vs = np.array(hit, bool), np.array(vs, bool)

    def acc(mask):
        return float(hit[mask].mean()) if mask.any() else float("nan")

    return {
        "top1": acc(np.ones_like(hit)),
        "vssign_top1": acc(vs),
        "non_vssign_top1": acc(~vs),
        "vssign_samples": int(vs.sum()),
    }
