"""Continuous sign recognition (CTC): training task, decoding, WER evaluation.

Targets are each sample's gloss sequence, or, with ``data.target:
transcript``, the words of its transcript (weak supervision, as with the ASR
transcripts of KRSL-OnlineSchool). Each language gets its own vocabulary and
CTC head behind the same language gate as isolated recognition. At the end
of training a gloss n-gram LM per language is fitted on the training
sequences and saved beside the model (``RUN/lm_<language>.arpa``) for
beam-search decoding, and the LM weight and insertion bonus are picked on
the validation split (``RUN/decoding.json``, see
:mod:`slr_pose.training.cslr_decoding`).

The validation split also picks the best epoch (greedy WER). Stitched
stores get one from ``slr-pose stitch --val-fraction`` (validation sentences
made of their own source samples); a store with train and test only trains
for all epochs, keeps the last, and decodes with the default weights.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.outputs import atomic_path, write_text
from slr_pose.training.config import Config, ModelConfig
from slr_pose.training.data import (
    PoseDataset,
    SampleSet,
    build_preprocessors,
    collate,
    coverage_warnings,
    load_samples,
    preprocess_config,
)
from slr_pose.training.cslr_decoding import (
    DecoderSettings,
    Posterior,
    decode,
    known_fps,
    posteriors,
    step_seconds,
    tune,
)
from slr_pose.training.modeling import build_encoder, load_encoder_init

#: Decoders reported by evaluation: name -> (label, beam search, with the LM)
DECODERS = {"greedy": ("greedy", False, False), "beam": ("beam", True, False), "beam_lm": ("beam + LM", True, True)}


def build_ctc_model(config: ModelConfig, vocab_sizes: dict[str, int], pre) -> torch.nn.Module:
    from slr_pose.models import CTCRecognizer

    return CTCRecognizer(
        build_encoder(config, pre),
        vocab_sizes,
        sequence_model=config.sequence_model,
        hidden=config.hidden,
        layers=config.layers,
        downsample=config.downsample,
        gloss_head=config.gloss_head,
    )


class CSLRTask:
    """Builds data and a CTC model for continuous signing from a :class:`Config`."""

    score_name = "neg_wer"

    def __init__(self, config: Config) -> None:
        from slr_pose.decoding import Vocabulary

        preprocess = dict(config.data.preprocess)
        preprocess.setdefault("length", None)  # whole sentences, not fixed-length clips
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, preprocess=preprocess))
        self.config = config
        s = load_samples(config.data, "cslr")
        self.samples = s
        train = s.where("train")
        if len(train) == 0:
            raise SlrPoseError("the training split is empty (check data.split and the stores' split column)")
        words: dict[str, set[str]] = {}
        for m in train:
            words.setdefault(s.language[m], set()).update(s.glosses[m])
        self.vocab = {lang: Vocabulary(sorted(words[lang])) for lang in sorted(words)}
        from slr_pose.training.labels import LabelSpace

        self.labels = LabelSpace({lang: v.glosses for lang, v in self.vocab.items()})
        train_pre = build_preprocessors(preprocess_config(config, train=True), s.stores)
        self.preprocessors = build_preprocessors(preprocess_config(config, train=False), s.stores)
        self.warnings = coverage_warnings(s.stores, self.preprocessors)
        kw = dict(task="cslr", vocab=self.vocab)
        if config.model.gloss_head and config.data.target != "glosses":
            raise SlrPoseError("model.gloss_head classifies annotated gloss spans: it needs data.target glosses "
                               "(transcript words have no spans)")
        self.train_set = PoseDataset(s, train, train_pre, self.labels, train=True, seed=config.train.seed,
                                     spans=config.model.gloss_head, **kw)
        val, test = s.where("val"), s.where("test")
        self.val_set = PoseDataset(s, val, self.preprocessors, self.labels, train=False, **kw) if len(val) else None
        self.test_set = PoseDataset(s, test, self.preprocessors, self.labels, train=False, **kw) if len(test) else None
        self.model = build_ctc_model(config.model, {k: len(v.glosses) for k, v in self.vocab.items()}, self.preprocessors[0])
        if config.model.init:
            load_encoder_init(self.model, config.model.init)
        if config.model.freeze_encoder:
            self.model.freeze_encoder(True)

    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        """CTC loss; with the gloss head, plus ``gloss_weight`` x cross-entropy over the annotated spans."""
        from slr_pose.models.losses import ctc_loss, gated_cross_entropy

        if "spans" not in batch:
            out = model(batch["x"], batch["language"], batch["frame_mask"])
            return ctc_loss(out.log_probs.float(), batch["tokens"], out.out_lengths, batch["token_lengths"]), {}
        out, span_logits = model(batch["x"], batch["language"], batch["frame_mask"], spans=batch["spans"])
        ctc = ctc_loss(out.log_probs.float(), batch["tokens"], out.out_lengths, batch["token_lengths"])
        real = batch["span_glosses"] > 0  # (N, S)
        language = batch["language"][:, None].expand_as(real)[real]
        sizes = [len(v.glosses) for v in self.vocab.values()]
        gloss = gated_cross_entropy(span_logits[real].float(), batch["span_glosses"][real] - 1, language,
                                    self.config.train.label_smoothing, num_classes=sizes)
        loss = ctc + self.config.train.gloss_weight * gloss
        return loss, {"ctc_loss": ctc.detach(), "gloss_loss": gloss.detach()}

    def evaluate(self, model: torch.nn.Module, loader) -> dict:
        """Greedy WER on a loader (validation during training)."""
        decoded, posts = decode_loader(model, loader, self.vocab, decoders={"greedy": DECODERS["greedy"]})
        return _wer_summary(self.vocab, posts, decoded["greedy"], self.samples)

    def meta(self) -> dict:
        pre = self.preprocessors[0]
        return {
            "task": "cslr",
            "labels": {lang: list(v.glosses) for lang, v in self.vocab.items()},
            "num_channels": pre.num_channels,
            "landmarks": list(pre.layout.names),
            "preprocess": pre.config.to_dict(),
            "target": self.config.data.target,
            "extractors": [st.provenance.get("extractor", {}) for st in self.samples.stores],
        }

    def finish(self, run_dir: Path) -> None:
        """Fit and save a gloss LM per language on the training sequences; pick the decoder weights on validation."""
        from slr_pose.decoding import NGramLM

        train = self.samples.where("train")
        lms = {}
        for lang, v in self.vocab.items():
            seqs = [self.samples.glosses[m] for m in train if self.samples.language[m] == lang]
            lm = NGramLM.train(seqs, order=3)
            lm.save(run_dir / f"lm_{lang}.arpa")
            lms[lang] = lm.bind(v)
        settings = DecoderSettings()
        if self.val_set is None:
            settings.save(run_dir)
            return
        loader = torch.utils.data.DataLoader(self.val_set, batch_size=self.config.train.batch_size, collate_fn=collate)
        posts = posteriors(self.model, loader, self.vocab)
        refs = [self.samples.glosses[p.index] for p in posts]
        weight, bonus, grid = tune(posts, refs, self.vocab, lms, settings.beam_width)
        settings = dataclasses.replace(settings, lm_weight=weight, insertion_bonus=bonus,
                                       chosen_on=f"val ({len(posts)} samples)")
        settings.save(run_dir, grid=grid)


def _wer_summary(vocab: dict, posts: list[Posterior], decoded: list, samples: SampleSet) -> dict:
    from slr_pose.decoding import wer

    refs = [samples.glosses[p.index] for p in posts]
    r = wer(refs, [vocab[p.language].decode(d.tokens) for p, d in zip(posts, decoded)])
    return {"wer": r.wer / 100, "sub": r.sub, "del": r.dele, "ins": r.ins, "ref_words": r.n_ref,
            "samples": len(refs), "neg_wer": -r.wer / 100}


def decode_loader(model, loader, vocab: dict, *, decoders=DECODERS, lms=None,
                  settings: DecoderSettings = DecoderSettings()) -> tuple[dict, list[Posterior]]:
    """Decode every sample of a loader: ``({decoder: [Decoded]}, posteriors)``.

    A decoder that needs an LM is left out when a sample's language has none.
    """
    posts = posteriors(model, loader, vocab)
    lms = lms or {}
    out = {}
    for name, (_, beam, use_lm) in decoders.items():
        if use_lm and not all(p.language in lms for p in posts):
            continue
        out[name] = [decode(p.log_probs, settings.beam_width if beam else 0, lms.get(p.language) if use_lm else None,
                            settings.lm_weight, settings.insertion_bonus) for p in posts]
    return out, posts


def run_lms(run_dir: Path, vocab: dict, lm: str | Path | None = None) -> dict:
    """The run's gloss LM of each language (``lm``: one ARPA file for all instead), bound to its vocabulary."""
    from slr_pose.decoding import NGramLM

    if lm is not None and not Path(lm).is_file():
        raise SlrPoseError(f"no language model file at {lm}")
    paths = {lang: Path(lm) if lm else Path(run_dir) / f"lm_{lang}.arpa" for lang in vocab}
    return {lang: NGramLM.load(p).bind(vocab[lang]) for lang, p in paths.items() if p.exists()}


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
    from slr_pose.decoding import Vocabulary
    from slr_pose.training.evaluation import run_samples
    from slr_pose.training.labels import LabelSpace

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
        summary[name] = _wer_summary(vocab, posts, ds, samples)
    summary["wer"] = summary["greedy"]["wer"]
    out = Path(out_dir) if out_dir else run_dir / "eval" / Path(store).stem
    out.mkdir(parents=True, exist_ok=True)
    _write_scoring_files(out, run, samples, vocab, posts, decoded)
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    summary["output"] = str(out)
    return summary


def _write_scoring_files(out: Path, run, samples: SampleSet, vocab: dict, posts: list[Posterior], decoded: dict) -> None:
    from slr_pose.decoding import CtmWord, StmSegment, write_ctm, write_stm

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
