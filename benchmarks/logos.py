"""The Logos claims on real landmarks: transfer from a bigger sign language, co-training, few-shot, VSSigns.

Source: WLASL20 (ASL, ``../shared/data/wlasl20_rgb``: 408 real web videos of
20 glosses by 65 signers, WLASL's official split 288 train / 69 val / 51
test), as landmarks ``slr-pose extract`` made from its videos with MediaPipe
Holistic. Target: Bhutanese SL16 (``../shared/data/bhutanese_sl16``: 1,600
real webcam sequences of 16 signs, one of them ``idle``; no signer ids), a
different sign language recorded by different people with a different
camera. Both are read from ``../shared`` (internal evaluation data, never
copied into the repository); stores are made in ``--work``.

Protocol, per seed: scikit-learn's ``StratifiedShuffleSplit`` holds out 25%
of Bhutanese (400 sequences, 25 per sign) as the test set every method of
that seed is scored on; ``k`` training sequences per sign (1, 3, 5, 10) are
drawn from the other 1,200 with the toolkit's ``k_shot`` (nested: the 3-shot
set holds the 1-shot set). Every model is ``slr_pose.training.trainer.train``
with one recipe: the default encoder, subset ``upper_body_hands``, joint +
bone streams, 32 frames, the default augmentation, AdamW lr 0.003 (1
warm-up epoch, cosine), batch 16, label smoothing 0.1; source runs 30 epochs
(the best val epoch is kept), target runs ``max(30, 200 optimiser steps)``
epochs (a 1-shot set is one batch an epoch), no target validation split.
Torch on one thread.

Methods on the target, for each k:

* ``scratch``: trained on the k-shot set alone;
* ``finetune``: initialised from the WLASL20 encoder, everything trained;
* ``frozen``: the WLASL20 encoder frozen, a new head trained;
* ``probe_lr`` / ``probe_knn``: scikit-learn logistic regression / cosine
  1-NN on the frozen encoder's pooled features (the standard probe);
* ``label_map``: the WLASL20 model unchanged, each of its classes mapped to
  the Bhutanese sign it is most often predicted for on the k-shot set;
* ``cotrain`` (k = 10): one model, one encoder, a head per language, trained
  on mixed batches of WLASL20's training set and the 10-shot set.

VSSigns: ``slr-pose vssign suggest`` on the WLASL20 run's val confusions
groups the pairs it confuses; a second WLASL20 encoder is trained on the
grouped labels (``data.groups``), and both encoders are compared as
few-shot probes and fine-tuned on Bhutanese: does grouping make an encoder
that transfers better (what Logos measures)?

Usage: python benchmarks/logos.py [--seeds 0 1] [--work DIR] [--wlasl-store STORE]
       (with several seeds, one process per seed may run side by side; a last run with all seeds writes the report)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedShuffleSplit

from slr_pose.evaluation.fewshot import label_mapping_baseline, probe_baseline
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.store.derive import derive_store
from slr_pose.models import DEFAULT_MODEL
from slr_pose.training.config import apply_overrides, config_from_dict
from slr_pose.training.splits import k_shot
from slr_pose.training.trainer import train

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
BHUTAN = DATA / "bhutanese_sl16" / "bhutanese_sl16_258.npz"
WLASL = DATA / "wlasl20_rgb"
RESULTS = REPO / "benchmarks" / "results"
TARGET = "bhutanese"  # language tag of the target's head
SHOTS = (1, 3, 5, 10)
COTRAIN_SHOTS = 10
TEST_FRACTION = 0.25
STEPS = 200  # optimiser steps at least, for the small target sets
EPOCHS = 30
BATCH = 16
LENGTH = 32
VSSIGN_THRESHOLD = 0.1


def slr(*args) -> str:
    r = subprocess.run([sys.executable, "-m", "slr_pose", *map(str, args)], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"slr-pose {' '.join(map(str, args))} failed: {r.stderr.strip().splitlines()[-1:]}")
    return r.stdout


# --------------------------------------------------------------------------- stores


def source_store(work: Path, given: Path | None) -> Path:
    """WLASL20 landmarks: the given store, or ``slr-pose extract`` on the manifest (about 20 minutes here)."""
    if given is not None:
        return given
    out = work / "wlasl20.h5"
    if not out.exists():
        slr("extract", WLASL / "manifest.csv", "-o", out)
    return out


def target_store(work: Path) -> Path:
    out = work / "bhutanese.h5"
    if not out.exists():
        slr("import", "numpy", BHUTAN, "--spec", "258", "--zero-is-missing", "--face", "none", "--language", TARGET,
            "-o", out)
    return out


def split_store(src: Path, out: Path, seed: int, k: int) -> Path:
    """A copy of the target store: the seed's test set, k training sequences per sign, nothing else."""
    labels = PoseStore(src).column("label").astype(str)
    pool, test = next(StratifiedShuffleSplit(1, test_size=TEST_FRACTION, random_state=seed).split(labels, labels))
    split = {**{int(i): "test" for i in test}, **{int(i): "train" for i in k_shot(np.sort(pool), labels[np.sort(pool)].tolist(), k, seed)}}

    def keep(i, s):
        return dataclasses.replace(s, info=dataclasses.replace(s.info, split=split[i])) if i in split else None

    settings = {"test_fraction": TEST_FRACTION, "shots": k, "seed": seed, "splitter": "StratifiedShuffleSplit + k_shot"}
    return derive_store(src, out, "few-shot split", settings, keep, reuse=True)


