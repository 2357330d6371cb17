"""Isolated-sign accuracy on real landmarks, through the toolkit's own trainer.

Every number comes from :func:`slr_pose.training.trainer.train` with a
:class:`~slr_pose.training.config.Config`, as ``slr-pose train`` runs it
(default encoder, AdamW, cosine schedule, label smoothing, augmentation),
on stores made by the toolkit's importers:

(a) Kaggle asl-signs ("ase"): the 42 real sequences (21 signers, hello and
    thankyou). Signer-independent: the signers are shuffled with the seed and
    cut into 3 folds; each fold is the test set once, the other signers train.
    Per seed, the 3 folds test every sequence exactly once.
(b) MSL-150 ("mfs"): the 86 bundled sequences (5 signs) of ONE signer, so no
    split can be signer-independent: a random split stratified by sign,
    30% of each sign's sequences for testing, drawn with the seed.
(c) Co-training: one model, one encoder, a head per language, trained on
    mixed batches of (a)'s and (b)'s training sequences, against each
    language alone: same seeds, same splits, same epochs and schedule.

There is no validation split (the data are too few): the model after the
last epoch is scored. Splits are written into copies of the stores (the
``split`` column, made with :func:`slr_pose.training.splits.assign_splits`),
so the co-trained model and the single-language ones see identical splits.

Usage: python benchmarks/islr.py [--seeds 0,1,2] [--epochs 30] [--out benchmarks/results/islr.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from slr_pose.keypoints.importers import import_samples
from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates, array_provenance
from slr_pose.keypoints.importers.kaggle import kaggle_candidates, kaggle_provenance
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.store.derive import derive_store
from slr_pose.models import DEFAULT_MODEL
from slr_pose.training.config import SplitConfig, config_from_dict
from slr_pose.training.splits import assign_splits
from slr_pose.training.trainer import train

REPO = Path(__file__).resolve().parent.parent
MSL = REPO / "data" / "msl150" / "keypoints_sample.npz"
KAGGLE = REPO.parent / "shared" / "data" / "gislr_asl_signs" / "parquet"
FOLDS = 3
MSL_TEST = 0.3
LENGTH = 32
BATCH = 16


def import_stores(folder: Path) -> dict[str, Path]:
    """The real sequences as pose stores, with the toolkit's importers (as ``slr-pose import``)."""
    layout = holistic_layout("contour")
    msl, asl = folder / "msl150.h5", folder / "asl-signs.h5"
    spec = ColumnSpec.parse("msl150")
    import_samples(msl, layout, array_provenance(spec, layout, ArrayOptions(trim=True)),
                   array_candidates([MSL], spec, layout, options=ArrayOptions(trim=True), language="mfs"))
    import_samples(asl, layout, kaggle_provenance(layout),
                   kaggle_candidates(KAGGLE, layout, language="ase"))
    return {"mfs": msl, "ase": asl}


def with_splits(src: Path, out: Path, split: SplitConfig) -> Path:
    """A copy of ``src`` whose split column is ``split`` applied to it."""
    store = PoseStore(src)
    strata = [f"{lang}/{label}" for lang, label in zip(store.column("language"), store.column("label"))]
    splits = assign_splits(store.column("split").tolist(), store.column("signer").tolist(), strata, split)
    return derive_store(src, out, "split", asdict(split),
                        lambda i, s: replace(s, info=replace(s.info, split=str(splits[i]))), reuse=True)


def config(stores: list[Path], seed: int, epochs: int):
    return config_from_dict({
        "task": "islr",
        "data": {"stores": [str(p) for p in stores], "split": {"mode": "column"},
                 "preprocess": {"subset": "upper_body_hands", "length": LENGTH, "streams": ["joint", "bone"]}},
        "augment": {"rotation": 15, "scale": 0.15, "hand_dropout": 0.1},
        "train": {"epochs": epochs, "batch_size": BATCH, "lr": 0.003, "warmup_epochs": 1, "seed": seed,
                  "device": "cpu"},
    })


