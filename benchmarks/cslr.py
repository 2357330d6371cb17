"""Continuous recognition (CTC) on STITCHED sets: training samples/s, test WER greedy vs beam vs beam + LM.

The sets are stitched from real isolated signs (Kaggle asl-signs: 21 signers x
{hello, thankyou}; MSL-150: one signer, 5 signs) with the commands of
``benchmarks/results/stitched.md`` plus ``--val-fraction 0.15``: validation
sentences from their own source samples, which pick the best epoch and the LM
weight / insertion bonus. They are not real continuous signing (see that file).

Each set is trained with ``configs/cslr_stitched_msl.yaml`` (only the store, its
language and the seed changed) for every seed, then evaluated on its test split
with ``slr-pose evaluate``'s library call. Torch runs one thread: on a 2-core
machine shared with other jobs, two threads wait on each other and training
ran several times slower in spot checks.

The real-data section at the top of ``cslr.md`` (RWTH-BOSTON-104) is rendered
from ``benchmarks/results/boston104.json``, which ``benchmarks/boston104.py``
writes (and which splices the section into ``cslr.md`` itself after its run);
this script keeps it when it rewrites the stitched part.

``--ablation`` instead trains the msl set (seed 0) with the config as it is
and with one change at a time (a BiLSTM sequence model of the same width, no
crop augmentation, the auxiliary gloss head) and writes
``benchmarks/results/cslr_ablation.md``.

Usage: python benchmarks/cslr.py [--seeds 0 1] [--work DIR] [--out FILE] [--ablation]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from slr_pose.evaluation.islr import evaluate_run
from slr_pose.keypoints.store import PoseStore
from slr_pose.training.config import load_config
from slr_pose.training.cslr_decoding import INSERTION_BONUSES, LM_WEIGHTS
from slr_pose.training.trainer import train

REPO = Path(__file__).resolve().parent.parent
KAGGLE = REPO.parent / "shared" / "data" / "gislr_asl_signs" / "parquet"
MSL = REPO / "data" / "msl150" / "keypoints_sample.npz"
CONFIG = REPO / "configs" / "cslr_stitched_msl.yaml"
STITCH = ["--sentences", "400", "--min-glosses", "3", "--max-glosses", "8", "--seed", "0", "--val-fraction", "0.15"]
DECODERS = (("greedy", "greedy"), ("beam", "beam"), ("beam_lm", "beam + LM"))
VARIANTS = {"the config": [], "BiLSTM sequence model": ["model.sequence_model=bilstm"],
            "no crop augmentation": ["augment.crop=0.0"], "gloss head (weight 1)": ["model.gloss_head=true"]}


def commands(work: Path) -> dict[str, list[list[str]]]:
    """The ``slr-pose`` commands that build each stitched set."""
    return {
        "asl": [["import", "kaggle", str(KAGGLE), "-o", str(work / "asl.h5")],
                ["stitch", str(work / "asl.h5"), "-o", str(work / "asl-stitched.h5"), *STITCH]],
        "msl": [["import", "numpy", str(MSL), "--spec", "msl150", "--language", "mfs", "--fps", "30", "--width", "1280",
                 "--height", "720", "--trim", "-o", str(work / "msl.h5")],
                ["stitch", str(work / "msl.h5"), "-o", str(work / "msl-stitched.h5"), *STITCH]],
    }  # fmt: skip


def shown(args: list[str], work: Path) -> str:
    short = {str(work) + "/": "", str(REPO) + "/": "", str(REPO.parent) + "/": "../"}
    for long, brief in short.items():
        args = [a.replace(long, brief) for a in args]
    return "slr-pose " + " ".join(args)


def build(work: Path, names: tuple[str, ...] = ("asl", "msl")) -> list[str]:
    lines = []
    for name, steps in commands(work).items():
        if name not in names:
            continue
        for args in steps:
            subprocess.run([sys.executable, "-m", "slr_pose", *args], check=True, capture_output=True, text=True)
            lines.append(shown(args, work))
    return lines


def train_and_evaluate(config: Path, store: Path, language: str, seed: int, run_dir: Path, changes=()):
    """One run of ``config`` on ``store`` with ``changes``, trained and scored on its test split.

    Returns the config, the training result, training seconds, the evaluation and the load before and after.
    """
    overrides = [f"data.stores=[{{path: '{store}', language: {language}}}]", f"train.seed={seed}", *changes]
    cfg = load_config(config, overrides)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    result = train(cfg, run_dir, progress=False, log=lambda *a: None)
    seconds = time.perf_counter() - start
    ev = evaluate_run(run_dir, store, split="test")
    return cfg, result, seconds, ev, [load_before, os.getloadavg()[0]]


def run_one(store: Path, language: str, seed: int, run_dir: Path, changes: list[str] = ()) -> dict:
    _, result, seconds, ev, load = train_and_evaluate(CONFIG, store, language, seed, run_dir, changes)
    rates = [r["samples_per_s"] for r in result.history[1:]]  # epoch 1 also compiles the numba kernels
    return {"seed": seed, "train_s": seconds, "samples_per_s": statistics.median(rates), "best_epoch": result.best_epoch,
            "load": tuple(load), "eval": ev, "decoding": ev["decoding"]}  # fmt: skip


def wer_cell(m: dict) -> str:
    return f"{100 * m['wer']:.1f} ({m['sub']}/{m['del']}/{m['ins']})"


def set_summary(store: Path) -> str:
    s = PoseStore(store)
    splits = s.column("split").tolist()
    glosses = [len(g.split()) for g in s.column("glosses").tolist()]
    counts = ", ".join(f"{k} {splits.count(k)}" for k in ("train", "val", "test"))
    return f"{counts} sentences; {sum(glosses)} gloss tokens; mean {sum(s.column('length')) / len(s):.0f} frames"


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform says."""
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.processor())  # fmt: skip


