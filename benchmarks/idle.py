"""What a no-sign (``idle``) class is worth to sign spotting: Bhutanese SL16 streams with real idle recordings.

Bhutanese SL16 (``../shared/data/bhutanese_sl16``, internal evaluation data)
holds 100 real webcam recordings of each of 15 signs and 100 of the signer
*not* signing (``idle``), 30 frames each. Per seed, the test set is the
stratified 25% holdout of ``benchmarks/logos.py`` (scikit-learn's
``StratifiedShuffleSplit``): 375 sign and 25 idle recordings the models never
saw. They are joined into 25 streams of 15 signs in a random order, with one
idle recording between every two signs, so each sign is followed by a real
second of no signing; the truth is each sign recording's frames. The
streams are made by joining separate recordings (no co-articulation, a cut
between recordings), so this measures what the idle class does between
signs, not spotting in natural continuous signing (``spotting.py`` does that
on Boston104, which has no idle class).

Two models per seed, the same recipe (``logos.py``'s, 15 epochs), trained on
the other 1,200 recordings: **with idle** (16 classes; ``live``'s rule never
emits ``idle`` and lets it break runs) and **without idle** (the 75 idle
training recordings left out: 15 classes, so every window is some sign).
Both are streamed through the runtime's window (1 s, the clips' length, at a
nominal 30 fps, every 2 frames) and scored as ``spotting.py`` scores: a sign
is found when its gloss is emitted inside its frames or up to 0.5 s after;
the rule's threshold and min_windows are picked on half of the streams and
scored on the other half, both ways round. Torch on one thread.

Usage: python benchmarks/idle.py [--seeds 0 1] [--work /tmp/slr-pose-logos]
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

import numpy as np
import torch

from slr_pose.inference.torch_model import TorchModel
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.store.derive import derive_store
from slr_pose.runtime.recogniser import Recogniser
from slr_pose.runtime.spotting import IDLE
from slr_pose.training.trainer import train

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import logos  # noqa: E402 - the Bhutanese store, its splits and the recipe
import spotting  # noqa: E402 - the window, the rule grid and the scoring

FPS = 30.0
WINDOW = 1.0
STREAMS = 25
EPOCHS = 15


def without_idle(src: Path, out: Path) -> Path:
    """A copy of a split store without its idle recordings (training and test; the streams are made from the
    full store, so both models see the same streams)."""
    return derive_store(src, out, "without label", {"label": IDLE},
                        lambda i, s: s if s.info.label != IDLE else None, reuse=True)


def join(samples: list) -> tuple:
    """One stream of samples one after another: xyz, confidence, missing, and each sample's frame span."""
    spans, at = [], 0
    for s in samples:
        spans.append((at, at + len(s.xyz)))
        at += len(s.xyz)
    return (np.concatenate([s.xyz for s in samples]), np.concatenate([s.confidence for s in samples]),
            np.concatenate([s.missing for s in samples]), spans)  # fmt: skip


