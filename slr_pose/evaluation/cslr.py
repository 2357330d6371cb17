"""Evaluating a continuous-signing run on a store: WER per decoder, and CTM/STM files for sclite."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch

from slr_pose.decoding import CtmWord, StmSegment, Vocabulary, write_ctm, write_stm
from slr_pose.evaluation.samples import run_samples
from slr_pose.outputs import atomic_path, write_text
from slr_pose.training.cslr_decoding import (
    DecoderSettings,
    Posterior,
    decode_loader,
    known_fps,
    run_lms,
    step_seconds,
    wer_summary,
)
from slr_pose.training.data import PoseDataset, SampleSet, collate
from slr_pose.training.labels import LabelSpace


def evaluate_cslr_run(run, run_dir, store, *, split: str = "all", language: str = "", out_dir=None,
                      lm: str | None = None, beam_width: int | None = None, lm_weight: float | None = None,
                      insertion_bonus: float | None = None) -> dict:
    """WER of a continuous-signing run on a store: greedy, beam, beam + LM.

    Decoder settings are the run's (``RUN/decoding.json``) unless given.
    Writes to ``out_dir`` (default ``RUN/eval/<store name>``): ``metrics.json``,
    ``hypotheses.txt`` (reference and best hypothesis per sample), and for
    sclite or the PHOENIX evaluation scripts ``reference.stm`` and one CTM of
    hypotheses per decoder (``greedy.ctm``, ``beam.ctm``, ``beam_lm.ctm``).
    """
    run_dir = Path(run_dir)
    settings = DecoderSettings.of_run(run_dir).override(beam_width, lm_weight, insertion_bonus)
    vocab = {lang: Vocabulary(g) for lang, g in run.meta["labels"].items()}
    samples, indices, pre, _ = run_samples(run, store, split=split, language=language, task="cslr")
    labels = LabelSpace({lang: v.glosses for lang, v in vocab.items()})
    dataset = PoseDataset(samples, indices, pre, labels, train=False, task="cslr", vocab=vocab)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=False, collate_fn=collate)
    decoded, posts = decode_loader(run.model, loader, vocab, lms=run_lms(run_dir, vocab, lm), settings=settings)
    summary = {"store": str(store), "split": split, "samples": len(posts),
               "decoding": {**dataclasses.asdict(settings), "lm": str(lm) if lm else "run"}}
    for name, ds in decoded.items():
        summary[name] = wer_summary(vocab, posts, ds, samples)
    summary["wer"] = summary["greedy"]["wer"]
    out = Path(out_dir) if out_dir else run_dir / "eval" / Path(store).stem
    out.mkdir(parents=True, exist_ok=True)
    _write_scoring_files(out, run, samples, vocab, posts, decoded)
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    summary["output"] = str(out)
    return summary


def _write_scoring_files(out: Path, run, samples: SampleSet, vocab: dict, posts: list[Posterior], decoded: dict) -> None:
    ids = [samples.ids[p.index] for p in posts]
    fps = [known_fps(samples.stores[samples.store[p.index]].column("fps")[samples.index[p.index]]) for p in posts]
    write_stm(out / "reference.stm", [
        StmSegment(i, "1", samples.signer[p.index] or "unknown", 0.0, math.inf, tuple(samples.glosses[p.index]))
        for i, p in zip(ids, posts)
    ])
    for name, ds in decoded.items():
        words = []
        for i, p, d, f in zip(ids, posts, ds, fps):
            times = np.arange(int(p.source_index.max()) + 2) / f
            spans = step_seconds(d.frames.reshape(-1), run.model.total_stride, p.source_index, times).reshape(-1, 2)
            glosses = vocab[p.language].decode(d.tokens)
            words += [CtmWord(i, "1", a, max(b - a, 0.0), g) for g, (a, b) in zip(glosses, spans)]
        write_ctm(out / f"{name}.ctm", words)
    best = decoded.get("beam_lm", decoded.get("beam"))
    with atomic_path(out / "hypotheses.txt") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for i, p, d in zip(ids, posts, best):
            fh.write(f"{i}\tREF: {' '.join(samples.glosses[p.index])}\tHYP: {' '.join(vocab[p.language].decode(d.tokens))}\n")
