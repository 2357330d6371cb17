"""Landmarks of one clip -> class probabilities; one video or stored sample -> its top-k signs.

A *model* here is anything with a :class:`~slr_pose.runtime.card.ModelCard`
as ``card`` and ``outputs(x, language, frame_mask) -> (logits (N, K_max),
boundary (N, 2) or None)`` on NumPy arrays (the boundary: sign start/end in
clip units, from a model with a boundary head): :class:`~slr_pose.runtime.onnx_model.OnnxModel` (no torch), or a run
directory's torch model (:class:`slr_pose.inference.torch_model.TorchModel`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from slr_pose.keypoints.extraction.video import read_or_extract
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample
from slr_pose.runtime.card import ModelCard


class Model(Protocol):
    card: ModelCard
    has_boundary: bool

    def outputs(self, x: np.ndarray, language: np.ndarray,
                frame_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis (float64, so long-tailed logits do not underflow to a zero sum)."""
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def clip_fractions(boundary: np.ndarray, source_index: np.ndarray, frame_mask: np.ndarray,
                   frames: int) -> tuple[float, float]:
    """A boundary head's ``(2,)`` start/end (fractions of the model's real input frames, as in training) as
    fractions of the ``frames`` stored frames they came from (0: the first, 1: the last), clamped to [0, 1]."""
    src = np.asarray(source_index, np.float64)[np.asarray(frame_mask, bool)]
    b = np.clip(np.asarray(boundary, np.float64), 0.0, 1.0)
    if len(src) < 2 or frames < 2:
        return float(b[0]), float(b[1])
    order = np.argsort(src, kind="stable")
    idx = np.interp(b, np.arange(len(src)) / (len(src) - 1), src[order])
    start, end = np.clip(idx / (frames - 1), 0.0, 1.0)
    return float(start), float(end)


@dataclass
class Timings:
    """Seconds spent in each stage so far (for ``live``'s summary and the benchmarks)."""

    normalisation: float = 0.0
    model: float = 0.0
    calls: int = 0


class Recogniser:
    """One language head of a model, with its normalisation for landmarks of one layout.

    Args:
        model: see the module docstring.
        layout: the layout of the samples it will see (the extractor's, or a store's).
        language: the head to use (empty: the model's only language).
        **overrides: preprocessing fields to change (``live`` resamples windows with ``fps``).

    Raises:
        SlrPoseError: an unknown language, or a layout without the model's landmarks.
    """

    def __init__(self, model: Model, layout: Layout, language: str = "", **overrides: Any) -> None:
        self.model = model
        self.card = model.card
        self.language = self.card.language(language)
        self.classes = self.card.classes[self.language]
        self.preprocessor = self.card.preprocessor(layout, **overrides)
        self._lang = np.array([self.card.languages.index(self.language)], np.int64)
        self.has_boundary = bool(getattr(model, "has_boundary", False))
        self.timings = Timings()

    def probabilities(self, sample: Sample) -> np.ndarray:
        """``(K,)`` float64 class probabilities of one clip of the recogniser's layout."""
        return self.score(sample)[0]

    def score(self, sample: Sample) -> tuple[np.ndarray, tuple[float, float] | None]:
        """Class probabilities of one clip, and where in it the sign is when the model has a boundary head.

        Returns:
            ``(K,)`` float64 probabilities, and ``(start, end)`` as fractions of
            the clip's stored frames (0: its first frame, 1: its last), or None
            for a model without a boundary head.
        """
        t0 = time.perf_counter()
        out = self.preprocessor(sample)
        t1 = time.perf_counter()
        logits, boundary = self.model.outputs(out.x[None], self._lang, out.frame_mask[None])
        t2 = time.perf_counter()
        self.timings.normalisation += t1 - t0
        self.timings.model += t2 - t1
        self.timings.calls += 1
        span = None if boundary is None else clip_fractions(boundary[0], out.source_index, out.frame_mask, len(sample.xyz))
        return softmax(logits[0, : len(self.classes)]), span

    def top(self, probs: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` most probable classes, best first, as ``(class, probability)``."""
        order = np.argsort(-probs, kind="stable")[:k]
        return [(self.classes[i], float(probs[i])) for i in order]


@dataclass
class Recognition:
    """The top-k signs of one clip."""

    language: str
    top: list[tuple[str, float]]  # (class, probability), best first
    frames: int
    glosses: list = field(default_factory=list)  # continuous signing only; the runtime has none

    def to_json(self) -> dict:
        return {"language": self.language, "frames": self.frames,
                "top": [{"label": c, "probability": round(p, 6)} for c, p in self.top]}


def recognise(model: Model, source: str | Path, *, sample_id: str | None = None, language: str = "",
              top_k: int = 5) -> Recognition:
    """The top-k signs of a video (landmarks extracted now, with the model's extractor settings) or a stored sample.

    Raises:
        SlrPoseError: a missing file, something that is neither a video nor a
            pose store, a video MediaPipe finds no person in, a layout mismatch.
    """
    sample = read_or_extract(source, sample_id, model.card.extract_options)
    rec = Recogniser(model, sample.layout_or(), language)
    return Recognition(rec.language, rec.top(rec.probabilities(sample), top_k), len(sample.xyz))