def machine() -> str:
    cpu = cpu_name()
    return (f"Run {datetime.date.today().isoformat()} on {os.cpu_count()} x {cpu} ({platform.machine()}), no GPU, "
            f"torch {torch.__version__} with 1 thread, shared with other jobs (load average per run below).")


def row(r: dict) -> str:
    """samples/s | train s | best epoch | load | greedy | beam | beam + LM | LM weight, bonus"""
    cells = [wer_cell(r["eval"][k]) if k in r["eval"] else "-" for k, _ in DECODERS]
    d = r["decoding"]
    return (f"{r['samples_per_s']:.1f} | {r['train_s']:.0f} | {r['best_epoch']} | {r['load'][0]:.1f} / {r['load'][1]:.1f} | "
            f"{' | '.join(cells)} | {d['lm_weight']:g}, {d['insertion_bonus']:g} |")


BOSTON_JSON = REPO / "benchmarks" / "results" / "boston104.json"
REAL_START = "<!-- real-data section: written by benchmarks/boston104.py from boston104.json; do not edit -->"
REAL_END = "<!-- end of the real-data section -->"


def _mean_std(values: list[float]) -> str:
    m = 100 * statistics.mean(values)
    return f"{m:.1f} ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else f"{m:.1f}"


def real_data_section(res: dict) -> str:
    """The RWTH-BOSTON-104 summary (standard split, each signer fold, all folds) of ``boston104.json``'s results."""
    groups = res["groups"]
    rows = [("standard split, 161 train / 40 test sentences", groups["standard"])]
    for signer in sorted({s for r in groups["signer"] for s in r["test_signers"]}):
        held = [r for r in groups["signer"] if r["test_signers"] == [signer]]
        rows.append((f"signer-independent, test signer {signer} ({held[0]['train']} / {held[0]['test']})", held))
    rows.append(("signer-independent, mean over the 3 folds", groups["signer"]))
    table = []
    for label, runs in rows:
        cells = [_mean_std([r["eval"][k]["wer"] for r in runs]) for k, _ in DECODERS]
        seeds = ", ".join(map(str, sorted({r["seed"] for r in runs})))
        table.append(f"| {label} | {len(runs)} ({seeds}) | {' | '.join(cells)} |")
    return "\n".join([
        REAL_START,
        "# Continuous recognition (CTC) on REAL sentences: RWTH-BOSTON-104",
        "",
        "Real continuous ASL (co-articulation, three signers) from tracked hand centres and the nose only; details,",
        "per-run rows with S/D/I, the body-frame, gloss-head, isolated-word and transcript runs and the published",
        f"results beside ours in [boston104.md](boston104.md) (run {res['date']}, "
        f"`python benchmarks/boston104.py --seeds {' '.join(map(str, res['seeds']))} "
        f"--fold-seeds {' '.join(map(str, res['fold_seeds']))}`).",
        "Config `configs/cslr_boston104.yaml`, no validation split (all epochs, the last kept, LM weight 0.5 and",
        "insertion bonus 0.5), the LM a 3-gram of each run's training sentences. Test WER %, mean ± std over seeds:",
        "",
        "| protocol | runs (seeds) | greedy | beam | beam + LM |",
        "|---|---|---:|---:|---:|",
        *table,
        "",
        REAL_END,
        "",
    ])


def with_real_data_section(text: str, section: str) -> str:
    """``text`` (cslr.md) with its real-data section replaced by ``section``, or put first when it has none."""
    if REAL_START in text and REAL_END in text:
        head, rest = text.split(REAL_START, 1)
        tail = rest.split(REAL_END, 1)[1].lstrip("\n")
        return head + section + tail
    return section + text


HEADER = "samples/s | train s | best epoch | load before/after | greedy | beam | beam + LM | LM weight, bonus |"
RULE = "---:|---:|---:|---|---:|---:|---:|---|"


