"""Which training choices help small real ISLR sets: one-change ablations of the default recipe, with seeds.

Each variant is the default recipe with one change, on three real sets that
are not saturated, with the same splits and seeds as its baseline:

* **Boston104 words** (``benchmarks/boston104.py``'s isolated-word task,
  context 0): 710 training words, 112 glosses, the 177 scoreable test words
  of the standard split (3 signers; signers overlap);
* **WLASL20** (``benchmarks/logos.py``'s source): 288 training videos of 20
  glosses by many signers, official split, 51 test videos (best val epoch);
* **Bhutanese SL16, 3 per sign** (``logos.py``'s 3-shot set): 48 training
  recordings, 400 test recordings.

Variants: ``mirror 0.5`` (flip the signer left-right with the hands swapped,
half the time), ``mixup 0.2``, ``2x epochs`` (the schedule twice as long) and
``no augmentation`` (whether the default's augmentation earns its place).
A change goes into the default only when it helps on every set by more than
twice the seeds' spread; everything else stays out, and the tables say so.
Torch on one thread.

Usage: python benchmarks/recipe.py [--seeds 0 1] (after boston104.py and logos.py; one process per seed may
       run side by side with --no-report, then a last run with all seeds writes the section of islr.md)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import boston104  # noqa: E402 - the Boston104 word runs
import logos  # noqa: E402 - the WLASL20 and Bhutanese runs

VARIANTS = {
    "mirror 0.5": ["augment.mirror=0.5"],
    "mixup 0.2": ["train.mixup=0.2"],
    "2x epochs": ["train.epochs={2x}"],
    "no augmentation": ["train.augment=false"],
}
SETS = ("Boston104 words", "WLASL20", "Bhutanese 3-shot")


def changes(variant: str, epochs: int) -> list[str]:
    return [c.replace("{2x}", str(2 * epochs)) for c in VARIANTS[variant]]


def boston(work: Path, seed: int, variant: str | None) -> dict:
    store = work / "words0-seen.h5"
    name = f"words-c0-s{seed}" if variant is None else f"recipe-{slug(variant)}-s{seed}"
    epochs = 30
    extra = [] if variant is None else changes(variant, epochs)
    r = boston104.run_one(work, name, store, seed, boston104.WORDS + extra)
    return {"top1": r["eval"]["top1"], "samples": r["eval"]["samples"], "seconds": r["train_s"]}


def wlasl(work: Path, store: Path, seed: int, variant: str | None) -> dict:
    if variant is None:
        return json.loads((work / "results" / f"wlasl-s{seed}.json").read_text())
    name = f"recipe-wlasl-{slug(variant)}-s{seed}"
    cfg = logos.recipe([store], seed, logos.EPOCHS, overrides=changes(variant, logos.EPOCHS))
    return logos.cached(work, name, lambda: logos.trained(cfg, work / "runs" / name, "ase"))


def bhutanese(work: Path, seed: int, variant: str | None) -> dict:
    if variant is None:
        return json.loads((work / "results" / f"bhu-s{seed}-k3-scratch.json").read_text())
    name = f"recipe-bhu3-{slug(variant)}-s{seed}"
    epochs = logos.target_epochs(3)
    cfg = logos.recipe([work / f"bhu-s{seed}-k3.h5"], seed, epochs, overrides=changes(variant, epochs))
    return logos.cached(work, name, lambda: logos.trained(cfg, work / "runs" / name, logos.TARGET))


def slug(variant: str) -> str:
    return variant.replace(" ", "-").replace(".", "")


def table(rows: list[dict], seeds: list[int]) -> tuple[list[str], dict]:
    def vals(data: str, variant) -> list[float]:
        return [r["top1"] for s in seeds for r in rows if r["set"] == data and r["variant"] == variant and r["seed"] == s]

    lines = ["| variant | " + " | ".join(f"{d}: top-1 % | minus default (points)" for d in SETS) + " |",
             "|---|" + "---:|---|" * len(SETS)]
    verdicts = {}
    for variant in [None, *VARIANTS]:
        cells, helps = [], []
        for d in SETS:
            v = vals(d, variant)
            base = vals(d, None)
            mean = f"{100 * statistics.mean(v):.1f} ± {100 * statistics.stdev(v):.1f}" if len(v) > 1 else (
                f"{100 * v[0]:.1f}" if v else "-")
            if variant is None or len(v) != len(base) or not v:
                cells += [mean, ""]
                continue
            diff = [100 * (a - b) for a, b in zip(v, base)]
            m = statistics.mean(diff)
            sd = statistics.stdev(diff) if len(diff) > 1 else float("inf")
            helps.append(m > 2 * sd)
            cells += [mean, f"{m:+.1f} ± {sd:.1f}" + (" (beyond noise)" if abs(m) > 2 * sd else "")]
        if variant is not None:
            verdicts[variant] = bool(helps) and all(helps)
        lines.append(f"| {variant or 'default recipe'} | " + " | ".join(cells) + " |")
    return lines, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--boston-work", type=Path, default=Path("/tmp/slr-pose-boston104-bench"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/slr-pose-logos"))
    parser.add_argument("--wlasl-store", type=Path, default=None)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    store = logos.source_store(args.work, args.wlasl_store)
    rows = []
    for seed in args.seeds:
        for variant in [None, *VARIANTS]:
            for data, fn in zip(SETS, (lambda: boston(args.boston_work, seed, variant),
                                       lambda: wlasl(args.work, store, seed, variant),
                                       lambda: bhutanese(args.work, seed, variant))):
                r = fn()
                rows.append({"set": data, "variant": variant, "seed": seed, "top1": r["top1"],
                             "samples": r["samples"], "seconds": r.get("seconds", 0.0)})
                print(f"{data:18s} {variant or 'default':16s} seed {seed}: {100 * r['top1']:.1f}%", flush=True)
    if args.no_report:
        return
    lines, verdicts = table(rows, args.seeds)
    adopted = [v for v, ok in verdicts.items() if ok]
    section = [
        "## The default recipe: one-change ablations on three real sets",
        "",
        f"Run {datetime.date.today().isoformat()} by `benchmarks/recipe.py --seeds {' '.join(map(str, args.seeds))}` "
        f"on {platform.platform()}, {os.cpu_count()} cores shared with other work (load average {load0:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after), torch {torch.__version__} on one thread per process. Seeds "
        f"{', '.join(map(str, args.seeds))}; mean ± sample std over seeds; differences are per seed against the "
        "default run of the same seed and split. Sets, splits and the recipe: see the script's docstring; the "
        "default rows are `boston104.py`'s and `logos.py`'s own runs.",
        "",
        *lines,
        "",
        ("Adopted into the default: " + ", ".join(adopted) + "." if adopted else
         "Adopted into the default: nothing. No change helps on every set beyond twice the seeds' spread, so the "
         "default recipe stays as it is."),
        "",
    ]
    islr = logos.RESULTS / "islr.md"
    text = islr.read_text(encoding="utf-8")
    islr.write_text(logos.with_section(text, "\n".join(section), "recipe.py"), encoding="utf-8")
    (logos.RESULTS / "recipe.json").write_text(json.dumps({"rows": rows, "verdicts": verdicts,
                                                           "wall_s": time.perf_counter() - t0}, indent=1) + "\n")
    print("\n".join(section))


if __name__ == "__main__":
    main()
