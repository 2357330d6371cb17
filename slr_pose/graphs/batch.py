"""Stacking processed samples into a padded batch.

Variable-length samples (continuous signing, ``length=None``) are padded at
the end to the longest one; padding is zero with False masks, exactly like
the padding of a fixed-length sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.pipeline import Processed


@dataclass(frozen=True)
class Batch:
    """A padded batch (NumPy; ``torch.from_numpy`` each field for a model).

    Attributes:
        x: ``(N, C, T, V)`` float32.
        frame_mask: ``(N, T)`` bool, True on real frames.
        landmark_mask: ``(N, T, V)`` bool.
        source_index: ``(N, T)`` float32, -1 on padding.
        lengths: ``(N,)`` int64 real frames per sample.
        observed_mask: ``(N, T, V)`` bool, ``landmark_mask`` without gap-filled points.
    """

    x: np.ndarray
    frame_mask: np.ndarray
    landmark_mask: np.ndarray
    source_index: np.ndarray
    lengths: np.ndarray
    observed_mask: np.ndarray


def collate(items: Sequence[Processed]) -> Batch:
    """Stack samples of one preprocessor, padding time to the longest."""
    if not items:
        raise SlrPoseError("cannot collate an empty batch")
    c, _, v = items[0].x.shape
    for it in items:
        if it.x.shape[0] != c or it.x.shape[2] != v:
            raise SlrPoseError(f"cannot batch samples of shape {it.x.shape} with {items[0].x.shape}: channels or nodes differ")
    t = max(it.x.shape[1] for it in items)
    n = len(items)
    x = np.zeros((n, c, t, v), np.float32)
    frame_mask = np.zeros((n, t), bool)
    landmark_mask = np.zeros((n, t, v), bool)
    observed_mask = np.zeros((n, t, v), bool)
    source_index = np.full((n, t), -1.0, np.float32)
    for k, it in enumerate(items):
        m = it.x.shape[1]
        x[k, :, :m] = it.x
        frame_mask[k, :m] = it.frame_mask
        landmark_mask[k, :m] = it.landmark_mask
        observed_mask[k, :m] = it.observed_mask
        source_index[k, :m] = it.source_index
    return Batch(x, frame_mask, landmark_mask, source_index, frame_mask.sum(1).astype(np.int64), observed_mask)