def ablation_report(runs: dict, built: list[str], wall: float) -> str:
    return "\n".join([
        "# Continuous recognition on the STITCHED msl set: one change at a time",
        "",
        "Stitched sentences (see `stitched.md`, `cslr.md`), not real continuous signing. "
        f"`python benchmarks/cslr.py --ablation`: {wall / 60:.1f} min wall.",
        machine(),
        "",
        "```sh",
        *built,
        "```",
        "",
        "Each row: `configs/cslr_stitched_msl.yaml` on msl-stitched, seed 0, with the change named; "
        "test WER % (S/D/I) as in `cslr.md`.",
        "",
        f"| change | {HEADER}",
        f"|---|{RULE}",
        *[f"| {name} (`{' '.join(VARIANTS[name]) or '-'}`) | {row(r)}" for name, r in runs.items()],
        "",
    ])


def report(sets: dict, built: list[str], seeds: list[int], wall: float) -> str:
    out = [
        "# Continuous recognition (CTC) on STITCHED sets",
        "",
        "**The sets are stitched** from real isolated signs (`slr-pose stitch`; see `stitched.md`): real MediaPipe",
        "landmark frames of real signers, but made-up gloss order and interpolated transitions, no co-articulation.",
        "These numbers say whether the CTC model and decoders segment and recognise a stream of citation-form signs",
        "whose order an LM can learn, not how they fare on natural continuous signing.",
        "",
        machine(),
        f"`python benchmarks/cslr.py --seeds {' '.join(map(str, seeds))}`: {wall / 60:.1f} min wall in all.",
        "",
        "## Sets (seed 0)",
        "",
        "```sh",
        *built,
        "```",
        "",
        *[f"* {name}-stitched: {info['summary']}" for name, info in sets.items()],
        "",
        "## Training and test WER",
        "",
        f"Config `configs/cslr_stitched_msl.yaml` ({load_config(CONFIG).train.epochs} epochs), only the store, "
        "its language and `train.seed` changed:",
        "`slr-pose train configs/cslr_stitched_msl.yaml -o RUN --set 'data.stores=[{path: SET.h5, language: LANG}]' "
        "--set train.seed=SEED`, then `slr-pose evaluate RUN SET.h5 --split test`.",
        "Samples/s: median over epochs 2.. of training throughput (sentences per second, augmentation and data",
        "loading included). WER % on the test split with (substitutions/deletions/insertions), sclite counting.",
        "Beam width 10; LM: the run's 3-gram over its training sentences; LM weight and insertion bonus picked on",
        f"the validation sentences (weights {', '.join(map(str, LM_WEIGHTS))} x bonuses "
        f"{', '.join(map(str, INSERTION_BONUSES))}).",
        "",
        f"| set | seed | {HEADER}",
        f"|---|---:|{RULE}",
    ]
    for name, info in sets.items():
        for r in info["runs"]:
            out.append(f"| {name} | {r['seed']} | {row(r)}")
        means = [statistics.mean(100 * r["eval"][k]["wer"] for r in info["runs"]) for k, _ in DECODERS]
        out.append(f"| {name} | mean | | | | | {' | '.join(f'{m:.1f}' for m in means)} | |")
    out.append("")
    text = "\n".join(out)
    if BOSTON_JSON.exists():  # the real-data section stays above the stitched sets
        text = with_real_data_section(text, real_data_section(json.loads(BOSTON_JSON.read_text(encoding="utf-8"))))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--work", type=Path, default=Path("/tmp/slr-pose-cslr-bench"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--ablation", action="store_true", help="one change at a time on the msl set instead")
    args = parser.parse_args()
    out = args.out or REPO / "benchmarks" / "results" / ("cslr_ablation.md" if args.ablation else "cslr.md")
    torch.set_num_threads(1)
    start = time.perf_counter()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    if args.ablation:
        built = build(args.work, ("msl",))
        runs = {}
        for name, changes in VARIANTS.items():
            runs[name] = run_one(args.work / "msl-stitched.h5", "mfs", 0, args.work / f"run-{len(runs)}", changes)
            print(name, row(runs[name]), flush=True)
        out.write_text(ablation_report(runs, built, time.perf_counter() - start))
        print(f"wrote {out}")
        return
    built = build(args.work)
    sets = {}
    for name, language in (("msl", "mfs"), ("asl", "ase")):
        store = args.work / f"{name}-stitched.h5"
        runs = []
        for seed in args.seeds:
            runs.append(run_one(store, language, seed, args.work / f"run-{name}-{seed}"))
            print(name, seed, row(runs[-1]), flush=True)
        sets[name] = {"summary": set_summary(store), "runs": runs}
    out.write_text(report(sets, built, args.seeds, time.perf_counter() - start))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
