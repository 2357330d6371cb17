"""Sign spotting on real continuous signing: RWTH-BOSTON-104 test sentences against their annotated word spans.

``slr-pose live`` turns an isolated-sign model into a spotter: every hop it
scores the last ``--window`` seconds of landmarks and applies the rule of
:mod:`slr_pose.runtime.spotting` (a class above ``threshold`` in
``min_windows`` consecutive windows is one sign). This script measures that
rule where the truth is known and the signing is real: the 40 test sentences
of RWTH-BOSTON-104 (co-articulated ASL by 3 signers; every word's frames
annotated), streamed window by window through the runtime's own
:class:`~slr_pose.runtime.window.LandmarkWindow` and
:class:`~slr_pose.runtime.recogniser.Recogniser` (what ``live`` runs per
window), with the isolated-word models that ``benchmarks/boston104.py``
trains on the 710 training words (clips cut at the word spans, ``context 0``,
or with 8 frames of the sentence either side, ``context 8``).

A true word counts as found when a spotted sign of its gloss is emitted inside
its span or at most ``LAG`` seconds after its end; each emission finds at most
one word. Precision: emissions that found a word / all emissions; recall:
words found / all 178 test words; boundary error: frames between the
supporting windows' stretch (what ``live`` reports as start, end) and the
word's span, for the words found.

The rule's threshold and ``min_windows`` are picked by F1 on half of the test
sentences and scored on the other half, both ways round (cross-fitting: never
picked on what it is scored on), beside ``live``'s default rule (0.6, 3) and
the best rule picked on all 40 (an upper bound, marked as such). Torch on one
thread. The Boston104 tracks have no hand model, so ``live``'s "no hand in
view" check does not apply here: every window is scored.

Usage: python benchmarks/spotting.py [--work /tmp/slr-pose-boston104-bench] (run benchmarks/boston104.py first)
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.inference.torch_model import TorchModel
from slr_pose.keypoints.store import PoseStore
from slr_pose.runtime.recogniser import Recogniser
from slr_pose.runtime.spotting import SpottingRule, pair_signs, spot
from slr_pose.runtime.window import LandmarkWindow

REPO = Path(__file__).resolve().parent.parent
FPS = 30.0  # RWTH-BOSTON-104's frame rate, as its page states
WINDOWS = (0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.2)  # seconds of signing each scored window holds (words: 2-46 frames)
HOP = 2  # frames between windows (1/15 s)
LAG = 0.5  # seconds after a word's end an emission still finds it
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MIN_WINDOWS = (1, 2, 3, 4, 6, 8)
CENTRES = (0.05, 0.1, 0.15, 0.2, 0.3)  # boundary-head rule: predicted sign middle to window middle, window lengths
DEFAULT = SpottingRule()


def sentence_windows(rec: Recogniser, sample, seconds: float) -> dict:
    """Per-window probabilities ``(W, K)``, starts and ends (s) of one sentence streamed as ``live`` does, and
    with a boundary head the sign start and end it places in each window ``(W, 2)`` (s; the end exclusive,
    as the annotated spans)."""
    window = LandmarkWindow(sample.layout, seconds, width=sample.info.width, height=sample.info.height, nominal_fps=FPS)
    probs, starts, ends, spans = [], [], [], []
    for t in range(len(sample.xyz)):
        window.push(sample.xyz[t], sample.confidence[t], sample.missing[t], t / FPS)
        full = window.end - window.start >= seconds - 1.5 / FPS
        if (t + 1) % HOP == 0 and (full or t == len(sample.xyz) - 1):
            p, span = rec.score(window.sample())
            probs.append(p)
            starts.append(window.start)
            ends.append(window.end + 1 / FPS)
            if span is not None:  # fractions of the window's frames -> seconds
                spans.append((window.time_at(span[0]), window.time_at(span[1]) + 1 / FPS))
    return {"probs": np.array(probs), "starts": np.array(starts), "ends": np.array(ends),
            "spans": np.array(spans) if spans else None}


def score(streams: list[dict], rule: SpottingRule, classes, head: bool = False) -> dict:
    """Precision, recall, F1 and boundary errors of ``rule`` over sentences' window probabilities
    (``head``: with the boundary head's spans, as ``live`` runs a model that has one)."""
    emitted = found = words = 0
    start_err, end_err = [], []
    for s in streams:
        spotted = spot(s["probs"], s["starts"], s["ends"], classes, rule, s["spans"] if head else None)
        pairs = pair_signs(spotted, s["words"], LAG)
        emitted += len(spotted)
        words += len(s["words"])
        for (gloss, a, b), k in zip(s["words"], pairs):
            if k >= 0:
                found += 1
                start_err.append(abs(spotted[k].start - a) * FPS)
                end_err.append(abs(spotted[k].end - b) * FPS)
    p = found / emitted if emitted else 0.0
    r = found / words if words else 0.0
    return {"emitted": emitted, "found": found, "words": words, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "start_err": float(np.median(start_err)) if start_err else float("nan"),
            "end_err": float(np.median(end_err)) if end_err else float("nan")}  # fmt: skip


def grid(centres=(None,)) -> list[SpottingRule]:
    return [SpottingRule(threshold=t, min_windows=m, centre=c)
            for t, m, c in itertools.product(THRESHOLDS, MIN_WINDOWS, centres)]


def best(streams: list[dict], classes, centres=(None,), head: bool = False) -> SpottingRule:
    return max(grid(centres), key=lambda rule: (score(streams, rule, classes, head)["f1"], rule.threshold,
                                                rule.min_windows))


def cross_fitted(streams: list[dict], classes, centres=(None,), head: bool = False) -> tuple[dict, list[SpottingRule]]:
    """Rules picked on the even sentences scored on the odd ones and the other way round, pooled."""
    halves = [streams[0::2], streams[1::2]]
    picked = [best(halves[0], classes, centres, head), best(halves[1], classes, centres, head)]
    parts = [score(halves[1], picked[0], classes, head), score(halves[0], picked[1], classes, head)]
    emitted = sum(p["emitted"] for p in parts)
    found = sum(p["found"] for p in parts)
    words = sum(p["words"] for p in parts)
    p, r = (found / emitted if emitted else 0.0), found / words
    pooled = {"emitted": emitted, "found": found, "words": words, "precision": p, "recall": r,
              "f1": 2 * p * r / (p + r) if p + r else 0.0,
              "start_err": statistics.mean(q["start_err"] for q in parts),
              "end_err": statistics.mean(q["end_err"] for q in parts)}  # fmt: skip
    return pooled, picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/slr-pose-boston104-bench"))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "spotting.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before, wall0 = os.getloadavg()[0], time.perf_counter()
    store = PoseStore(args.work / "boston.h5")
    test = [i for i, sp in enumerate(store.column("split")) if sp == "test"]
    sentences = [store.read(i) for i in test]
    truth = []
    for s in sentences:
        spans = parse_spans(s.info.gloss_spans, len(s.xyz), len(s.info.gloss_list))
        truth.append([(g, a / FPS, b / FPS) for g, (a, b) in zip(s.info.gloss_list, spans)])
    runs = sorted(args.work.glob("runs/words-c*-s*")) + sorted(args.work.glob("runs/words-rc*-s*"))
    if not runs:
        raise SystemExit(f"no word runs under {args.work}/runs: run benchmarks/boston104.py first")
    rows, scored_windows, model_s = [], 0, 0.0
    for run in runs:
        label, seed = run.name.rsplit("-s", 1)[0], int(run.name.rsplit("-s", 1)[1])
        model = TorchModel(run)
        classes = model.card.classes[model.card.languages[0]]
        rules = [("confidence", (None,), False)]
        if model.has_boundary:
            rules += [("confidence, head's times", (None,), True), ("centred by the head", CENTRES, True)]
        for seconds in WINDOWS:
            rec = Recogniser(model, sentences[0].layout, fps=model.card.config.fps or FPS)
            streams = [{**sentence_windows(rec, s, seconds), "words": words} for s, words in zip(sentences, truth)]
            scored_windows += rec.timings.calls
            model_s += rec.timings.model + rec.timings.normalisation
            for rule_name, centres, head in rules:
                fitted, picked = cross_fitted(streams, classes, centres, head)
                upper_rule = best(streams, classes, centres, head)
                rows.append({"model": label, "rule": rule_name, "seed": seed, "window": seconds,
                             "default": score(streams, DEFAULT, classes, head), "fitted": fitted, "picked": picked,
                             "upper": score(streams, upper_rule, classes, head), "upper_rule": upper_rule})  # fmt: skip
                f = rows[-1]["fitted"]
                print(f"{run.name} {rule_name} window {seconds}: cross-fitted F1 {f['f1']:.3f} "
                      f"(P {f['precision']:.3f} R {f['recall']:.3f}); default {rows[-1]['default']['f1']:.3f}", flush=True)
    words = sum(len(t) for t in truth)
    lines = [
        "# Sign spotting on real continuous signing (RWTH-BOSTON-104)",
        "",
        f"Run {datetime.datetime.now():%Y-%m-%d %H:%M} by `benchmarks/spotting.py` on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} on one thread; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; {time.perf_counter() - wall0:.0f} s wall, {scored_windows} windows scored "
        f"({1000 * model_s / max(scored_windows, 1):.2f} ms each, normalisation + model).",
        "",
        f"Data: the 40 test sentences of RWTH-BOSTON-104 ({words} annotated words; three tracked points per frame,",
        "30 fps), streamed through the runtime's sliding window every 2 frames. Models: the isolated-word runs of",
        "`benchmarks/boston104.py`, one per seed, 112 classes (one test word's gloss has none): `words-c0` trained",
        "on words cut at their spans, `words-c8` with 8 frames of the sentence either side, `words-rc` with a random",
        "0-16 frames either side, and `words-rc-bnd` the same with the sign-boundary head. A word is found when",
        f"its gloss is emitted inside its span or up to {LAG} s after it; P = emissions that found a word / emissions,",
        "R = words found / all words. Boundary error: median frames between the spotted sign's start (end) and the",
        "word's start (end), over found words.",
        "",
        f"Rules (`slr_pose.runtime.spotting`): **confidence**: threshold x min_windows over {THRESHOLDS} x",
        f"{MIN_WINDOWS}, release {DEFAULT.release}; a spotted sign's start and end are the supporting windows'",
        "stretch. For the model with the boundary head: **confidence, head's times**: the same rule, with the",
        "start and end the head places in the supporting windows (their mean; what `live` does for such a",
        f"model); **centred by the head**: that, and the grid x centre {CENTRES}: a window supports its top class",
        "only when the middle of the sign the head places in it lies within `centre` window lengths of the",
        "window's middle. **Cross-fitted**: picked by F1 on the",
        "even-numbered sentences and scored on the odd ones, then the other way round, pooled (never picked on",
        "what it is scored on). **Default**: live's rule (0.6, 3, no centre). **Upper bound**: the best rule",
        "picked on all 40 sentences and scored on them (optimistic by construction).",
        "",
        "| model | rule | seed | window s | cross-fitted P / R / F1 | rules picked (threshold, min windows[, centre]) | boundary error start / end (frames) | default P / R / F1 | upper bound F1 |",
        "|---|---|---:|---:|---|---|---|---|---:|",
    ]

    def prf(m):
        return f"{100 * m['precision']:.1f} / {100 * m['recall']:.1f} / {100 * m['f1']:.1f}"

    def shown(p):
        return f"{p.threshold:g}, {p.min_windows}" + (f", {p.centre:g}" if p.centre is not None else "")

    for r in rows:
        lines.append(f"| {r['model']} | {r['rule']} | {r['seed']} | {r['window']:g} | {prf(r['fitted'])} | "
                     f"{'; '.join(shown(p) for p in r['picked'])} | "
                     f"{r['fitted']['start_err']:.1f} / {r['fitted']['end_err']:.1f} | {prf(r['default'])} | "
                     f"{100 * r['upper']['f1']:.1f} |")
    lines += ["", "Mean over seeds (cross-fitted, %, mean ± std; boundary error in frames):", "",
              "| model | rule | window s | F1 | precision | recall | boundary error start / end |",
              "|---|---|---:|---:|---:|---:|---|"]
    summary = {}
    key = lambda r: (r["model"], r["rule"], r["window"])  # noqa: E731
    for (label, rule, seconds), group in itertools.groupby(sorted(rows, key=key), key=key):
        group = list(group)

        def ms(k, group=group, scale=100):
            v = [scale * g["fitted"][k] for g in group]
            return f"{statistics.mean(v):.1f}" + (f" ± {statistics.stdev(v):.1f}" if len(v) > 1 else "")

        f1s = [g["fitted"]["f1"] for g in group]
        summary[label, rule, seconds] = (statistics.mean(f1s), statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
                                         statistics.mean(g["fitted"]["start_err"] for g in group),
                                         statistics.mean(g["fitted"]["end_err"] for g in group))  # fmt: skip
        lines.append(f"| {label} | {rule} | {seconds:g} | {ms('f1')} | {ms('precision')} | {ms('recall')} | "
                     f"{ms('start_err', scale=1)} / {ms('end_err', scale=1)} |")

    def top(pred):
        k = max((k for k in summary if pred(k)), key=lambda k: summary[k][0])
        m, sd, se, ee = summary[k]
        return k, f"{k[0]}, {k[1]} rule, {k[2]:g} s window: F1 {100 * m:.1f} ± {100 * sd:.1f}%, boundary error {se:.1f} / {ee:.1f} frames"

    best_all, text_all = top(lambda k: True)
    lines += ["", f"Best here: {text_all}."]
    if any(k[1] != "confidence" for k in summary):
        for rule in ("confidence", "confidence, head's times", "centred by the head"):
            lines.append(f"Best of the boundary-head model ({rule}): "
                         f"{top(lambda k, rule=rule: k[0] == 'words-rc-bnd' and k[1] == rule)[1]}.")
        lines.append(f"Best of the same recipe without the head: {top(lambda k: k[0] == 'words-rc')[1]}.")
    lines += [
        "Boston104 has no idle/no-sign class; what one is worth to the rule is measured on Bhutanese SL16",
        "streams of real sign and idle recordings in `idle.md` (`benchmarks/idle.py`).",
        "",
    ]
    (args.out.with_suffix(".json")).write_text(json.dumps(
        {"date": datetime.date.today().isoformat(), "summary": [
            {"model": k[0], "rule": k[1], "window": k[2], "f1": v[0], "f1_std": v[1], "start_err": v[2],
             "end_err": v[3]} for k, v in sorted(summary.items())],
         "best": {"model": best_all[0], "rule": best_all[1], "window": best_all[2]}}, indent=1) + "\n",
        encoding="utf-8")  # fmt: skip
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
