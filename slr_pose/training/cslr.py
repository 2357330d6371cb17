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
from pathlib import Path

import torch

from slr_pose.decoding.lm import NGramLM
from slr_pose.decoding.lm_tables import BoundLM
from slr_pose.decoding.vocab import Vocabulary
from slr_pose.errors import SlrPoseError
from slr_pose.models.losses import ctc_loss, gated_cross_entropy
from slr_pose.training.config import Config
from slr_pose.training.cslr_decoding import (
    DECODERS,
    DecoderSettings,
    decode_loader,
    posteriors,
    tune,
    wer_summary,
)
from slr_pose.training.data import collate, load_samples
from slr_pose.training.labels import LabelSpace
from slr_pose.training.modeling import build_ctc_model
from slr_pose.training.task import Task


class CSLRTask(Task):
    """Continuous signing: a gloss sequence per sample, CTC with one head per language (and gloss spans)."""

    task = "cslr"
    score_name = "neg_wer"

    def __init__(self, config: Config) -> None:
        if config.model.gloss_head and config.data.target != "glosses":
            raise SlrPoseError("model.gloss_head classifies annotated gloss spans: it needs data.target glosses "
                               "(transcript words have no spans)")
        super().__init__(config, load_samples(config.data, "cslr"))

    def label_space(self, train) -> LabelSpace:
        s = self.samples
        words: dict[str, set[str]] = {}
        for m in train:
            words.setdefault(s.language[m], set()).update(s.glosses[m])
        self.vocab = {lang: Vocabulary(sorted(words[lang])) for lang in sorted(words)}
        return LabelSpace({lang: v.glosses for lang, v in self.vocab.items()})

    def build_model(self) -> torch.nn.Module:
        sizes = {k: len(v.glosses) for k, v in self.vocab.items()}
        return build_ctc_model(self.config.model, sizes, self.preprocessors[0])

    def dataset_options(self) -> dict:
        return {"task": "cslr", "vocab": self.vocab}

    def training_options(self) -> dict:
        return {"spans": self.config.model.gloss_head}

    def loss(self, model: torch.nn.Module, batch: dict, step_seed: int) -> tuple[torch.Tensor, dict]:
        """CTC loss; with the gloss head, plus ``gloss_weight`` x cross-entropy over the annotated spans."""
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
        return wer_summary(self.vocab, posts, decoded["greedy"], self.samples)

    def meta(self) -> dict:
        return {
            **super().meta(),
            "labels": {lang: list(v.glosses) for lang, v in self.vocab.items()},
            "target": self.config.data.target,
        }

    def finish(self, run_dir: Path) -> None:
        """Fit and save a gloss LM per language on the training sequences; pick the decoder weights on validation."""
        train = self.samples.where("train")
        lms = {}
        for lang, v in self.vocab.items():
            seqs = [self.samples.glosses[m] for m in train if self.samples.language[m] == lang]
            lm = NGramLM.train(seqs, order=3)
            lm.save(run_dir / f"lm_{lang}.arpa")
            lms[lang] = BoundLM(lm, v)
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


