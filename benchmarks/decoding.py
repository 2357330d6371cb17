"""CTC decoding speed and WER, ours beside plain-Python and pyctcdecode baselines, in one run.

Input: **synthetic** CTC posteriors built from **real** PHOENIX-2014 dev gloss
sequences (``slr_pose.decoding.synthetic``): the 1,295-gloss PHOENIX vocabulary
(+ blank), each sentence's real length in frames divided by 4 (a 4x temporal
downsampling, as CSLR models do), peaky outputs with noise, 15% of glosses
confused with another gloss of nearly equal score and 5% weak. They are not
model outputs: the WERs compare decoders on the same input, they are not a
model's WER on PHOENIX.

Decoders: greedy; our numba prefix beam search at widths 1/5/10/20; width
10/20 with a 3-gram Kneser-Ney LM trained on PHOENIX-2014 train glosses
(weight and insertion bonus picked on dev sentences 0-99, all numbers below on
sentences 100-539); the plain-Python twin of the beam search (same algorithm,
dicts of tuples); pyctcdecode 0.5 (pure Python, glosses as "▁GLOSS" tokens,
no LM) when installed; streaming (window 200, lookahead 50) on all evaluation
sentences back to back as one long video.

Usage: python benchmarks/decoding.py [--sentences 540] [--out benchmarks/results/decoding.md]
(the pyctcdecode row needs `pip install pyctcdecode==0.5.0`; without it the row is left out)
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np

from slr_pose.decoding.corpus import read_corpus_csv
from slr_pose.decoding.ctc import beam_search, greedy_decode
from slr_pose.decoding.ctc_twin import prefix_beam_search_python
from slr_pose.decoding.error_rate import wer
from slr_pose.decoding.lm import NGramLM
from slr_pose.decoding.streaming import decode_stream
from slr_pose.decoding.synthetic import PosteriorStyle, synthetic_log_probs
from slr_pose.decoding.vocab import Vocabulary
from slr_pose.decoding.lm_tables import BoundLM

REPO = Path(__file__).resolve().parent.parent
PHOENIX = REPO.parent / "shared" / "data" / "phoenix_annotations" / "phoenix2014"
SEED = 2026
TUNE = 100  # dev sentences 0..TUNE-1 pick the LM weights; the rest are scored
FPS = 25 / 4  # posterior frames per second of video after 4x downsampling


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
        inputs.append(synthetic_log_probs(tokens, max(e.num_frames // 4, 2 * len(tokens) + 1), len(vocab), rng))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=540)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "decoding.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    vocab, lm, refs, inputs = load(args.sentences)
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
        f"sentence's real glosses over its real length / 4 frames, 1,296 classes; style {PosteriorStyle()}.",
        f"Scored: dev sentences {TUNE}-{TUNE + len(inputs) - 1} ({len(inputs)} sentences, {glosses} glosses, {frames} frames,",
        f"{frames / glosses:.1f} frames per gloss). LM: 3-gram modified Kneser-Ney on the 5,671 train sentences",
        f"(perplexity {lm.perplexity([vocab.decode(r) for r in refs]):.1f} on the scored sentences); weight {weight} and insertion bonus {bonus}",
        f"picked on sentences 0-{TUNE - 1} (WER there {tune_wer:.2f}%). WER: sclite alignment (0/4/3/3) against the true glosses.",
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