def run_one(name: str, stores: list[Path], seed: int, epochs: int, folder: Path) -> dict:
    start = time.perf_counter()
    result = train(config(stores, seed, epochs), folder / name, progress=False, log=lambda *_: None)
    seconds = time.perf_counter() - start
    langs = result.test["languages"]
    row = {"name": name, "seed": seed, "seconds": seconds,
           "samples_per_s": statistics.median(r["samples_per_s"] for r in result.history),
           **{lang: {"correct": round(m["top1"] * m["samples"]), "samples": m["samples"],
                     "per_class": m["per_class_top1"]} for lang, m in langs.items()}}
    print(f"{name:24s} {seconds:6.1f} s  " + "  ".join(f"{k} {v['correct']}/{v['samples']}" for k, v in row.items()
                                                       if isinstance(v, dict)), flush=True)
    return row


def experiments(seeds: list[int], epochs: int, folder: Path) -> list[dict]:
    stores = import_stores(folder)
    rows = []
    for seed in seeds:
        msl = with_splits(stores["mfs"], folder / f"mfs-s{seed}.h5",
                          SplitConfig(mode="random", val_fraction=0, test_fraction=MSL_TEST, seed=seed))
        rows.append({"setting": "alone", "fold": -1, **run_one(f"mfs-s{seed}", [msl], seed, epochs, folder)})
        for fold in range(FOLDS):
            asl = with_splits(stores["ase"], folder / f"ase-s{seed}-f{fold}.h5",
                              SplitConfig(mode="signer", val_fraction=0, folds=FOLDS, fold=fold, seed=seed))
            rows.append({"setting": "alone", "fold": fold,
                         **run_one(f"ase-s{seed}-f{fold}", [asl], seed, epochs, folder)})
            rows.append({"setting": "co", "fold": fold,
                         **run_one(f"co-s{seed}-f{fold}", [msl, asl], seed, epochs, folder)})
    return rows


def pooled(rows: list[dict], setting: str, lang: str, seed: int) -> float:
    """Accuracy over every test sample of one seed's runs (for ase: the 3 folds, i.e. all 42 sequences once)."""
    sel = [r[lang] for r in rows if r["setting"] == setting and r["seed"] == seed and lang in r]
    return sum(m["correct"] for m in sel) / sum(m["samples"] for m in sel)


def mean_std(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.1f} +- {100 * sd:.1f}"


def kept_sections(path: Path) -> str:
    """The sections other scripts own in ``path`` (``logos.py``, ``recipe.py``: between their markers), kept on rewrite."""
    if not path.exists():
        return ""
    text, out = path.read_text(encoding="utf-8"), []
    for name in ("recipe.py", "logos.py"):
        start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
        if start in text and end in text:
            out.append(text[text.index(start): text.index(end) + len(end)] + "\n")
    return "".join("\n" + block for block in out)


