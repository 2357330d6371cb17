"""Pose streams and the RGB stream on real WLASL clips, and every fused subset: ``slr-pose ablate`` with seeds.

Data: the 408 real WLASL clips of 20 glosses in ``../shared/data/wlasl20_rgb``
(65 signers; WLASL's official split, 288 train / 69 val / 51 test; read from
there, never copied), extracted with ``slr-pose extract`` (12 fps, 256 px) and
cropped around the signer with ``slr-pose frames`` (112 px), both cached in
``--work``. Each seed runs :func:`slr_pose.evaluation.ablation.run_ablation`:
one run per stream (joint, bone, joint_motion, bone_motion: the default
encoder; rgb: MViTv2-S), fusion of every subset, weights searched on val.

The RGB stream starts from random weights: Kinetics-400 weights cannot be
downloaded on this machine, and ``model.pretrained`` takes a local file where
one exists. On a CPU it is trained small (``--clip-frames`` frames of
``--clip-side`` pixels, ``--rgb-epochs`` epochs).

Usage: python benchmarks/rgb_ablation.py [--seeds 0 1 2] [--epochs 30] [--rgb-epochs 8] [--work /tmp/slr-wlasl20]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLR_POSE_SHARED_DATA", REPO.parent / "shared" / "data"))
STREAMS = ["joint", "bone", "joint_motion", "bone_motion", "rgb"]


def cli(*args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "slr_pose", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"slr-pose {' '.join(args)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=30, help="epochs of each pose stream")
    ap.add_argument("--rgb-epochs", type=int, default=8)
    ap.add_argument("--clip-frames", type=int, default=8)
    ap.add_argument("--clip-side", type=int, default=64)
    ap.add_argument("--streams", default=",".join(STREAMS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/slr-wlasl20"))
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "rgb_ablation.md")
    args = ap.parse_args()
    import torch

    from slr_pose.evaluation.ablation import run_ablation

    torch.set_num_threads(2)
    args.work.mkdir(parents=True, exist_ok=True)
    store = args.work / "wlasl20.h5"
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    if not store.exists() or store.with_name(store.name + ".journal").exists():
        cli("extract", str(SHARED / "wlasl20_rgb" / "manifest.csv"), "-o", str(store), "--fps", "12", "--max-side", "256",
            "--workers", "2", "--no-progress")
    cli("frames", str(store), "--side", "112")
    prepared = time.perf_counter() - t0
    config = args.work / "config.yaml"
    config.write_text(yaml.safe_dump({
        "task": "islr",
        "data": {"stores": [{"path": str(store)}], "split": {"mode": "column"},
                 "clip": {"frames": args.clip_frames, "stride": 2, "side": args.clip_side}},
        "train": {"epochs": args.epochs, "batch_size": 16, "lr": 0.001},
    }))
    streams = [s.strip() for s in args.streams.split(",")]
    results, seconds = [], []
    for seed in args.seeds:
        t = time.perf_counter()
        r = run_ablation(config, args.work / f"seed{seed}", streams, [f"train.seed={seed}"],
                         [f"train.epochs={args.rgb_epochs}", "train.batch_size=8"], log=lambda line: print(line, flush=True))
        results.append(r.result)
        seconds.append(time.perf_counter() - t)
    load_after = os.getloadavg()
    names = [row["streams"] for row in results[0]["rows"]]
    lines = [
        "# Pose streams, the RGB stream and their fusion on real WLASL clips",
        "",
        f"Run {datetime.date.today()} on {platform.platform()} ({os.cpu_count()} CPUs, no GPU; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after); torch {torch.__version__}, 2 threads.",
        f"`python benchmarks/rgb_ablation.py --seeds {' '.join(map(str, args.seeds))} --epochs {args.epochs} "
        f"--rgb-epochs {args.rgb_epochs} --clip-frames {args.clip_frames} --clip-side {args.clip_side}`",
        "",
        f"Data: 408 real WLASL clips of 20 ASL glosses by 65 signers (`../shared/data/wlasl20_rgb`), WLASL's official "
        f"split: {results[0]['val_samples']} validation and {results[0]['test_samples']} test clips (288 train). "
        "The split is not signer-independent (most test signers also sign in training), and the set is small: "
        f"one test clip is {100 / results[0]['test_samples']:.1f} points of top-1, so differences of a few points are within noise.",
        f"Pose streams: the default encoder, {args.epochs} epochs. RGB: MViTv2-S (torchvision) from random weights "
        f"(no Kinetics-400 file here), {args.clip_frames} frames of {args.clip_side} px, stride 2, {args.rgb_epochs} epochs.",
        f"Extraction and cropping took {prepared:.0f} s; each seed's five runs and fusion took "
        f"{', '.join(f'{s / 60:.0f}' for s in seconds)} min.",
        "",
        "| streams | val top-1 (mean +- std) | test top-1 (mean +- std) |",
        "|---|---:|---:|",
    ]
    for k, name in enumerate(names):
        val = np.array([100 * r["rows"][k]["val_top1"] for r in results])
        test = np.array([100 * r["rows"][k]["test_top1"] for r in results])
        lines.append(f"| {name} | {val.mean():.1f} +- {val.std(ddof=1) if len(val) > 1 else 0:.1f} | {test.mean():.1f} +- {test.std(ddof=1) if len(test) > 1 else 0:.1f} |")
    lines += ["", f"Chance is 5%. Seeds: {', '.join(map(str, args.seeds))}; per-seed tables and plots in "
                  f"`{args.work}/seed*/ablation.*`."]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()
