"""Synthetic CTC posteriors from real gloss sequences, for tests and benchmarks of the decoders.

These are *not* model outputs. They imitate what a trained CTC head emits on
a signed sentence: "peaky" outputs where each gloss fires on one to three
frames and the blank holds every other frame, with Gaussian noise on all
logits, some glosses acoustically confused with another gloss (the
confuser's peak is about as high as the true one, so the frame alone cannot
tell them apart), and some glosses weak (a low peak that the blank
competes with). Decoder speed and the relative WER of decoders on such input
say how decoders behave; they do not predict a model's WER.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slr_pose.errors import SlrPoseError


@dataclass(frozen=True)
class PosteriorStyle:
    """How synthetic posteriors look (logit units).

    Attributes:
        peak: logit added to the true label on its frames (and to the blank elsewhere).
        noise: standard deviation of Gaussian noise on every logit.
        confusion: probability that a gloss is confused with a random other gloss.
        confusion_margin: std of (confuser peak - true peak) for confused glosses;
            the confuser wins the frame about half the time.
        weak: probability that a gloss's peak is low (``weak_peak``) and may vanish.
        weak_peak: logit of weak glosses.
    """

    peak: float = 11.0
    noise: float = 1.0
    confusion: float = 0.15
    confusion_margin: float = 1.0
    weak: float = 0.05
    weak_peak: float = 8.0


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``(..., C)`` logits, as float32."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return (x - np.log(np.exp(x).sum(axis=-1, keepdims=True))).astype(np.float32)


def synthetic_log_probs(tokens, n_frames: int, n_classes: int, rng: np.random.Generator,
                        style: PosteriorStyle = PosteriorStyle(), blank: int = 0) -> np.ndarray:  # fmt: skip
    """``(n_frames, n_classes)`` float32 log-softmax posteriors whose best reading is near ``tokens``.

    Args:
        tokens: gloss ids 1..C-1 of the sentence.
        n_frames: T; must leave room for every gloss and a blank between repeats.
        rng: the random generator (seed it to reproduce).
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    n = len(tokens)
    if n and (tokens.min() < 0 or tokens.max() >= n_classes or (tokens == blank).any()):
        raise SlrPoseError(f"synthetic posteriors need gloss ids in 1..{n_classes - 1} (not the blank)")
    widths = rng.integers(1, 4, size=n)  # frames each gloss fires on
    need = int(widths.sum()) + n + 1
    if n_frames < need:
        widths[:] = 1
        need = 2 * n + 1
    if n_frames < need:
        raise SlrPoseError(f"{n} glosses need at least {need} frames, got {n_frames}")
    # spread the blank frames: a gap of at least one blank between glosses, the rest at random
    gaps = np.ones(n + 1, dtype=np.int64)
    gaps += rng.multinomial(n_frames - int(widths.sum()) - (n + 1), np.full(n + 1, 1.0 / (n + 1)))
    logits = rng.normal(0.0, style.noise, size=(n_frames, n_classes)).astype(np.float32)
    is_label = np.zeros(n_frames, dtype=bool)
    t = int(gaps[0])
    for i, tok in enumerate(tokens):
        w = int(widths[i])
        weak = rng.random() < style.weak
        peak = style.weak_peak if weak else style.peak
        logits[t : t + w, tok] += peak
        if rng.random() < style.confusion:
            other = int(rng.integers(0, n_classes - 2))  # any class but the blank and the true gloss
            for skip in sorted((blank, int(tok))):
                other += other >= skip
            logits[t : t + w, other] += peak + rng.normal(0.0, style.confusion_margin)
        if weak:
            logits[t : t + w, blank] += peak - 1.0  # the blank competes with a weak gloss
        is_label[t : t + w] = True
        t += w + int(gaps[i + 1])
    logits[~is_label, blank] += style.peak
    return log_softmax(logits)
