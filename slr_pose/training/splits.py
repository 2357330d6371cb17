"""Train / val / test splits: from the store, by signer, or stratified at random.

All splits are pure functions of the sample table and a seed, so a run that
resumes, or a second run with the same seed, sees exactly the same samples.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.training.config import SplitConfig

SPLITS = ("train", "val", "test")


def assign_splits(
    splits: list[str], signers: list[str], strata: list[str], config: SplitConfig
) -> np.ndarray:
    """Split name (``train``/``val``/``test``) for every sample.

    Args:
        splits: each sample's stored split (used by ``mode: column``).
        signers: each sample's signer (``mode: signer``).
        strata: each sample's ``language/label`` (``mode: random`` stratifies on it).
    """
    n = len(splits)
    if config.mode == "column":
        bad = sorted({s for s in splits if s not in SPLITS})
        if bad:
            shown = ", ".join(repr(b) for b in bad[:5])
            raise SlrPoseError(
                f"split mode 'column' needs every sample's split to be train, val or test; found {shown} "
                "(set data.split.mode to signer or random to split here)"
            )
        return np.asarray(splits, dtype=object)
    if config.folds > 1 and not 0 <= config.fold < config.folds:
        raise SlrPoseError(f"split fold {config.fold} is not in 0..{config.folds - 1}")
    rng = np.random.default_rng(config.seed)
    out = np.full(n, "train", dtype=object)
    if config.mode == "signer":
        if any(not s for s in signers):
            raise SlrPoseError("split mode 'signer' needs a signer for every sample; some have none")
        people = np.array(sorted(set(signers)), dtype=object)
        rng.shuffle(people)
        if config.folds > 1:
            folds = np.array_split(people, config.folds)
            test = set(folds[config.fold])
            rest = [p for p in people if p not in test]
        else:
            k = int(round(config.test_fraction * len(people)))
            test, rest = set(people[:k]), list(people[k:])
        k_val = int(round(config.val_fraction * len(people)))
        val = set(rest[:k_val])
        if len(people) >= 3 and (config.test_fraction > 0 or config.folds > 1) and not test:
            raise SlrPoseError("signer split left no test signer; raise test_fraction")
        for i, s in enumerate(signers):
            out[i] = "test" if s in test else "val" if s in val else "train"
        return out
    if config.folds > 1:  # stratified k-fold: every sample is tested once over the folds
        return _stratified_fold(strata, config)
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(strata):
        by_stratum[s].append(i)
    for key in sorted(by_stratum):
        idx = np.array(by_stratum[key])
        rng.shuffle(idx)
        k_test = int(round(config.test_fraction * len(idx)))
        k_val = int(round(config.val_fraction * len(idx)))
        out[idx[:k_test]] = "test"
        out[idx[k_test : k_test + k_val]] = "val"
    return out


def _stratified_fold(strata: list[str], config: SplitConfig) -> np.ndarray:
    """``mode: random`` with ``folds`` (``fold`` checked by the caller): fold ``fold`` of scikit-learn's StratifiedKFold (shuffled with ``seed``) is
    the test split; ``val_fraction`` of the rest, stratified (StratifiedShuffleSplit), is the val split."""
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    labels = np.asarray(strata, dtype=object)
    smallest = min(np.unique(labels, return_counts=True)[1])
    if smallest < config.folds:
        raise SlrPoseError(f"{config.folds} stratified folds need at least {config.folds} samples of every "
                           f"language/label; one has {smallest}")
    folds = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    rest, test = list(folds.split(np.zeros(len(labels)), labels))[config.fold]
    out = np.full(len(labels), "train", dtype=object)
    out[test] = "test"
    if config.val_fraction > 0:
        inner = StratifiedShuffleSplit(n_splits=1, test_size=config.val_fraction, random_state=config.seed)
        _, val = next(inner.split(np.zeros(len(rest)), labels[rest]))
        out[rest[val]] = "val"
    return out


def k_shot(indices: np.ndarray, classes: list[str], k: int, seed: int) -> np.ndarray:
    """Keep ``k`` samples per class (all of a class with fewer), drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    keep = []
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, c in zip(indices, classes):
        by_class[c].append(int(i))
    for c in sorted(by_class):
        members = np.array(by_class[c])
        keep.extend(rng.permutation(members)[:k].tolist())
    return np.array(sorted(keep), dtype=np.int64)
