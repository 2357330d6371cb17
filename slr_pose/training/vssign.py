"""Suggesting groups of visually similar signs (VSSigns) from a model's confusions.

Two classes ``a`` and ``b`` of one language are a candidate pair when the
model confuses them often in both directions: the symmetric confusion rate
``(C[a, b] / n_a + C[b, a] / n_b) / 2`` reaches ``threshold``. Candidate pairs
are joined into groups (connected components); the result is written as an
editable grouping table for experts to confirm or change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slr_pose.training.labels import Grouping


@dataclass(frozen=True)
class Candidate:
    language: str
    a: str
    b: str
    rate: float


def confused_pairs(matrix: np.ndarray, names: tuple[str, ...], language: str, threshold: float) -> list[Candidate]:
    """Class pairs whose symmetric confusion rate is at least ``threshold``, most confused first."""
    counts = matrix.sum(1).astype(float)
    rates = np.divide(matrix, counts[:, None], out=np.zeros(matrix.shape), where=counts[:, None] > 0)
    sym = (rates + rates.T) / 2
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sym[i, j] >= threshold and sym[i, j] > 0:
                out.append(Candidate(language, names[i], names[j], float(sym[i, j])))
    return sorted(out, key=lambda c: (-c.rate, c.a, c.b))


def groups_from_pairs(pairs: list[Candidate]) -> tuple[Grouping, dict[tuple[str, str], float]]:
    """Join pairs into groups named ``a|b|...``; also each gloss's strongest confusion."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    score: dict[tuple[str, str], float] = {}
    for p in pairs:
        a, b = (p.language, p.a), (p.language, p.b)
        parent[find(a)] = find(b)
        score[a] = max(score.get(a, 0.0), p.rate)
        score[b] = max(score.get(b, 0.0), p.rate)
    members: dict[tuple[str, str], list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node[1])
    table = {}
    for root, glosses in members.items():
        name = "|".join(sorted(glosses))
        for g in glosses:
            table[(root[0], g)] = name
    return Grouping(table), score


def suggest_groups(
    confusions: dict[str, np.ndarray], classes: dict[str, tuple[str, ...]], threshold: float, out: str | Path
) -> list[Candidate]:
    """Write a grouping table of candidate VSSign groups to ``out``; return the pairs."""
    pairs = []
    for lang, matrix in confusions.items():
        pairs += confused_pairs(matrix, classes[lang], lang, threshold)
    grouping, score = groups_from_pairs(pairs)
    grouping.save(out, scores=score)
    return pairs
