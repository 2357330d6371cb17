"""Synthetic CTC posteriors from real gloss sequences, for tests and benchmarks of the decoders.

These are *not* model outputs. They imitate what a trained CTC head emits on
a signed sentence: "peaky" outputs where each gloss fires on one to three
frames and the blank holds every other frame, with Gaussian noise on all
logits, some glosses weak (a low peak that the blank competes with) and,
given :class:`Confusions`, some glosses confused with another gloss (the
confuser's peak about as high as the true one, or ahead of it, so the frame
alone cannot tell them apart).

*Which* gloss a true gloss is confused with decides what a language model can
gain on such input. A confuser drawn uniformly from the vocabulary is almost
never plausible in its sentence, so any gloss LM undoes it, and the LM's gain
then says more about how the input was made than about the LM.
:meth:`Confusions.from_counts` takes how often each gloss is confused, and
with what, from the confusion matrix of a trained recogniser on real data, so
the LM has to fix the errors a real model makes (signs that look alike are
often just as plausible in context). :meth:`Confusions.uniform` is the
uniform draw, for tests of decoder mechanics (and the speed benchmark) only.

Decoder speed and the relative WER of decoders on such input say how
decoders behave; they do not predict a model's WER.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from slr_pose.errors import SlrPoseError


@dataclass(frozen=True)
class PosteriorStyle:
    """How synthetic posteriors look (logit units).

    Attributes:
        peak: logit added to the true label on its frames (and to the blank elsewhere).
        noise: standard deviation of Gaussian noise on every logit.
        confusion_lead: mean of (confuser peak - true peak) for confused glosses:
            0 lets the confuser win about half the frames; 2 makes it the frame's
            best label nearly always, with the true gloss the runner-up.
        confusion_margin: standard deviation of (confuser peak - true peak).
        weak: probability that a gloss's peak is low (``weak_peak``) and may vanish.
        weak_peak: logit of weak glosses.
    """

    peak: float = 11.0
    noise: float = 1.0
    confusion_lead: float = 0.0
    confusion_margin: float = 1.0
    weak: float = 0.05
    weak_peak: float = 8.0


@dataclass(frozen=True)
class Confusions:
    """How often each class is confused with another, and with which; ids as in the posteriors.

    Attributes:
        rate: ``(C,)`` probability that a gloss is confused (0 for the blank).
        said: ``(C, C)`` row ``i``: probability that gloss ``j`` is the
            confuser when gloss ``i`` is confused (zero on the diagonal and in
            the blank's column, rows summing to 1 where ``rate > 0``); None:
            any class but the blank and ``i``, uniformly.
    """

    rate: np.ndarray
    said: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return len(self.rate)

    def draw(self, token: int, rng: np.random.Generator, blank: int = 0) -> int:
        """The confuser of ``token`` (one draw)."""
        if self.said is None:
            other = int(rng.integers(0, self.num_classes - 2))  # any class but the blank and the true gloss
            for skip in sorted((blank, int(token))):
                other += other >= skip
            return other
        return int(rng.choice(self.num_classes, p=self.said[token]))

    @classmethod
    def uniform(cls, n_classes: int, rate: float | np.ndarray = 0.15, blank: int = 0) -> "Confusions":
        """Confusers drawn uniformly from the other glosses (for decoder tests; see the module docs).

        ``rate`` is one probability for every gloss, or ``(C,)`` of them.
        """
        r = np.broadcast_to(np.asarray(rate, dtype=np.float64), (n_classes,)).copy()
        r[blank] = 0.0
        return cls(r)

    @classmethod
    def from_counts(cls, counts: np.ndarray, names: Sequence[str], glosses: Sequence[str],
                    prior: float = 2.0, blank: int = 0) -> "Confusions":  # fmt: skip
        """From a recogniser's confusion counts, for the CTC classes ``blank`` + ``glosses``.

        Args:
            counts: ``(K, K)`` counts over ``names``, rows = true gloss, columns = what the model said
                (as ``slr-pose evaluate`` writes them for an isolated-sign run).
            names: the K glosses of ``counts``.
            glosses: the CTC vocabulary; class id ``k + 1`` is ``glosses[k]`` (blank 0).
            prior: pseudo-samples that pull a gloss towards the pooled behaviour.
                A gloss seen ``n`` times with ``e`` errors is confused with
                probability ``(e + prior * E) / (n + prior)``, ``E`` the pooled
                error rate (a gloss never seen: ``E``); its confusers follow
                its own off-diagonal counts plus ``prior`` times the pooled
                distribution of what the model said wrongly, so a gloss with
                no errors of its own is confused like the model's errors at large.
        """
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape != (len(names), len(names)) or (counts < 0).any():
            raise SlrPoseError(f"confusion counts must be a square table over the {len(names)} names, without negatives")
        if blank != 0:
            raise SlrPoseError("confusions from counts need the blank at class 0")
        total = counts.sum()
        errors = total - np.trace(counts)
        if total == 0:
            raise SlrPoseError("the confusion table holds no samples")
        pooled = errors / total
        c = len(glosses) + 1
        where = {g: k + 1 for k, g in enumerate(glosses)}
        ids = np.array([where.get(n, -1) for n in names])
        kept = ids >= 0
        table = np.zeros((c, c))  # counts by CTC class; rows and columns of glosses the vocabulary lacks dropped
        table[np.ix_(ids[kept], ids[kept])] = counts[np.ix_(kept, kept)]
        seen = np.zeros(c)
        wrong = np.zeros(c)
        seen[ids[kept]] = counts[kept].sum(1)  # the rows' own totals count errors towards other vocabularies too
        wrong[ids[kept]] = seen[ids[kept]] - np.diag(counts)[kept]
        rate = np.divide(wrong + prior * pooled, seen + prior, out=np.full(c, pooled), where=seen + prior > 0)
        rate[blank] = 0.0
        off = table.copy()
        np.fill_diagonal(off, 0.0)
        said_wrongly = off.sum(0)  # (C,) how often each class was the wrong answer
        q = said_wrongly / said_wrongly.sum() if said_wrongly.sum() > 0 else np.full(c, 1.0)
        q[blank] = 0.0
        said = off + prior * q[None, :]
        np.fill_diagonal(said, 0.0)
        said[:, blank] = 0.0
        for i in range(1, c):
            if said[i].sum() <= 0:  # every error the model made was this gloss: any other gloss
                said[i] = 1.0
                said[i, [blank, i]] = 0.0
        said[1:] /= said[1:].sum(1, keepdims=True)
        said[blank] = 0.0
        return cls(rate, said)

    @classmethod
    def from_confusion_csv(cls, paths: str | Path | Iterable[str | Path], glosses: Sequence[str],
                           prior: float = 2.0) -> "Confusions":  # fmt: skip
        """From ``confusion_<language>.csv`` files of ``slr-pose evaluate`` (isolated-sign runs), summed.

        Several files (e.g. one run per seed) must list the same glosses in the same order.
        """
        paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        if not paths:
            raise SlrPoseError("no confusion table given")
        names, total = None, None
        for p in paths:
            n, m = read_confusion_csv(p)
            if names is not None and n != names:
                raise SlrPoseError(f"{p} lists other glosses than {paths[0]}: confusion tables must match to be summed")
            names, total = n, m if total is None else total + m
        return cls.from_counts(total, names, glosses, prior=prior)


def read_confusion_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """The glosses and ``(K, K)`` counts of a ``confusion_<language>.csv`` (header ``true \\ predicted, G1, ...``)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"cannot read confusion table {path} ({type(e).__name__}: {e})") from None
    if not rows or len(rows) != len(rows[0]) or any(len(r) != len(rows[0]) for r in rows):
        raise SlrPoseError(f"{path} is not a square confusion table (a header row, then one row per gloss)")
    names = rows[0][1:]
    if [r[0] for r in rows[1:]] != names:
        raise SlrPoseError(f"{path}: its rows do not name the glosses of its header, in order")
    try:
        counts = np.array([[int(v) for v in r[1:]] for r in rows[1:]], dtype=np.int64).reshape(len(names), len(names))
    except ValueError:
        raise SlrPoseError(f"{path} holds a count that is not a whole number") from None
    return names, counts


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``(..., C)`` logits, as float32."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return (x - np.log(np.exp(x).sum(axis=-1, keepdims=True))).astype(np.float32)