# --------------------------------------------------------------------------- runs


def recipe(stores: list[Path], seed: int, epochs: int, *, init: str = "", freeze: bool = False, groups: str = "",
           overrides: list[str] = ()):
    """The one recipe of every run here (``overrides``: dotted ``key=value`` changes, as ``train --set``)."""
    return config_from_dict(apply_overrides({
        "task": "islr",
        "data": {"stores": [str(p) for p in stores], "split": {"mode": "column"}, "groups": groups,
                 "preprocess": {"subset": "upper_body_hands", "length": LENGTH, "streams": ["joint", "bone"]}},
        "model": {"init": init, "freeze_encoder": freeze},
        "train": {"epochs": epochs, "batch_size": BATCH, "lr": 0.003, "warmup_epochs": 1, "seed": seed,
                  "device": "cpu"},
    }, list(overrides)))  # fmt: skip


def target_epochs(k: int, classes: int = 16) -> int:
    return max(EPOCHS, math.ceil(STEPS / math.ceil(k * classes / BATCH)))


def cached(work: Path, name: str, fn) -> dict:
    path = work / "results" / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    t0 = time.perf_counter()
    row = {"name": name, **fn(), "seconds": time.perf_counter() - t0}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row, indent=1))
    print(f"{name:34s} top-1 {100 * row['top1']:5.1f}% over {row['samples']} in {row['seconds']:.0f} s", flush=True)
    return row


def trained(cfg, run_dir: Path, language: str) -> dict:
    result = train(cfg, run_dir, progress=False, log=lambda *_: None)
    m = result.test["languages"][language]
    return {"top1": m["top1"], "samples": m["samples"]}


def source_run(work: Path, wlasl: Path, seed: int) -> tuple[Path, dict]:
    """The WLASL20 source run of ``seed`` (trained when missing): its folder and its result."""
    src = work / "runs" / f"wlasl-s{seed}"
    return src, cached(work, src.name, lambda: trained(recipe([wlasl], seed, EPOCHS), src, "ase"))


def scratch_run(work: Path, store: Path, seed: int, k: int) -> tuple[Path, dict]:
    """The k-shot Bhutanese run from scratch on ``store`` (trained when missing): its folder and its result."""
    run = work / "runs" / f"bhu-s{seed}-k{k}-scratch"
    return run, cached(work, run.name, lambda: trained(recipe([store], seed, target_epochs(k)), run, TARGET))