def streams_of(store: Path, seed: int) -> list[dict]:
    """The seed's test recordings as STREAMS streams: 15 signs in a random order, an idle recording between two."""
    src = PoseStore(store)
    test = [src.read(i) for i in range(len(src)) if src.column("split")[i] == "test"]
    signs = [s for s in test if s.info.label != IDLE]
    idles = [s for s in test if s.info.label == IDLE]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(signs))
    per = len(signs) // STREAMS
    out = []
    for k in range(STREAMS):
        chosen = [signs[i] for i in order[k * per:(k + 1) * per]]
        parts, truth = [], []
        for j, s in enumerate(chosen):
            parts.append(s)
            truth.append(len(parts) - 1)
            if j < len(chosen) - 1:
                parts.append(idles[int(rng.integers(len(idles)))])
        xyz, conf, missing, spans = join(parts)
        sample = dataclasses.replace(chosen[0], xyz=xyz, confidence=conf, missing=missing,
                                     time=np.arange(len(xyz), dtype=np.float64) / FPS,
                                     info=dataclasses.replace(chosen[0].info, length=len(xyz), fps=FPS))
        words = [(parts[i].info.label, spans[i][0] / FPS, spans[i][1] / FPS) for i in truth]
        out.append({"sample": sample, "words": words})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--work", type=Path, default=Path("/tmp/slr-pose-logos"))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "idle.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "runs").mkdir(exist_ok=True)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    target = logos.target_store(args.work)
    rows = []
    for seed in args.seeds:
        full = logos.split_store(target, args.work / f"bhu-s{seed}-all.h5", seed, 10_000)
        stores = {"with idle": full, "without idle": without_idle(full, args.work / f"bhu-s{seed}-all-noidle.h5")}
        streams = streams_of(full, seed)
        for variant, store in stores.items():
            run = args.work / "runs" / f"idle-s{seed}-{variant.replace(' ', '-')}"
            if not (run / "summary.json").exists():
                train(logos.recipe([store], seed, EPOCHS), run, progress=False, log=lambda *_: None)
            model = TorchModel(run)
            classes = model.card.classes[model.card.languages[0]]
            rec = Recogniser(model, streams[0]["sample"].layout, fps=FPS)
            scored = [{**spotting.sentence_windows(rec, s["sample"], WINDOW), "words": s["words"]} for s in streams]
            fitted, picked = spotting.cross_fitted(scored, classes)
            summary = json.loads((run / "summary.json").read_text())
            isolated = summary["test"]["languages"][logos.TARGET]["top1"]
            rows.append({"seed": seed, "variant": variant, "classes": len(classes), "isolated_top1": isolated,
                         "fitted": fitted, "picked": [(p.threshold, p.min_windows) for p in picked],
                         "default": spotting.score(scored, spotting.DEFAULT, classes),
                         "windows": rec.timings.calls})  # fmt: skip
            f = fitted
            print(f"seed {seed} {variant}: F1 {f['f1']:.3f} (P {f['precision']:.3f} R {f['recall']:.3f}); "
                  f"isolated top-1 {isolated:.3f}", flush=True)
    words = sum(len(s["words"]) for s in streams)
    lines = [
        "# What an idle (no-sign) class is worth to spotting (Bhutanese SL16 streams)",
        "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M} by `benchmarks/idle.py --seeds {' '.join(map(str, args.seeds))}` "
        f"on {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__} on one thread; load average "
        f"{load0:.1f} before, {os.getloadavg()[0]:.1f} after; {(time.perf_counter() - t0) / 60:.0f} minutes.",
        "",
        f"Data: per seed, {STREAMS} streams of the held-out Bhutanese recordings ({words} signs, each followed by a real",
        "idle recording but the last), joined from separate recordings (see the script's docstring: this is",
        f"not natural continuous signing). Window {WINDOW:g} s every 2 frames; rule picked on half of the streams and",
        "scored on the other half, both ways round; `live`'s default rule (0.6, 3) beside it.",
        "",
        "| seed | model | classes | isolated top-1 % (held-out clips: 400 with idle, 375 without) | cross-fitted P / R / F1 | rules picked | default rule P / R / F1 | boundary error start / end (frames) |",
        "|---:|---|---:|---:|---|---|---|---|",
    ]

    def prf(m):
        return f"{100 * m['precision']:.1f} / {100 * m['recall']:.1f} / {100 * m['f1']:.1f}"

    for r in rows:
        lines.append(f"| {r['seed']} | {r['variant']} | {r['classes']} | {100 * r['isolated_top1']:.1f} | "
                     f"{prf(r['fitted'])} | {'; '.join(f'{t:g}, {m}' for t, m in r['picked'])} | {prf(r['default'])} | "
                     f"{r['fitted']['start_err']:.1f} / {r['fitted']['end_err']:.1f} |")
    lines += ["", "Mean over seeds (%, mean ± std):", "", "| model | F1 | precision | recall | default rule F1 |",
              "|---|---:|---:|---:|---:|"]
    means = {}
    for variant in ("with idle", "without idle"):
        group = [r for r in rows if r["variant"] == variant]

        def ms(values):
            v = [100 * x for x in values]
            return f"{statistics.mean(v):.1f}" + (f" ± {statistics.stdev(v):.1f}" if len(v) > 1 else "")

        means[variant] = [r["fitted"]["f1"] for r in group]
        lines.append(f"| {variant} | {ms(means[variant])} | {ms([r['fitted']['precision'] for r in group])} | "
                     f"{ms([r['fitted']['recall'] for r in group])} | {ms([r['default']['f1'] for r in group])} |")
    d = [100 * (a - b) for a, b in zip(means["with idle"], means["without idle"])]
    spread = statistics.stdev(d) if len(d) > 1 else float("nan")
    lines += ["", f"With idle minus without, F1: {statistics.mean(d):+.1f} points per seed mean "
                  f"({', '.join(f'{x:+.1f}' for x in d)}; std {spread:.1f}).", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1, default=str) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
