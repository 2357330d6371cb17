"""Landmarks of one clip -> class probabilities; one video or stored sample -> its top-k signs.

A *model* here is anything with a :class:`~slr_pose.runtime.card.ModelCard`
as ``card`` and ``logits(x, language, frame_mask) -> (N, K_max)`` NumPy
logits: :class:`~slr_pose.runtime.onnx_model.OnnxModel` (no torch), or a run
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

    def logits(self, x: np.ndarray, language: np.ndarray, frame_mask: np.ndarray) -> np.ndarray: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis (float64, so long-tailed logits do not underflow to a zero sum)."""
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


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
        self.timings = Timings()

    def probabilities(self, sample: Sample) -> np.ndarray:
        """``(K,)`` float64 class probabilities of one clip of the recogniser's layout."""
        t0 = time.perf_counter()
        out = self.preprocessor(sample)
        t1 = time.perf_counter()
        logits = self.model.logits(out.x[None], self._lang, out.frame_mask[None])[0, : len(self.classes)]
        t2 = time.perf_counter()
        self.timings.normalisation += t1 - t0
        self.timings.model += t2 - t1
        self.timings.calls += 1
        return softmax(logits)

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