def experiments(work: Path, wlasl: Path, seed: int) -> list[dict]:
    runs, rows = work / "runs", []
    runs.mkdir(exist_ok=True)
    target = target_store(work)
    src, result = source_run(work, wlasl, seed)
    rows.append({"seed": seed, "shots": 0, "method": "source", "encoder": "wlasl", **result})
    groups = work / f"vssigns-s{seed}.csv"
    if not groups.exists():
        slr("vssign", "suggest", src, wlasl, "--split", "val", "--threshold", VSSIGN_THRESHOLD, "-o", groups)
    grouped = runs / f"wlasl-grouped-s{seed}"
    rows.append({"seed": seed, "shots": 0, "method": "source", "encoder": "wlasl-grouped",
                 **cached(work, grouped.name, lambda: trained(recipe([wlasl], seed, EPOCHS, groups=str(groups)),
                                                              grouped, "ase"))})  # fmt: skip
    encoders = {"wlasl": src, "wlasl-grouped": grouped}
    for k in SHOTS:
        store = split_store(target, work / f"bhu-s{seed}-k{k}.h5", seed, k)
        epochs = target_epochs(k)
        base = recipe([store], seed, epochs)

        def add(method: str, encoder: str | None, fn, k=k):
            name = f"bhu-s{seed}-k{k}-{method}" + (f"-{encoder}" if encoder else "")
            rows.append({"seed": seed, "shots": k, "method": method, "encoder": encoder, **cached(work, name, fn)})

        rows.append({"seed": seed, "shots": k, "method": "scratch", "encoder": None,
                     **scratch_run(work, store, seed, k)[1]})
        for enc, path in encoders.items():
            for kind in ("lr", "knn"):
                add(f"probe_{kind}", enc, lambda path=path, kind=kind: probe_baseline(path, base, kind))
            add("finetune", enc, lambda enc=enc, path=path: trained(recipe([store], seed, epochs, init=str(path)),
                                                                    runs / f"bhu-s{seed}-k{k}-finetune-{enc}", TARGET))
        add("frozen", "wlasl", lambda: trained(recipe([store], seed, epochs, init=str(src), freeze=True),
                                               runs / f"bhu-s{seed}-k{k}-frozen-wlasl", TARGET))
        add("label_map", "wlasl", lambda: label_mapping_baseline(src, base))
        if k == COTRAIN_SHOTS:
            add("cotrain", None, lambda: trained(recipe([wlasl, store], seed, EPOCHS),
                                                 runs / f"bhu-s{seed}-k{k}-cotrain", TARGET))
    return rows


# --------------------------------------------------------------------------- report


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    m = 100 * statistics.mean(values)
    return f"{m:.1f} ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else f"{m:.1f}"


def pick(rows, **where) -> list[float]:
    return [r["top1"] for r in sorted(rows, key=lambda r: r["seed"]) if all(r.get(k) == v for k, v in where.items())]


def difference(rows, a: dict, b: dict) -> str:
    """Mean ± std over seeds of method a minus method b, in points, and whether it is beyond noise."""
    va, vb = pick(rows, **a), pick(rows, **b)
    d = [100 * (x - y) for x, y in zip(va, vb)]
    if len(d) < 2:
        return f"{d[0]:+.1f}" if d else "-"
    m, sd = statistics.mean(d), statistics.stdev(d)
    verdict = "beyond the seeds' spread" if abs(m) > 2 * sd and abs(m) > 100 / 400 else "within noise"
    return f"{m:+.1f} ± {sd:.1f} ({verdict})"


