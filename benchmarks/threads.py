"""Training throughput with 1 and 2 torch threads, on an idle machine and beside another training job.

``slr-pose train --threads N`` exists because torch's default (one intra-op
thread per core) can be much slower than one thread when other processes
use the cores too: its threads wait on each other. This script measures it
side by side in one run, on the bundled real MSL-150 keypoints with the demo
config (default encoder), as ``slr-pose train`` runs it:

* idle: nothing else running, ``--threads 1`` then ``--threads 2``;
* busy: the same while a second ``slr-pose train`` (torch's default threads)
  runs on the same machine the whole time.

Rate = median of the per-epoch ``samples_per_s`` in ``metrics.csv`` over
epochs 2.. (the first epoch pays for compiling and warming up).

Usage: python benchmarks/threads.py [--epochs 4] [--out benchmarks/results/threads.md]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "configs" / "demo_msl150.yaml"
MSL = REPO / "data" / "msl150" / "keypoints_sample.npz"


def slr_pose(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "slr_pose", *map(str, args)], stdout=subprocess.DEVNULL, **kw)


def train(store: Path, run: Path, epochs: int, threads: int | None = None) -> subprocess.Popen:
    extra = ["--threads", threads] if threads else []
    return slr_pose("train", CONFIG, "-o", run, "--no-progress", "--set", f"train.epochs={epochs}",
                    "--set", f"data.stores=[{{path: '{store}', language: mfs}}]", *extra)


def rate(run: Path) -> float:
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    return statistics.median(float(r["samples_per_s"]) for r in rows[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "threads.md")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="slr-threads-") as tmp:
        tmp = Path(tmp)
        store = tmp / "msl.h5"
        importing = slr_pose("import", "numpy", MSL, "--spec", "msl150", "--language", "mfs", "--trim", "-o", store)
        if importing.wait():
            raise SystemExit("import failed")
        rates = {}
        for threads in (1, 2):
            run = tmp / f"idle-{threads}"
            if train(store, run, args.epochs, threads).wait():
                raise SystemExit(f"training failed ({run})")
            rates[("idle", threads)] = rate(run)
        for threads in (1, 2):
            other = train(store, tmp / f"other-{threads}", 10 * args.epochs)  # outlives the measured run
            run = tmp / f"busy-{threads}"
            code = train(store, run, args.epochs, threads).wait()
            other.kill()
            other.wait()
            if code:
                raise SystemExit(f"training failed ({run})")
            rates[("busy", threads)] = rate(run)
    lines = [
        "# Training throughput: 1 and 2 torch threads, idle and beside another job",
        "",
        f"Run {datetime.date.today()} on a {os.cpu_count()}-core {platform.machine()} CPU, no GPU; load average "
        f"{load_before:.1f} before the run. `python benchmarks/threads.py --epochs {args.epochs}`.",
        "",
        "Data: the 86 bundled MSL-150 keypoint sequences (`slr-pose import numpy --spec msl150 --trim`); "
        f"config `configs/demo_msl150.yaml` (default encoder, 32 frames, batch 16), {args.epochs} epochs. "
        "Training samples/s: median over epochs 2.. of `metrics.csv`. Busy: a second `slr-pose train` of the "
        "same config with torch's default threads runs the whole time.",
        "",
        "| machine | --threads 1 | --threads 2 | 1 thread vs 2 |",
        "|---|---:|---:|---:|",
    ]
    for state in ("idle", "busy"):
        one, two = rates[(state, 1)], rates[(state, 2)]
        lines.append(f"| {state} | {one:.1f} | {two:.1f} | {one / two:.2f}x |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