def synthetic_log_probs(tokens, n_frames: int, n_classes: int, rng: np.random.Generator,
                        style: PosteriorStyle = PosteriorStyle(), blank: int = 0,
                        confusions: Confusions | None = None) -> np.ndarray:  # fmt: skip
    """``(n_frames, n_classes)`` float32 log-softmax posteriors whose best reading is near ``tokens``.

    Args:
        tokens: gloss ids 1..C-1 of the sentence.
        n_frames: T; must leave room for every gloss and a blank between repeats.
        rng: the random generator (seed it to reproduce).
        confusions: which glosses get a competing peak, and whose; None: none do.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    n = len(tokens)
    if n and (tokens.min() < 0 or tokens.max() >= n_classes or (tokens == blank).any()):
        raise SlrPoseError(f"synthetic posteriors need gloss ids in 1..{n_classes - 1} (not the blank)")
    if confusions is not None and confusions.num_classes != n_classes:
        raise SlrPoseError(f"the confusions cover {confusions.num_classes} classes, the posteriors {n_classes}")
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
        if confusions is not None and rng.random() < confusions.rate[tok]:
            other = confusions.draw(int(tok), rng, blank)
            logits[t : t + w, other] += peak + style.confusion_lead + rng.normal(0.0, style.confusion_margin)
        if weak:
            logits[t : t + w, blank] += peak - 1.0  # the blank competes with a weak gloss
        is_label[t : t + w] = True
        t += w + int(gaps[i + 1])
    logits[~is_label, blank] += style.peak
    return log_softmax(logits)