def write(rows: list[dict], seeds: list[int], epochs: int, out: Path, machine: dict) -> None:
    def per_seed(setting: str, lang: str) -> list[float]:
        return [pooled(rows, setting, lang, s) for s in seeds]

    def cells(values: list[float]) -> str:
        return f"{mean_std(values)} | " + ", ".join(f"{100 * v:.1f}" for v in values)

    first = [r for r in rows if r["setting"] == "alone" and r["seed"] == seeds[0]]
    n_test = {lang: sum(r[lang]["samples"] for r in first if lang in r) for lang in ("ase", "mfs")}
    seconds = {k: statistics.mean(r["seconds"] for r in rows if r["name"].startswith(k)) for k in ("ase", "mfs", "co")}
    speed = statistics.median(r["samples_per_s"] for r in rows)
    lines = [
        "# Isolated signs: accuracy on real landmarks",
        "",
        f"Run {machine['date']}; `python benchmarks/islr.py --seeds {','.join(map(str, seeds))} --epochs {epochs}`; "
        f"{machine['cpu']}, {machine['cores']} cores shared with other work (load average {machine['load_before']} "
        f"before, {machine['load_after']} after), no GPU used; torch {machine['torch']} on 1 thread; "
        f"{machine['minutes']:.1f} minutes in all.",
        "",
        f"Every run is `slr_pose.training.trainer.train` with a config: encoder `{DEFAULT_MODEL}` (the default), "
        f"subset upper_body_hands (57 nodes), joint + bone streams, {LENGTH} frames, augmentation "
        f"(rotation 15, scale 0.15, hand dropout 0.1), AdamW lr 0.003 with 1 warm-up epoch and cosine decay, "
        f"batch {BATCH}, label smoothing 0.1, {epochs} epochs, no validation split (the last epoch is scored). "
        f"Seeds {', '.join(map(str, seeds))} ({len(seeds)} seeds): each seed draws the split and the training "
        f"randomness. Mean +- sample standard deviation over the seeds; the per-seed values follow.",
        "",
        "## Accuracy (top-1 on held-out sequences)",
        "",
        "| data | split | test sequences per seed | chance | top-1 % (mean +- std) | per seed |",
        "|---|---|---:|---:|---:|---|",
        f"| (a) asl-signs, 2 signs, 21 signers | signer-independent, {FOLDS} signer folds | {n_test['ase']} "
        f"(every sequence once) | 50.0 | {cells(per_seed('alone', 'ase'))} |",
        f"| (b) MSL-150, 5 signs, 1 signer | random by sign, {int(100 * MSL_TEST)}% test (NOT signer-independent) "
        f"| {n_test['mfs']} | 20.0 | {cells(per_seed('alone', 'mfs'))} |",
        "",
        "## (c) Two sign languages in one model (two heads) vs each alone",
        "",
        f"Same seeds, same splits, same {epochs} epochs and schedule. The co-trained model is trained once per "
        f"asl-signs fold, so its MSL-150 accuracy is pooled over {FOLDS} runs per seed (each on the same MSL-150 "
        "split as the MSL-150-only run of that seed). An epoch of co-training holds both languages' training "
        "sequences, so it takes more optimiser steps than either language alone.",
        "",
        "| language | alone: top-1 % | per seed | co-trained: top-1 % | per seed | co - alone per seed (points) |",
        "|---|---:|---|---:|---|---|",
    ]
    for lang, label in (("ase", "asl-signs (signer-independent)"), ("mfs", "MSL-150 (one signer)")):
        alone, co = per_seed("alone", lang), per_seed("co", lang)
        diff = ", ".join(f"{100 * (c - a):+.1f}" for a, c in zip(alone, co))
        lines.append(f"| {label} | {cells(alone)} | {cells(co)} | {diff} |")
    gain = {lang: statistics.mean(per_seed("co", lang)) - statistics.mean(per_seed("alone", lang))
            for lang in ("ase", "mfs")}
    lines += [
        "",
        f"Co-training minus alone, mean over seeds: asl-signs {100 * gain['ase']:+.1f} points "
        f"(one test sequence is {100 / n_test['ase']:.1f}), MSL-150 {100 * gain['mfs']:+.1f} points "
        f"(one is {100 / n_test['mfs']:.1f} alone, {100 / (FOLDS * n_test['mfs']):.1f} pooled). "
        "A language already near 100% alone has no room to show a gain.",
        "",
        "## Cost",
        "",
        f"Seconds per run (mean): asl-signs alone {seconds['ase']:.0f}, MSL-150 alone {seconds['mfs']:.0f}, "
        f"co-trained {seconds['co']:.0f}; median training throughput {speed:.0f} samples/s on 1 thread at {LENGTH} "
        "frames (including the on-the-fly preprocessing and augmentation).",
        "",
        "## Reading the numbers",
        "",
        f"- The test sets are tiny ({n_test['ase']} and {n_test['mfs']} sequences per seed): one sequence is "
        f"{100 / n_test['ase']:.1f} and {100 / n_test['mfs']:.1f} points. Differences smaller than the spread "
        "across seeds say nothing.",
        "- MSL-150 has one signer: its accuracy measures recognising new repetitions by a person the model has "
        "seen, not new signers.",
        "- The per-run results (correct / test samples per language, seconds) are in the .json file beside this one.",
    ]
    out.write_text("\n".join(lines) + "\n" + kept_sections(out))
    out.with_suffix(".json").write_text(json.dumps({"machine": machine, "seeds": seeds, "epochs": epochs, "runs": rows},
                                                   indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (at least 3 for a spread)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "islr.md")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if not KAGGLE.is_dir():
        raise SystemExit(f"the Kaggle asl-signs sequences are not at {KAGGLE}")
    torch.set_num_threads(1)  # on a shared 2-core machine two threads per process are several times slower
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = experiments(seeds, args.epochs, Path(tmp))
    machine = {
        "date": datetime.date.today().isoformat(), "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(), "torch": torch.__version__, "load_before": load_before,
        "load_after": " / ".join(f"{x:.1f}" for x in os.getloadavg()), "minutes": (time.perf_counter() - start) / 60,
    }
    write(rows, seeds, args.epochs, args.out, machine)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