def report(rows: list[dict], seeds: list[int], groups: dict, machine: dict) -> str:
    src = {e: pick(rows, method="source", encoder=e) for e in ("wlasl", "wlasl-grouped")}
    lines = [
        "## The Logos claims on real data (transfer WLASL20 -> Bhutanese SL16)",
        "",
        f"Run {machine['date']} by `benchmarks/logos.py --seeds {' '.join(map(str, seeds))}` on {machine['platform']},",
        f"{machine['cores']} cores shared with other work (one process per seed side by side; load average when",
        f"the report was written {machine['load']}), torch {torch.__version__} on one thread per process;",
        f"{machine['minutes']:.0f} minutes of runs in all. Seeds {', '.join(map(str, seeds))};",
        "mean ± sample std over seeds. Source: WLASL20 landmarks (MediaPipe Holistic from the 408 real videos,",
        "official split). Target: Bhutanese SL16 (16 signs incl. `idle`, no signer ids, so the test set is a",
        "stratified 25% holdout, `StratifiedShuffleSplit`, not signer-independent): 400 test sequences per seed, the",
        f"same for every method of that seed; k training sequences per sign from the other 1,200. Encoder `{DEFAULT_MODEL}`",
        "(joint + bone, upper_body_hands, 32 frames), one recipe for every run (see the script's docstring).",
        "",
        f"Source accuracy on WLASL20's 51 test videos: {ms(src['wlasl'])}% (20 glosses; the grouped encoder,",
        f"scored on its groups: {ms(src['wlasl-grouped'])}%).",
        "",
        "### Few-shot: k sequences per sign (top-1 % on the 400 test sequences; chance 6.3)",
        "",
        "| k | scratch | WLASL20 encoder: LR probe | 1-NN probe | frozen + new head | fine-tuned | label mapping |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in SHOTS:
        lines.append(f"| {k} | {ms(pick(rows, shots=k, method='scratch'))} | "
                     f"{ms(pick(rows, shots=k, method='probe_lr', encoder='wlasl'))} | "
                     f"{ms(pick(rows, shots=k, method='probe_knn', encoder='wlasl'))} | "
                     f"{ms(pick(rows, shots=k, method='frozen', encoder='wlasl'))} | "
                     f"{ms(pick(rows, shots=k, method='finetune', encoder='wlasl'))} | "
                     f"{ms(pick(rows, shots=k, method='label_map', encoder='wlasl'))} |")
    lines += ["", "Fine-tuned minus scratch, points: " + "; ".join(
        f"k={k} {difference(rows, dict(shots=k, method='finetune', encoder='wlasl'), dict(shots=k, method='scratch'))}"
        for k in SHOTS) + "."]
    k = COTRAIN_SHOTS
    lines += [
        "",
        f"### Co-training against the alternatives ({k} sequences per Bhutanese sign)",
        "",
        "The same 400 test sequences per seed. Co-training: one model, a head per language, trained on",
        f"mixed batches of WLASL20's 288 training videos and the {k * 16} Bhutanese ones for {EPOCHS} epochs (its",
        "Bhutanese accuracy is scored with the Bhutanese head; its checkpoint is the best on WLASL20's val split,",
        "the only val split it has, while the single-language target runs keep their last epoch).",
        "",
        "| method | top-1 % | minus scratch (points) |",
        "|---|---:|---|",
    ]
    for label, where in (("training alone (scratch)", dict(method="scratch")),
                         ("label mapping of the WLASL20 model", dict(method="label_map", encoder="wlasl")),
                         ("frozen encoder + LR probe", dict(method="probe_lr", encoder="wlasl")),
                         ("frozen encoder + new head", dict(method="frozen", encoder="wlasl")),
                         ("pre-train + fine-tune", dict(method="finetune", encoder="wlasl")),
                         ("co-training, one head per language", dict(method="cotrain"))):
        lines.append(f"| {label} | {ms(pick(rows, shots=k, **where))} | "
                     f"{difference(rows, dict(shots=k, **where), dict(shots=k, method='scratch')) if where['method'] != 'scratch' else ''} |")
    lines += [
        "",
        "### VSSigns: does a grouped source encoder transfer better?",
        "",
        f"`slr-pose vssign suggest` on each WLASL20 run's val confusions (threshold {VSSIGN_THRESHOLD}) gave "
        + "; ".join(f"seed {s}: {g}" for s, g in groups.items()) + ".",
        "",
        "| k | LR probe: ungrouped | grouped | 1-NN probe: ungrouped | grouped | fine-tuned: ungrouped | grouped |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in SHOTS:
        cells = [ms(pick(rows, shots=k, method=m, encoder=e)) for m in ("probe_lr", "probe_knn", "finetune")
                 for e in ("wlasl", "wlasl-grouped")]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines += ["", "Grouped minus ungrouped, LR probe, points: " + "; ".join(
        f"k={k} {difference(rows, dict(shots=k, method='probe_lr', encoder='wlasl-grouped'), dict(shots=k, method='probe_lr', encoder='wlasl'))}"
        for k in SHOTS) + ".", ""]
    lines += boundary_claim()
    lines += [
        "Reading: an effect is called beyond noise only when its mean over seeds exceeds twice the seeds' spread",
        f"(and one test sequence, 0.25 points); with {len(seeds)} seeds that is a weak test, so the per-method "
        "spreads are shown beside every mean. The per-run numbers are in `logos.json`.",
        "",
    ]
    return "\n".join(lines)


def boundary_claim() -> list[str]:
    """The boundary-head claim, from ``boston104.py``'s results (Boston104 words with random real context)."""
    path = RESULTS / "boston104.json"
    words = json.loads(path.read_text(encoding="utf-8")).get("words", {}) if path.exists() else {}
    plain, head = words.get("rc", []), words.get("rc_boundary", [])
    if not plain or not head:
        return ["### Boundary head", "", "Not measured yet: run `benchmarks/boston104.py`.", ""]
    errs = [r["boundary_error"] for r in head]

    def err(side: str) -> str:
        v = [e[side]["mean"] for e in errs]
        return f"{statistics.mean(v):.2f}" + (f" ± {statistics.stdev(v):.2f}" if len(v) > 1 else "")

    rows = [dict(seed=p["seed"], method="plain", top1=p["eval"]["top1"]) for p in plain] + \
           [dict(seed=h["seed"], method="head", top1=h["eval"]["top1"]) for h in head]
    return [
        "### Boundary head (Boston104 words with real context)",
        "",
        "From `benchmarks/boston104.py` (`boston104.md`, its boundary section): the 888 Boston104 words cut from",
        "their sentences with a random 0-16 frames of the real sentence either side, standard split (177 scoreable",
        f"test words), seeds {', '.join(str(p['seed']) for p in plain)}; the same recipe with and without",
        "`model.boundary: true`.",
        "",
        "| | top-1 % | boundary error, frames (mean of start and end) |",
        "|---|---:|---:|",
        f"| without the head | {ms([p['eval']['top1'] for p in plain])} | {err('baseline')} (the training words' mean span) |",
        f"| with the head | {ms([h['eval']['top1'] for h in head])} | {err('head')} |",
        "",
        f"With minus without, top-1: {difference(rows, dict(method='head'), dict(method='plain'))} points. In",
        "spotting (`spotting.md`) the head halves the start error of spotted signs at the same F1.",
        "",
    ]


def group_summary(path: Path) -> str:
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    by_group: dict[str, list[str]] = {}
    for r in rows:
        if len(r) >= 3:
            by_group.setdefault(r[2], []).append(r[1])
    merged = [g for g in by_group.values() if len(g) > 1]
    return (", ".join("{" + " ".join(sorted(g)) + "}" for g in merged) if merged else "no group (nothing confused enough)")


def with_section(text: str, section: str, owner: str = "logos.py") -> str:
    """``text`` with the section ``owner`` writes (between its markers) replaced by ``section``, or appended."""
    start, end = f"<!-- {owner}: start -->", f"<!-- {owner}: end -->"
    block = f"{start}\n{section}\n{end}\n"
    if start in text:
        return text[: text.index(start)] + block + text[text.index(end) + len(end) + 1:]
    return text.rstrip() + "\n\n" + block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--work", type=Path, default=Path("/tmp/slr-pose-logos"))
    parser.add_argument("--wlasl-store", type=Path, default=None, help="WLASL20 landmarks already extracted")
    parser.add_argument("--no-report", action="store_true", help="run the experiments only (one process per seed)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.work.mkdir(parents=True, exist_ok=True)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    wlasl = source_store(args.work, args.wlasl_store)
    rows = [r for seed in args.seeds for r in experiments(args.work, wlasl, seed)]
    if args.no_report:
        return
    machine = {"date": datetime.date.today().isoformat(), "platform": platform.platform(), "cores": os.cpu_count(),
               "load": f"{load0:.1f} before, {os.getloadavg()[0]:.1f} after",
               "minutes": sum(r["seconds"] for r in rows) / 60}  # fmt: skip
    groups = {s: group_summary(args.work / f"vssigns-s{s}.csv") for s in args.seeds}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "logos.json").write_text(json.dumps({"machine": machine, "groups": groups, "rows": rows,
                                                    "wall_s": time.perf_counter() - t0}, indent=1) + "\n")
    islr = RESULTS / "islr.md"
    islr.write_text(with_section(islr.read_text(encoding="utf-8"), report(rows, args.seeds, groups, machine)),
                    encoding="utf-8")
    print(report(rows, args.seeds, groups, machine))


if __name__ == "__main__":
    main()
