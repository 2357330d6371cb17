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
    rng = np.random.default_rng(config.seed)
    out = np.full(n, "train", dtype=object)
    if config.mode == "signer":
        if any(not s for s in signers):
            raise SlrPoseError("split mode 'signer' needs a signer for every sample; some have none")
        people = np.array(sorted(set(signers)), dtype=object)
        rng.shuffle(people)
        if config.folds > 1:
            if not 0 <= config.fold < config.folds:
                raise SlrPoseError(f"split fold {config.fold} is not in 0..{config.folds - 1}")
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
