"""CTC decoding speed and WER, ours beside plain-Python and pyctcdecode baselines, and what a gloss LM is worth.

Two sections, each measured and written by this script (``--section`` reruns
one and keeps the other as it was last measured in the results file):

**speed**: **synthetic** CTC posteriors built from **real** PHOENIX-2014 dev
gloss sequences (``slr_pose.decoding.synthetic``): the 1,295-gloss PHOENIX
vocabulary (+ blank), each sentence's real length in frames divided by 4 (a 4x
temporal downsampling, as CSLR models do), peaky outputs with noise, 15% of
glosses confused with a uniformly drawn other gloss of nearly equal score
(``Confusions.uniform``) and 5% weak. They are not model outputs: the WERs
compare decoders on the same input, they are not a model's WER on PHOENIX,
and the LM rows' gain comes from the uniform confusers (a random gloss is
almost never plausible in its sentence), not from what an LM does for a
recogniser. Decoders: greedy; our numba prefix beam search at widths
1/5/10/20; width 10/20 with a 3-gram Kneser-Ney LM trained on PHOENIX-2014
train glosses (weight and insertion bonus picked on dev sentences 0-99, all
numbers below on sentences 100-539); the plain-Python twin of the beam search
(same algorithm, dicts of tuples); pyctcdecode 0.5 (pure Python, glosses as
"▁GLOSS" tokens, no LM) when installed; streaming (window 200, lookahead 50)
on all evaluation sentences back to back as one long video.

**lm**: the LM's gain where the errors are a real recogniser's. Synthetic
posteriors for the 40 RWTH-BOSTON-104 test sentences (their real glosses and
lengths / 2, the CSLR model's downsampling), each gloss confused as often,
and with the glosses, that the isolated-word model of ``benchmarks/boston104.py``
confused it on the real test words (its test confusion tables, pooled over
seeds: ``Confusions.from_confusion_csv``), the confuser ahead of the true
gloss by 2 logits on average; beside it the same per-gloss rates with uniform
confusers. LM: the 3-gram of the 161 training sentences; weight and bonus
picked on one half of the sentences (the trainer's grid), scored on the
other, both ways. Then the gain on the real Boston104 CSLR runs
(``benchmarks/results/boston104.json``).

Usage: python benchmarks/decoding.py [--section all|speed|lm] [--sentences 540] [--confusions CSV ...]
(run ``benchmarks/boston104.py`` first for the lm section; the pyctcdecode row
needs `pip install pyctcdecode==0.5.0`; without it the row is left out)
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

from slr_pose.continuous.boston104 import Corpus
from slr_pose.decoding.corpus import read_corpus_csv
from slr_pose.decoding.ctc import beam_search, greedy_decode
from slr_pose.decoding.ctc_twin import prefix_beam_search_python
from slr_pose.decoding.error_rate import wer
from slr_pose.decoding.lm import NGramLM
from slr_pose.decoding.lm_tables import BoundLM
from slr_pose.decoding.streaming import decode_stream
from slr_pose.decoding.synthetic import (
    Confusions,
    PosteriorStyle,
    read_confusion_csv,
    synthetic_log_probs,
)
from slr_pose.decoding.vocab import Vocabulary
from slr_pose.errors import SlrPoseError
from slr_pose.training.cslr_decoding import INSERTION_BONUSES, LM_WEIGHTS

REPO = Path(__file__).resolve().parent.parent
PHOENIX = REPO.parent / "shared" / "data" / "phoenix_annotations" / "phoenix2014"
SEED = 2026
TUNE = 100  # dev sentences 0..TUNE-1 pick the LM weights; the rest are scored
FPS = 25 / 4  # posterior frames per second of video after 4x downsampling
BOSTON = REPO.parent / "shared" / "data" / "boston104"
BOSTON_RUNS = Path("/tmp/slr-pose-boston104-bench") / "runs"  # benchmarks/boston104.py's default --work
BOSTON_JSON = REPO / "benchmarks" / "results" / "boston104.json"
LM_HEADING = "## What the gloss LM is worth on a real recogniser's confusions (RWTH-BOSTON-104)"
DRAWS = 25  # synthetic posteriors per test sentence
#: the confuser leads the true gloss by 2 logits on average: the recogniser's error, the truth its runner-up
REAL_STYLE = PosteriorStyle(confusion_lead=2.0)


def load(n_sentences: int):
    vocab = Vocabulary.load(PHOENIX / "gloss_vocab.tsv")
    train = read_corpus_csv(PHOENIX / "train.csv")
    dev = read_corpus_csv(PHOENIX / "dev.csv")[:n_sentences]
    lm = NGramLM.train([e.glosses for e in train], order=3)
    rng = np.random.default_rng(SEED)
    refs, inputs = [], []
    for e in dev:
        tokens = vocab.encode(e.glosses)
        refs.append(tokens)
        inputs.append(synthetic_log_probs(tokens, max(e.num_frames // 4, 2 * len(tokens) + 1), len(vocab), rng,
                                          confusions=Confusions.uniform(len(vocab))))
    return vocab, lm, refs, inputs


def run(decode, inputs) -> tuple[list[np.ndarray], float]:
    start = time.perf_counter()
    out = [decode(lp) for lp in inputs]
    return out, time.perf_counter() - start


def wer_of(vocab, refs, hyps) -> float:
    return wer([vocab.decode(r) for r in refs], [vocab.decode(h) for h in hyps]).wer


def pyctcdecode_decoder(vocab):
    try:
        from pyctcdecode import build_ctcdecoder
    except ImportError:
        return None
    import logging

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    decoder = build_ctcdecoder([""] + ["▁" + g for g in vocab.glosses])

    def decode(lp):
        text = decoder.decode(lp, beam_width=10)
        return vocab.encode(text.split(), skip_unknown=True)

    return decode


def tune_lm(vocab, bound, refs, inputs) -> tuple[float, float, float]:
    best = None
    for weight, bonus in itertools.product((0.3, 0.5, 0.8, 1.0, 1.5), (0.0, 1.0, 2.0, 3.0)):
        hyps = [beam_search(lp, 10, lm=bound, lm_weight=weight, insertion_bonus=bonus)[0].tokens for lp in inputs]
        w = wer_of(vocab, refs, hyps)
        if best is None or w < best[0]:
            best = (w, weight, bonus)
    return best


def speed_section(n_sentences: int) -> str:
    """The speed section (decoders on PHOENIX-shaped input with uniform confusions)."""
    load_before = os.getloadavg()[0]

    vocab, lm, refs, inputs = load(n_sentences)
    bound = BoundLM(lm, vocab)
    for lp in inputs[:2]:  # compile / load the numba kernels outside the timings
        greedy_decode(lp), beam_search(lp, 5), beam_search(lp, 1, lm=bound), beam_search(lp, 5, lm=bound)
    tune_wer, weight, bonus = tune_lm(vocab, bound, refs[:TUNE], inputs[:TUNE])
    refs, inputs = refs[TUNE:], inputs[TUNE:]
    frames = sum(lp.shape[0] for lp in inputs)
    glosses = sum(len(r) for r in refs)

    rows = []  # (decoder, seconds, WER, note)
    outputs = {}

    def measure(name, decode, note="", subset=None):
        sub = inputs if subset is None else inputs[:subset]
        hyps, sec = run(decode, sub)
        outputs[name] = hyps
        n_frames = sum(lp.shape[0] for lp in sub)
        rows.append((name, n_frames / sec, wer_of(vocab, refs[: len(sub)], hyps), len(sub), note))
        print(f"{name:40s} {n_frames / sec:12.0f} frames/s  WER {rows[-1][2]:6.2f}%  ({len(sub)} sentences)", flush=True)

    measure("greedy (numpy)", lambda lp: greedy_decode(lp).tokens)
    for width in (1, 5, 10, 20):
        measure(f"beam {width} (numba)", lambda lp, w=width: beam_search(lp, w)[0].tokens)
    for width in (10, 20):
        measure(f"beam {width} + 3-gram LM (numba)",
                lambda lp, w=width: beam_search(lp, w, lm=bound, lm_weight=weight, insertion_bonus=bonus)[0].tokens)  # fmt: skip
    py_n = min(len(inputs), 150)  # the pure-Python decoders are timed on the first py_n; ours again beside them
    measure("beam 10 (numba), Python subset", lambda lp: beam_search(lp, 10)[0].tokens, subset=py_n)
    measure("beam 10 + LM (numba), Python subset",
            lambda lp: beam_search(lp, 10, lm=bound, lm_weight=weight, insertion_bonus=bonus)[0].tokens, subset=py_n)  # fmt: skip
    measure("beam 10, plain-Python twin", lambda lp: np.array(prefix_beam_search_python(lp, 10)[0][0]), subset=py_n)
    measure("beam 10 + LM, plain-Python twin",
            lambda lp: np.array(prefix_beam_search_python(lp, 10, lm=lm, vocabulary=vocab, lm_weight=weight,
                                                          insertion_bonus=bonus)[0][0]), subset=py_n)  # fmt: skip
    same = sum(a.tolist() == b.tolist() for a, b in zip(outputs["beam 10, plain-Python twin"], outputs["beam 10 (numba)"]))
    same_lm = sum(a.tolist() == b.tolist() for a, b in
                  zip(outputs["beam 10 + LM, plain-Python twin"], outputs["beam 10 + 3-gram LM (numba)"]))  # fmt: skip
    pyctc = pyctcdecode_decoder(vocab)
    if pyctc is not None:
        measure("pyctcdecode 0.5 beam 10 (no LM)", pyctc, subset=py_n)

    # streaming: the evaluation sentences back to back as one long video
    long_lp = np.concatenate(inputs)
    long_ref = np.concatenate(refs)
    kw = dict(lm=bound, lm_weight=weight, insertion_bonus=bonus)
    t0 = time.perf_counter()
    whole = beam_search(long_lp, 10, **kw)[0]
    t1 = time.perf_counter()
    stream = decode_stream(long_lp, window=200, lookahead=50, chunk=25, beam_width=10, **kw)
    t2 = time.perf_counter()
    stream_vs_whole = wer([vocab.decode(whole.tokens)], [vocab.decode(stream.tokens)])

    def ratio(name):
        return next(r[1] for r in rows if r[0] == name)

    lines = [
        "# Decoding: CTC greedy, prefix beam search, gloss LM, streaming",
        "",
        f"Run {datetime.date.today()} on a {os.cpu_count()}-core {platform.machine()} CPU, no GPU (load average "
        f"{load_before:.1f} before the run; absolute",
        "speeds vary with the machine, ratios taken in the same run are the numbers to read). "
        "`python benchmarks/decoding.py`,",
        f"seed {SEED}.",
        "",
        "**Input: synthetic CTC posteriors from real gloss sequences** (not model outputs). Each PHOENIX-2014 dev",
        f"sentence's real glosses over its real length / 4 frames, 1,296 classes; style {PosteriorStyle()}, 15% of glosses confused uniformly.",
        f"Scored: dev sentences {TUNE}-{TUNE + len(inputs) - 1} ({len(inputs)} sentences, {glosses} glosses, {frames} frames,",
        f"{frames / glosses:.1f} frames per gloss). LM: 3-gram modified Kneser-Ney on the 5,671 train sentences",
        f"(perplexity {lm.perplexity([vocab.decode(r) for r in refs]):.1f} on the scored sentences); weight {weight} and insertion bonus {bonus}",
        f"picked on sentences 0-{TUNE - 1} (WER there {tune_wer:.2f}%). WER: sclite alignment (0/4/3/3) against the true glosses.",
        "The confusers here are drawn uniformly from the vocabulary, which any LM undoes: the LM rows' WER says",
        "the LM decoder works, not what an LM is worth to a recogniser (see the last section for that).",
        "",
        "| decoder | frames/s | x real time (25 fps video) | WER % | sentences timed |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, fps, w, n, _ in rows:
        lines.append(f"| {name} | {fps:,.0f} | {fps / FPS:,.0f} | {w:.2f} | {n} |")
    lines += [
        "",
        f"Side by side on the same {py_n} sentences: numba beam 10 is {ratio('beam 10 (numba), Python subset') / ratio('beam 10, plain-Python twin'):.0f}x the plain-Python",
        f"twin without LM and {ratio('beam 10 + LM (numba), Python subset') / ratio('beam 10 + LM, plain-Python twin'):.0f}x with the LM; the twin returns the same best",
        f"hypothesis on {same}/{py_n} sentences without LM and {same_lm}/{py_n} with it (the tests require equal lists",
        "and scores to 1e-6 on other inputs).",
    ]
    if pyctc is not None:
        lines.append(f"numba beam 10 is {ratio('beam 10 (numba), Python subset') / ratio('pyctcdecode 0.5 beam 10 (no LM)'):.1f}x "
                     "pyctcdecode's beam 10 (its defaults: token_min_logp -5, beam_prune_logp -10; ours: prune 6,\n"
                     "beam_prune 12, max_candidates 40).")  # fmt: skip
    lines += [
        "",
        f"Streaming, the {len(inputs)} scored sentences as one {long_lp.shape[0]}-frame video "
        f"({long_lp.shape[0] / FPS / 60:.0f} min at 25 fps), beam 10 + LM:",
        "",
        "| | seconds | WER % vs truth |",
        "|---|---:|---:|",
        f"| whole sequence at once | {t1 - t0:.2f} | {wer_of(vocab, [long_ref], [whole.tokens]):.2f} |",
        f"| streaming, window 200, lookahead 50, fed 25 frames at a time | {t2 - t1:.2f} | {wer_of(vocab, [long_ref], [stream.tokens]):.2f} |",
        "",
        f"Streaming vs whole: {stream_vs_whole.sub} substitutions, {stream_vs_whole.dele} deletions, "
        f"{stream_vs_whole.ins} insertions over {stream_vs_whole.n_ref} glosses ({stream_vs_whole.wer:.2f}%).",
        "Latency of a committed gloss is at most one window (200 frames = 32 s of video at 25 fps / 4).",
        "",
        "LM file check, done by hand on 2026-11-22 (KenLM is not a dependency): KenLM 0.3.0's Python module",
        "loads the ARPA file that `slr-pose lm train phoenix2014/train.csv --order 3` writes and gives PHOENIX-2014",
        "dev perplexity 65.3768, the same as `slr-pose lm score` (65.38); sentence log10-probabilities agree to 1e-6.",
        "",
    ]
    return "\n".join(lines)




def _tune(posts, refs, bound) -> tuple[float, float]:
    """LM weight and insertion bonus with the lowest WER on ``posts`` (the trainer's grid; ties: the lighter)."""
    best = None
    for weight, bonus in itertools.product(LM_WEIGHTS, INSERTION_BONUSES):
        hyps = [beam_search(lp, 10, lm=bound, lm_weight=weight, insertion_bonus=bonus)[0].tokens for lp in posts]
        w = wer(refs, [bound.vocabulary.decode(h) for h in hyps]).wer
        if best is None or w < best[0]:
            best = (w, weight, bonus)
    return best[1], best[2]


def _lm_rows(vocab, bound, refs: list[list[str]], inputs: list[list[np.ndarray]]) -> dict:
    """WER of greedy, beam 10 and beam 10 + LM over every draw, the LM's weights picked on the other half."""
    halves = [list(range(0, len(refs), 2)), list(range(1, len(refs), 2))]  # sentence indices
    hyps = {"greedy": {}, "beam": {}, "beam_lm": {}}
    picked = []
    for tune_on, score_on in (halves, halves[::-1]):
        tune_posts = [lp for k in tune_on for lp in inputs[k]]
        tune_refs = [refs[k] for k in tune_on for _ in inputs[k]]
        weight, bonus = _tune(tune_posts, tune_refs, bound)
        picked.append((weight, bonus))
        for k in score_on:
            for d, lp in enumerate(inputs[k]):
                hyps["greedy"][k, d] = vocab.decode(greedy_decode(lp).tokens)
                hyps["beam"][k, d] = vocab.decode(beam_search(lp, 10)[0].tokens)
                hyps["beam_lm"][k, d] = vocab.decode(
                    beam_search(lp, 10, lm=bound, lm_weight=weight, insertion_bonus=bonus)[0].tokens)
    keys = sorted(hyps["greedy"])
    out = {name: wer([refs[k] for k, _ in keys], [h[key] for key in keys]) for name, h in hyps.items()}
    return {"wer": out, "picked": picked}


def _real_run_gains(path: Path) -> list[str]:
    """Lines on beam vs beam + LM in the real Boston104 CSLR runs of ``boston104.json``."""
    if not path.exists():
        return [f"No `{path.name}` yet: run `benchmarks/boston104.py` for the LM's gain on the real runs."]
    res = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for key, label in (("standard", "standard split"), ("signer", "signer-independent folds")):
        runs = res["groups"][key]
        gains = [100 * (r["eval"]["beam"]["wer"] - r["eval"]["beam_lm"]["wer"]) for r in runs]
        beam = statistics.mean(100 * r["eval"]["beam"]["wer"] for r in runs)
        lm = statistics.mean(100 * r["eval"]["beam_lm"]["wer"] for r in runs)
        spread = f" ± {statistics.stdev(gains):.1f}" if len(gains) > 1 else ""
        verdict = "it helps in every run" if min(gains) > 0 else (
            "it never helps" if max(gains) <= 0 else f"it helps in {sum(g > 0 for g in gains)} of {len(gains)} runs")
        lines.append(f"* {label} ({len(runs)} runs, {res['date']}): beam {beam:.1f}% -> beam + LM {lm:.1f}%, "
                     f"gain {statistics.mean(gains):.1f}{spread} points (weight 0.5, bonus 0.5, not tuned); {verdict}.")
    return lines


def lm_section(confusion_paths: list[Path]) -> str:
    """The LM section: synthetic posteriors of the Boston104 test sentences with a real model's confusions."""
    load_before = os.getloadavg()[0]
    if not confusion_paths:
        raise SlrPoseError(f"no confusion tables under {BOSTON_RUNS}: run benchmarks/boston104.py first "
                           "(its isolated-word runs write them), or name them with --confusions")
    corpus = Corpus(BOSTON)
    train = [list(s.glosses) for s in corpus.sentences if s.split == "train"]
    test = [s for s in corpus.sentences if s.split == "test"]
    vocab = Vocabulary(sorted({g for t in train for g in t}))  # as the trainer builds it
    lm = NGramLM.train(train, order=3)
    bound = BoundLM(lm, vocab)
    real = Confusions.from_confusion_csv(confusion_paths, vocab.glosses)
    names, counts = read_confusion_csv(confusion_paths[0])
    for p in confusion_paths[1:]:
        counts = counts + read_confusion_csv(p)[1]
    off = counts.copy()
    np.fill_diagonal(off, 0)
    pairs = sorted(((int(off[i, j]), names[i], names[j]) for i, j in zip(*np.nonzero(off))), reverse=True)[:6]
    refs = [list(s.glosses) for s in test]
    conditions = {"real": real, "uniform": Confusions.uniform(len(vocab), real.rate)}
    results = {}
    for name, confusions in conditions.items():
        rng = np.random.default_rng(SEED)
        inputs = [[synthetic_log_probs(vocab.encode(s.glosses, skip_unknown=True), len(s.xy) // 2, len(vocab), rng,
                                       REAL_STYLE, confusions=confusions) for _ in range(DRAWS)] for s in test]  # fmt: skip
        results[name] = _lm_rows(vocab, bound, refs, inputs)
        w = results[name]["wer"]
        print(name, *(f"{k} {v.wer:.2f}" for k, v in w.items()), results[name]["picked"], flush=True)

    def cell(r):
        return f"{r.wer:.1f} ({r.sub}/{r.dele}/{r.ins})"

    lines = [
        LM_HEADING,
        "",
        f"Run {datetime.date.today()} on a {os.cpu_count()}-core {platform.machine()} CPU (load average "
        f"{load_before:.1f} before), `python benchmarks/decoding.py --section lm`, seed {SEED}.",
        "",
        "**Input: synthetic CTC posteriors whose errors are a real recogniser's.** The 40 RWTH-BOSTON-104 test",
        f"sentences, their real glosses over their real length / 2 frames (the CSLR model's downsampling), {DRAWS}",
        f"draws each ({DRAWS * sum(len(r) for r in refs)} reference glosses), {len(vocab)} classes (the 112 training",
        "glosses + blank; the one test gloss never seen in training cannot be recognised). A gloss is confused as",
        "often, and with the glosses, as the isolated-word model of `benchmarks/boston104.py` (context 0) confused",
        f"it on the 177 real test words: its test confusion tables of {len(confusion_paths)} seeds pooled",
        f"({int(counts.sum())} classified words, {100 * (1 - np.trace(counts) / counts.sum()):.1f}% wrong; glosses "
        "it rarely saw pulled towards its pooled behaviour with 2 pseudo-words, `Confusions.from_confusion_csv`);",
        f"the confuser's peak is ahead of the true gloss's by N({REAL_STYLE.confusion_lead:g}, "
        f"{REAL_STYLE.confusion_margin:g}) logits, so greedy decoding makes about the model's error and the true",
        "gloss is the runner-up an LM could restore. Its most frequent confusions (true -> said, count): "
        + ", ".join(f"{a} -> {b} {n}" for n, a, b in pairs) + ".",
        "The uniform row keeps every gloss's confusion rate and draws its confusers uniformly from the vocabulary",
        "(what the speed section does). LM: 3-gram modified Kneser-Ney on the 161 training sentences (as the",
        f"trainer's); weight and insertion bonus picked from the trainer's grid ({', '.join(map(str, LM_WEIGHTS))} x",
        f"{', '.join(map(str, INSERTION_BONUSES))}) on the even-numbered sentences and scored on the odd ones, then",
        "the other way round; WER % over all draws, (substitutions/deletions/insertions).",
        "",
        "| confusers | greedy | beam 10 | beam 10 + LM | LM gain (points) | weight, bonus picked (each half) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, label in (("real", "a real model's (word model's test confusions)"), ("uniform", "uniform, same rates")):
        w, picked = results[name]["wer"], results[name]["picked"]
        gain = w["beam"].wer - w["beam_lm"].wer
        lines.append(f"| {label} | {cell(w['greedy'])} | {cell(w['beam'])} | {cell(w['beam_lm'])} | {gain:.1f} | "
                     f"{'; '.join(f'{a:g}, {b:g}' for a, b in picked)} |")
    real_gain = results["real"]["wer"]["beam"].wer - results["real"]["wer"]["beam_lm"].wer
    uniform_gain = results["uniform"]["wer"]["beam"].wer - results["uniform"]["wer"]["beam_lm"].wer
    verdict = (f"The LM's gain on real confusions is {real_gain:.1f} points, "
               + ("none at all" if abs(real_gain) < 0.05 else "a loss" if real_gain < 0 else
                  f"{real_gain / uniform_gain:.0%} of the {uniform_gain:.1f} it gains on uniform ones"
                  if uniform_gain > 0 else "while uniform confusers give it nothing") + ".")
    lines += [
        "",
        verdict + " Part of any gain here is the",
        "data's own: 26 of the 40 test sentences occur word for word among the training sentences, so a 3-gram",
        "of those sentences knows most test sentences whole.",
        "",
        "The same LM on the real Boston104 CSLR runs, beam 10 vs beam 10 + LM on the test sentences",
        "(from `boston104.json`, written by `benchmarks/boston104.py`):",
        "",
        *_real_run_gains(BOSTON_JSON),
        "",
    ]
    return "\n".join(lines)


def write_sections(out: Path, speed: str | None, lm: str | None) -> str:
    """``out`` with the sections given replaced; a section not given stays as the file has it."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    old_speed, _, old_lm = old.partition(LM_HEADING)
    speed = speed if speed is not None else old_speed.rstrip("\n") + "\n"
    lm = lm if lm is not None else (LM_HEADING + old_lm if old_lm else "")
    text = speed.rstrip("\n") + "\n\n" + lm if lm else speed
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--section", choices=("all", "speed", "lm"), default="all")
    parser.add_argument("--sentences", type=int, default=540)
    parser.add_argument("--confusions", type=Path, nargs="+", default=None,
                        help="confusion_ase.csv tables of isolated-word runs (default: boston104.py's context-0 runs)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "decoding.md")
    args = parser.parse_args()
    speed = speed_section(args.sentences) if args.section in ("all", "speed") else None
    confusions = args.confusions or sorted(BOSTON_RUNS.glob("words-c0-s*/eval/words0-seen/confusion_ase.csv"))
    lm = lm_section(confusions) if args.section in ("all", "lm") else None
    print(write_sections(args.out, speed, lm))


if __name__ == "__main__":
    main()
