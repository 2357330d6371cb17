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
half the time), ``mixup 0.2``, ``2x epochs`` (the schedule twice as long),
``no augmentation`` (whether the default's augmentation earns its place), and
the regularisers of the Kaggle asl-signs 1st place and its peers
(``slr_pose/training/regularisers.py``): ``EMA 0.99`` (validate and keep a
moving average of the weights), ``class-balanced`` (every class drawn
equally often), ``late dropout 0.5`` (on the pooled features, from half-way),
``AWP 0.05`` (adversarial weight perturbation from half-way), and
test-time mirroring, which trains nothing: ``test-time mirror`` scores the
default runs on each sample averaged with its mirror image, ``mirror 0.5 +
test-time mirror`` the ``mirror 0.5`` runs, which saw mirrored signers in training.
Three rows swap the encoder for a registered one at its registered size: the
library default (``conv_transformer_graph``, which WLASL20 and Bhutanese use
already; Boston104's recipe uses ``conv_transformer_small`` at width 48) and
the two registered encoders that are faster than it on one thread
(``models.md``), to see whether they are as accurate. The ``... only`` rows
train the recipe on one of its input streams (Boston104: joint, bone, joint
motion; the others: joint, bone); fused per seed through ``fuse``'s fusion
they are the stream ensemble of two-stream GCNs, which a table compares with
the default's one model that reads every stream.
A change goes into the default only when it helps on every set by more than
twice the seeds' spread; everything else stays out, and the tables say so.
Torch on one thread.

Usage: python benchmarks/recipe.py [--seeds 0 1] (reuses the stores and default runs of boston104.py and logos.py
       in the same work folders and makes those that are missing; one process per seed may run side by side with
       --no-report, then a last run with all seeds writes the section of islr.md)
"""

from __future__ import annotations

import argparse
import dataclasses
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

from slr_pose.evaluation.fusion import accuracy, align, fused, run_stream  # noqa: E402
from slr_pose.evaluation.islr import score_run  # noqa: E402
from slr_pose.inference.runs import load_run  # noqa: E402
from slr_pose.models import DEFAULT_MODEL  # noqa: E402

VARIANTS = {
    "mirror 0.5": ["augment.mirror=0.5"],
    "mixup 0.2": ["train.mixup=0.2"],
    "2x epochs": ["train.epochs={2x}"],
    "no augmentation": ["train.augment=false"],
    "EMA 0.99": ["train.ema=0.99"],
    "class-balanced": ["train.sampler=balanced"],
    "late dropout 0.5": ["train.late_dropout=0.5"],
    "AWP 0.05": ["train.awp=0.05"],
    # registered encoders at their registered sizes: the library default and the two that are faster than it on one
    # thread (benchmarks/results/models.md); on WLASL20 and Bhutanese the first is the default recipe itself
    **{f"encoder {name}": [f"model.name={name}", "model.kwargs={}"]
       for name in ("conv_transformer_graph", "conv_transformer_small", "pose_transformer_small")},
    # one model per input stream, for the stream ensembles (only the streams of each set's recipe: STREAMS)
    **{f"{stream} only": [f"data.preprocess.streams=[{stream}]"] for stream in ("joint", "bone", "joint_motion")},
}
#: variants that train nothing: the runs of another variant (None: the default), scored with test-time mirroring
TTA = {"test-time mirror": None, "mirror 0.5 + test-time mirror": "mirror 0.5"}
SETS = ("Boston104 words", "WLASL20", "Bhutanese 3-shot")
#: the input streams of each set's recipe (boston104.py's word task: joint, bone, joint motion; logos.py: joint, bone)
STREAMS = {"Boston104 words": ("joint", "bone", "joint_motion"), "WLASL20": ("joint", "bone"),
           "Bhutanese 3-shot": ("joint", "bone")}
ALL = [*VARIANTS, *TTA]


def applies(data: str, variant: str | None) -> bool:
    """Whether a variant is run on a set: every variant is, but a one-stream run only for a stream of its recipe."""
    return variant is None or not variant.endswith(" only") or variant.removesuffix(" only") in STREAMS[data]


def changes(variant: str, epochs: int) -> list[str]:
    return [c.replace("{2x}", str(2 * epochs)) for c in VARIANTS[variant]]


def mirrored(run_dir: Path, store: Path, language: str, reported: dict) -> dict:
    """Test top-1 of a trained run with test-time mirroring, after checking that without it the run scores as it reported."""
    run = load_run(run_dir)
    scores = {tta: score_run(run, store, split="test", tta=tta)[0].summary["languages"][language]
              for tta in ("", "mirror")}
    if abs(scores[""]["top1"] - reported["top1"]) > 1e-9 or scores[""]["samples"] != reported["samples"]:
        raise SystemExit(f"{run_dir} scores {scores['']['top1']} on {store} now, but reported {reported['top1']}")
    return {"top1": scores["mirror"]["top1"], "samples": scores["mirror"]["samples"], "seconds": 0.0}


def boston(work: Path, seed: int, variant: str | None) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    store = boston104.word_store(work, 0)
    if variant in TTA:
        base = TTA[variant]
        return mirrored(work / "runs" / boston_name(seed, base), store, "ase", boston(work, seed, base))
    epochs = 30
    extra = [] if variant is None else changes(variant, epochs)
    r = boston104.run_one(work, boston_name(seed, variant), store, seed, boston104.WORDS + extra)
    return {"top1": r["eval"]["top1"], "samples": r["eval"]["samples"], "seconds": r["train_s"]}


def boston_name(seed: int, variant: str | None) -> str:
    return f"words-c0-s{seed}" if variant is None else f"recipe-{slug(variant)}-s{seed}"


def wlasl(work: Path, store: Path, seed: int, variant: str | None) -> dict:
    if variant is None:  # logos.py's source run, made here when missing
        return logos.source_run(work, store, seed)[1]
    if variant in TTA:
        base = TTA[variant]
        run = logos.source_run(work, store, seed)[0] if base is None else work / "runs" / variant_name("wlasl", seed, base)
        return mirrored(run, store, "ase", wlasl(work, store, seed, base))
    name = variant_name("wlasl", seed, variant)
    cfg = logos.recipe([store], seed, logos.EPOCHS, overrides=changes(variant, logos.EPOCHS))
    if same(cfg, logos.recipe([store], seed, logos.EPOCHS)):  # the change is the default already
        return wlasl(work, store, seed, None)
    return logos.cached(work, name, lambda: logos.trained(cfg, work / "runs" / name, "ase"))


def bhutanese(work: Path, seed: int, variant: str | None) -> dict:
    split = logos.split_store(logos.target_store(work), work / f"bhu-s{seed}-k3.h5", seed, 3)
    if variant is None:  # logos.py's 3-shot run from scratch, made here when missing
        return logos.scratch_run(work, split, seed, 3)[1]
    if variant in TTA:
        base = TTA[variant]
        run = logos.scratch_run(work, split, seed, 3)[0] if base is None else work / "runs" / variant_name("bhu3", seed, base)
        return mirrored(run, split, logos.TARGET, bhutanese(work, seed, base))
    name = variant_name("bhu3", seed, variant)
    epochs = logos.target_epochs(3)
    cfg = logos.recipe([split], seed, epochs, overrides=changes(variant, epochs))
    if same(cfg, logos.recipe([split], seed, epochs)):  # the change is the default already
        return bhutanese(work, seed, None)
    return logos.cached(work, name, lambda: logos.trained(cfg, work / "runs" / name, logos.TARGET))


def same(a, b) -> bool:
    """Whether two configs train the same model (an empty model name is the library default)."""
    def resolved(c):
        return dataclasses.replace(c, model=dataclasses.replace(c.model, name=c.model.name or DEFAULT_MODEL))
    return resolved(a) == resolved(b)


def slug(variant: str) -> str:
    return variant.replace(" ", "-").replace(".", "")


def variant_name(data: str, seed: int, variant: str) -> str:
    """The run (and cached result) of one variant on WLASL20 (``wlasl``) or Bhutanese 3-shot (``bhu3``)."""
    return f"recipe-{data}-{slug(variant)}-s{seed}"


def table(rows: list[dict], seeds: list[int]) -> tuple[list[str], dict]:
    def vals(data: str, variant) -> list[float]:
        return [r["top1"] for s in seeds for r in rows if r["set"] == data and r["variant"] == variant and r["seed"] == s]

    lines = ["| variant | " + " | ".join(f"{d}: top-1 % | minus default (points)" for d in SETS) + " |",
             "|---|" + "---:|---|" * len(SETS)]
    verdicts = {}
    for variant in [None, *ALL]:
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
            verdicts[variant] = len(helps) == len(SETS) and all(helps)  # measured on every set, better on each
        lines.append(f"| {variant or 'default recipe'} | " + " | ".join(cells) + " |")
    return lines, verdicts


def seed_ensemble(runs: list[Path], store: Path) -> dict:
    """Test top-1 of each run and of their equal-weight late fusion (``slr-pose fuse``'s sum of log-probabilities)."""
    ids, split, _, target, stacked = align([run_stream(r, store) for r in runs])
    test = split == "test"
    return {"singles": [accuracy(s[test], target[test]) for s in stacked],
            "fused": accuracy(fused(stacked[:, test], [1.0] * len(runs)), target[test]), "samples": int(test.sum())}


def ensemble_lines(args, store: Path) -> tuple[list[str], dict]:
    """The seed-ensemble table: the default runs of every seed fused, on the sets whose test samples do not depend on the seed."""
    sets = {"Boston104 words": ([args.boston_work / "runs" / boston_name(s, None) for s in args.seeds],
                                boston104.word_store(args.boston_work, 0)),
            "WLASL20": ([logos.source_run(args.work, store, s)[0] for s in args.seeds], store)}
    out = {d: seed_ensemble(runs, st) for d, (runs, st) in sets.items()}
    lines = ["| set | test samples | single runs: top-1 % (per seed) | fused: top-1 % | fused minus best single (points) |",
             "|---|---:|---|---:|---:|"]
    for d, r in out.items():
        singles = ", ".join(f"{100 * v:.1f}" for v in r["singles"])
        lines.append(f"| {d} | {r['samples']} | {singles} | {100 * r['fused']:.1f} | "
                     f"{100 * (r['fused'] - max(r['singles'])):+.1f} |")
    return lines, out


def stream_runs(args, store: Path, data: str, seed: int) -> tuple[list[Path], Path]:
    """The one-stream runs of a set and seed (one per stream of its recipe) and the store they are scored on."""
    variants = [f"{stream} only" for stream in STREAMS[data]]
    if data == "Boston104 words":
        return ([args.boston_work / "runs" / boston_name(seed, v) for v in variants],
                boston104.word_store(args.boston_work, 0))
    if data == "WLASL20":
        return [args.work / "runs" / variant_name("wlasl", seed, v) for v in variants], store
    return [args.work / "runs" / variant_name("bhu3", seed, v) for v in variants], args.work / f"bhu-s{seed}-k3.h5"


def stream_ensemble_lines(args, store: Path, rows: list[dict]) -> tuple[list[str], dict]:
    """The stream-ensemble table: per seed, one model per input stream fused (``fuse``'s equal-weight sum of
    log-probabilities), against the default's one model that reads every stream (early fusion)."""
    out, lines = {}, [
        "| set | streams | default: one model, all streams | best one-stream model (picked per seed on test) | "
        "stream ensemble (fused) | "
        "ensemble minus default (points) |", "|---|---|---:|---:|---:|---|"]
    for data in SETS:
        per_seed = []
        for seed in args.seeds:
            runs, st = stream_runs(args, store, data, seed)
            ens = seed_ensemble(runs, st)
            default = next(r["top1"] for r in rows if r["set"] == data and r["variant"] is None and r["seed"] == seed)
            per_seed.append({"seed": seed, "default": default, "singles": ens["singles"], "fused": ens["fused"],
                             "samples": ens["samples"]})
        out[data] = per_seed

        def col(values):
            return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"

        diff = [100 * (r["fused"] - r["default"]) for r in per_seed]
        m, sd = statistics.mean(diff), statistics.stdev(diff)
        lines.append(f"| {data} | {', '.join(STREAMS[data])} | {col([r['default'] for r in per_seed])} | "
                     f"{col([max(r['singles']) for r in per_seed])} | {col([r['fused'] for r in per_seed])} | "
                     f"{m:+.1f} ± {sd:.1f}" + (" (beyond noise)" if abs(m) > 2 * sd else " (within noise)") + " |")
    return lines, out


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
    (args.work / "runs").mkdir(parents=True, exist_ok=True)
    store = logos.source_store(args.work, args.wlasl_store)
    rows = []
    for seed in args.seeds:
        for variant in [None, *ALL]:
            for data, fn in zip(SETS, (lambda: boston(args.boston_work, seed, variant),
                                       lambda: wlasl(args.work, store, seed, variant),
                                       lambda: bhutanese(args.work, seed, variant))):
                if not applies(data, variant):
                    continue
                r = fn()
                rows.append({"set": data, "variant": variant, "seed": seed, "top1": r["top1"],
                             "samples": r["samples"], "seconds": r.get("seconds", 0.0)})
                print(f"{data:18s} {variant or 'default':16s} seed {seed}: {100 * r['top1']:.1f}%", flush=True)
    if args.no_report:
        return
    lines, verdicts = table(rows, args.seeds)
    adopted = [v for v, ok in verdicts.items() if ok]
    ens_lines, ensembles = ensemble_lines(args, store) if len(args.seeds) > 1 else ([], {})
    stream_lines, stream_ensembles = stream_ensemble_lines(args, store, rows) if len(args.seeds) > 1 else ([], {})
    section = [
        "## The default recipe: one-change ablations on three real sets",
        "",
        f"Run {datetime.date.today().isoformat()} by `benchmarks/recipe.py --seeds {' '.join(map(str, args.seeds))}` "
        f"on {platform.platform()}, {os.cpu_count()} cores shared with other work (load average {load0:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after), torch {torch.__version__} on one thread per process. Seeds "
        f"{', '.join(map(str, args.seeds))}; mean ± sample std over seeds; differences are per seed against the "
        "default run of the same seed and split. Sets, splits and the recipe: see the script's docstring; the "
        "default rows are runs of `boston104.py`'s and `logos.py`'s recipe (theirs when their work folders hold them, "
        "made here when not).",
        "",
        *lines,
        "",
        ("Adopted into the default: " + ", ".join(adopted) + "." if adopted else
         "Adopted into the default: nothing. No change helps on every set beyond twice the seeds' spread, so the "
         "default recipe stays as it is."),
        "",
        *(["### Seed ensembles through `fuse`", "",
           f"The default runs of seeds {', '.join(map(str, args.seeds))} fused with equal weights (the sum of their "
           "log-probabilities, as `slr-pose fuse` does), on the two sets whose test samples are the same for every "
           "seed (Bhutanese draws its test set per seed, so it has no common test set to fuse on). An ensemble "
           f"costs {len(args.seeds)}x the training and the latency of one model.", "",
           *ens_lines, ""] if ens_lines else []),
        *(["### Stream ensembles through `fuse`", "",
           "Per seed, one model per input stream of the set's recipe (the `... only` rows above: the same recipe "
           "reading one stream), fused with equal weights as `slr-pose fuse` does, against the default: one model "
           "that reads every stream (the streams are stacked as input channels). The ensemble costs one training "
           "and one model's latency per stream. Mean ± sample std over seeds; the difference is per seed.", "",
           *stream_lines, ""] if stream_lines else []),
    ]
    islr = logos.RESULTS / "islr.md"
    text = islr.read_text(encoding="utf-8")
    islr.write_text(logos.with_section(text, "\n".join(section), "recipe.py"), encoding="utf-8")
    (logos.RESULTS / "recipe.json").write_text(json.dumps({"rows": rows, "verdicts": verdicts, "seed_ensembles": ensembles,
                                                           "stream_ensembles": stream_ensembles,
                                                           "wall_s": time.perf_counter() - t0}, indent=1) + "\n")
    print("\n".join(section))


if __name__ == "__main__":
    main()
