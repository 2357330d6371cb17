"""Where two backends put the same hands: what changes when a user migrates from one to the other.

:func:`hand_distances` runs two backends on the same frames of each video
(each tracking in video mode) and compares the hand points wherever both found
the same hand, as distances in image widths (y scaled by height / width).
``benchmarks/backends.py`` reports it for legacy Holistic against the Tasks
hand landmarker; ``tests/keypoints/test_backend_agreement.py`` bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from slr_pose.keypoints.backends.base import Backend
from slr_pose.keypoints.video import VideoFrames


@dataclass(frozen=True)
class HandAgreement:
    """``points``: per-point distances of every hand both backends found (21 per hand); ``wrists``: the wrist
    distance of each; ``both`` / ``either``: (frame, hand) pairs both / either backend found a hand in."""

    points: np.ndarray
    wrists: np.ndarray
    both: int
    either: int


def hand_distances(a: Backend, b: Backend, videos: Iterable[str | Path], *, fps: float,
                   max_side: int | None) -> HandAgreement:
    """Compare the hands of two loaded backends on the frames of ``videos`` (``fps``, downscaled to ``max_side``)."""
    points, wrists, both, either = [], [], 0, 0
    for path in videos:
        a.start_video()
        b.start_video()
        for f in VideoFrames(path, fps=fps, max_side=max_side):
            x_all, y_all = a.process(f.image, f.time), b.process(f.image, f.time)
            scale = np.array([1.0, f.image.shape[0] / f.image.shape[1]])
            for side in ("left_hand", "right_hand"):
                x, y = getattr(x_all, side), getattr(y_all, side)
                either += x is not None or y is not None
                if x is not None and y is not None:
                    both += 1
                    d = np.linalg.norm((x[:, :2] - y[:, :2]) * scale, axis=1)  # (21,) image widths
                    points.append(d)
                    wrists.append(d[0])
    return HandAgreement(np.concatenate(points) if points else np.zeros(0), np.array(wrists), both, either)
