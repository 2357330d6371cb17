"""Continuous sign recognition (CTC): training task, decoding, WER evaluation.

Targets are each sample's gloss sequence, or, with ``data.target:
transcript``, the words of its transcript (weak supervision, as with the ASR
transcripts of KRSL-OnlineSchool). Each language gets its own vocabulary and
CTC head behind the same language gate as isolated recognition. At the end
of training a gloss n-gram LM per language is fitted on the training
sequences and saved beside the model (``RUN/lm_<language>.arpa``) for
beam-search decoding.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
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
from slr_pose.training.modeling import build_encoder, load_encoder_init

#: Decoders reported by evaluation: name -> (beam width, use the LM)
DECODERS = {"greedy": (0, False), "beam": (10, False), "beam_lm": (10, True)}


def build_ctc_model(config: ModelConfig, vocab_sizes: dict[str, int], pre) -> torch.nn.Module:
    from slr_pose.models import CTCRecognizer

    return CTCRecognizer(
        build_encoder(config, pre),
        vocab_sizes,
        sequence_model=config.sequence_model,
        hidden=config.hidden,
        layers=config.layers,
        downsample=config.downsample,
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
        self.train_set = PoseDataset(s, train, train_pre, self.labels, train=True, seed=config.train.seed, **kw)
        val, test = s.where("val"), s.where("test")
        self.val_set = PoseDataset(s, val, self.preprocessors, self.labels, train=False, **kw) if len(val) else None
        self.test_set = PoseDataset(s, test, self.preprocessors, self.labels, train=False, **kw) if len(test) else None
        self.model = build_ctc_model(config.model, {k: len(v.glosses) for k, v in self.vocab.items()}, self.preprocessors[0])
        if config.model.init:
            load_encoder_init(self.model, config.model.init)
        if config.model.freeze_encoder:
            self.model.freeze_encoder(True)

    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        from slr_pose.models.losses import ctc_loss

        out = model(batch["x"], batch["language"], batch["frame_mask"])
        loss = ctc_loss(out.log_probs.float(), batch["tokens"], out.out_lengths, batch["token_lengths"])
        return loss, {}

    def evaluate(self, model: torch.nn.Module, loader) -> dict:
        """Greedy WER on a loader (validation during training)."""
        hyps, refs, _ = decode_loader(model, loader, self.samples, self.vocab, decoders={"greedy": DECODERS["greedy"]})
        return _wer_summary(refs, hyps["greedy"])

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
        """Fit and save a gloss LM per language on the training sequences."""
        from slr_pose.decoding import NGramLM

        train = self.samples.where("train")
        for lang in self.vocab:
            seqs = [self.samples.glosses[m] for m in train if self.samples.language[m] == lang]
            NGramLM.train(seqs, order=3).save(run_dir / f"lm_{lang}.arpa")


def _wer_summary(refs: list[list[str]], hyps: list[list[str]]) -> dict:
    from slr_pose.decoding import wer

    r = wer(refs, hyps)
    return {"wer": r.wer / 100, "sub": r.sub, "del": r.dele, "ins": r.ins, "ref_words": r.n_ref,
            "samples": len(refs), "neg_wer": -r.wer / 100}


@torch.no_grad()
def decode_loader(model, loader, samples: SampleSet, vocab: dict, *, decoders=DECODERS, lms=None,
                  lm_weight: float = 0.5, insertion_bonus: float = 0.5, beam_width: int | None = None):
    """Decode every sample of a loader; returns ``({decoder: hyps}, refs, indices)``."""
    from slr_pose.decoding import beam_search, greedy_decode

    model.eval()
    device = next(model.parameters()).device
    languages = list(vocab)
    hyps: dict[str, list[list[str]]] = {name: [] for name in decoders}
    refs, indices = [], []
    for batch in loader:
        out = model(batch["x"].to(device), batch["language"].to(device), batch["frame_mask"].to(device))
        lp = out.log_probs.float().cpu().numpy()
        for n in range(len(lp)):
            lang = languages[int(batch["language"][n])]
            v = vocab[lang]
            steps = lp[n, : int(out.out_lengths[n]), : len(v)]
            for name, (width, use_lm) in decoders.items():
                if width == 0:
                    best = greedy_decode(steps)
                else:
                    lm = lms.get(lang) if (use_lm and lms) else None
                    if use_lm and lm is None:
                        continue
                    best = beam_search(steps, beam_width=beam_width or width, lm=lm,
                                       lm_weight=lm_weight if lm is not None else 0.0,
                                       insertion_bonus=insertion_bonus if lm is not None else 0.0)[0]
                hyps[name].append(v.decode(best.tokens))
            m = int(batch["index"][n])
            refs.append(samples.glosses[m])
            indices.append(m)
    return {k: h for k, h in hyps.items() if len(h) == len(refs)}, refs, indices


def evaluate_cslr_run(run, run_dir, store, *, split: str = "all", language: str = "", out_dir=None,
                      lm: str | None = None, lm_weight: float = 0.5, insertion_bonus: float = 0.5,
                      beam_width: int = 10) -> dict:
    """WER of a continuous-signing run on a store: greedy, beam, beam + LM."""
    from slr_pose.decoding import NGramLM, Vocabulary
    from slr_pose.training.evaluation import run_samples

    run_dir = Path(run_dir)
    vocab = {lang: Vocabulary(g) for lang, g in run.meta["labels"].items()}
    samples, indices, pre, _ = run_samples(run, store, split=split, language=language, task="cslr")
    from slr_pose.training.labels import LabelSpace

    labels = LabelSpace({lang: v.glosses for lang, v in vocab.items()})
    dataset = PoseDataset(samples, indices, pre, labels, train=False, task="cslr", vocab=vocab)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=False, collate_fn=collate)
    lms = {}
    for lang, v in vocab.items():
        path = Path(lm) if lm else run_dir / f"lm_{lang}.arpa"
        if path.exists():
            lms[lang] = NGramLM.load(path).bind(v)
    hyps, refs, idx = decode_loader(run.model, loader, samples, vocab, lms=lms, lm_weight=lm_weight,
                                    insertion_bonus=insertion_bonus, beam_width=beam_width)
    summary = {"store": str(store), "split": split, "samples": len(refs)}
    for name, h in hyps.items():
        summary[name] = _wer_summary(refs, h)
    summary["wer"] = summary["greedy"]["wer"]
    out = Path(out_dir) if out_dir else run_dir / "eval" / Path(store).stem
    out.mkdir(parents=True, exist_ok=True)
    best = "beam_lm" if "beam_lm" in hyps else "beam"
    with open(out / "hypotheses.txt", "w", encoding="utf-8") as fh:
        for m, ref, hyp in zip(idx, refs, hyps[best]):
            fh.write(f"{samples.ids[m]}\tREF: {' '.join(ref)}\tHYP: {' '.join(hyp)}\n")
    (out / "metrics.json").write_text(json.dumps(summary, indent=1))
    summary["output"] = str(out)
    return summary
