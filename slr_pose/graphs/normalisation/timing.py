"""Which stored frames (fractional indices) become the output frames.

Trimming, temporal crop, frame-rate conversion, speed change and fitting to a
fixed length all reduce to evenly spaced fractional source positions
``first + step * k`` (k = 0 .. n - 1), which
:func:`slr_pose.graphs.normalisation.kernels.normalise` samples by linear interpolation.
"""

from __future__ import annotations

import math

import numpy as np

#: How a clip is brought to a fixed length.
FITS = ("pad", "resample")


def frame_plan(
    first: float, last: float, *, step: float = 1.0, length: int | None = None, fit: str = "pad"
) -> tuple[float, float, int, int]:
    """Where the output frames come from.

    Args:
        first, last: the stored span to cover (inclusive, may be fractional).
        step: stored frames per output frame (source fps / target fps, times
            the playback speed).
        length: output frames, or None for as many as the span gives.
        fit: with ``length``, ``"pad"`` keeps shorter clips at their rate
            (the rest is padding) and resamples longer ones to ``length``;
            ``"resample"`` always stretches or squeezes to ``length``.

    Returns:
        ``(first, step, n, out_len)``: output frame ``k < n`` samples stored
        position ``first + step * k``; frames ``n .. out_len - 1`` are padding.
    """
    n = max(int(math.floor((last - first) / step + 1e-9)) + 1, 1)
    if length is not None and (n > length or fit == "resample"):
        # the same span over `length` frames (one frame: its middle)
        if length > 1:
            step = step * (n - 1) / (length - 1)
        else:
            first, step = first + step * (n - 1) / 2, 0.0
        n = length
    return float(first), float(step), n, n if length is None else length


def plan_positions(first: float, step: float, n: int) -> np.ndarray:
    """``(n,)`` float64 stored positions of a plan's real output frames."""
    return first + step * np.arange(n, dtype=np.float64)
