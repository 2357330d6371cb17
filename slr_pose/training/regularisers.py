"""Training regularisers of the strongest small-data pose recipes: weight EMA, class-balanced order, late dropout, AWP.

Each is a ``train`` option, off by default (``benchmarks/recipe.py`` measures
what each does on real sets):

* ``ema``: an exponential moving average of the weights (and BN statistics),
  torch's :class:`~torch.optim.swa_utils.AveragedModel`; the average is what
  is validated, kept as ``best.pt`` and exported. The decay ramps up as
  ``min(ema, (1 + n) / (10 + n))`` after n updates, so a short run is not
  dominated by its random initial weights.
* ``sampler: balanced``: each epoch draws as many samples as the training set
  has, with replacement, each class (language, label) equally likely;
  the draw depends only on (seed, epoch), so resumed runs see the same order.
* ``late_dropout``: dropout on the pooled features, switched on after
  ``late_start`` of the epochs (the Kaggle asl-signs 1st place's late dropout).
* ``awp``: adversarial weight perturbation (Wu et al., 2020) after
  ``late_start``: each step also descends the loss at weights moved up its
  gradient by ``awp`` times each weight matrix's norm.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from slr_pose.errors import SlrPoseError


def make_ema(model: torch.nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel | None:
    """The weight average of ``model`` for ``train.ema`` (None when 0)."""
    if decay <= 0:
        return None

    def average(avg: torch.Tensor, new: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        d = min(decay, (1.0 + float(n)) / (10.0 + float(n)))
        return avg + (new - avg) * (1.0 - d) if avg.is_floating_point() else new

    return torch.optim.swa_utils.AveragedModel(model, avg_fn=average, use_buffers=True)


def balanced_order(keys: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """``len(keys)`` dataset positions drawn with replacement, each distinct key (class) equally likely."""
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    weights = torch.as_tensor(1.0 / counts[inverse], dtype=torch.float64)
    g = torch.Generator().manual_seed(seed * 100_003 + epoch + 7)
    return torch.multinomial(weights, len(keys), replacement=True, generator=g).numpy()


def class_keys(dataset) -> np.ndarray:
    """``(N,)`` class keys (``language/label``) of an isolated-sign dataset's samples, for balanced sampling."""
    s, idx = dataset.samples, dataset.indices
    return np.array([f"{lang}/{label}" for lang, label in zip(s.language[idx], s.label[idx])], dtype=object)


def late(epoch: int, epochs: int, start: float) -> bool:
    """Whether ``epoch`` (from 0) is past ``start`` (a fraction) of the run's epochs."""
    return epoch >= int(round(start * epochs))


def set_late_dropout(model: torch.nn.Module, p: float) -> None:
    """Set the dropout on the pooled features of a :class:`~slr_pose.models.Recognizer`."""
    dropout = getattr(model, "dropout", None)
    if not isinstance(dropout, torch.nn.Dropout):
        raise SlrPoseError(f"train.late_dropout needs a model with feature dropout; {type(model).__name__} has none")
    dropout.p = p


class AWP:
    """Adversarial weight perturbation of the weight matrices (``ndim > 1``) of a model.

    :meth:`perturbed` moves each weight ``w`` with a gradient ``g`` to
    ``w + size * |w| * g / |g|`` for the length of a ``with`` block and puts
    the exact weights back after it.
    """

    def __init__(self, model: torch.nn.Module, size: float) -> None:
        self.size = size
        self.params = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]

    @contextlib.contextmanager
    def perturbed(self):
        saved = []
        with torch.no_grad():
            for p in self.params:
                if p.grad is None:
                    continue
                g = p.grad.norm()
                if not torch.isfinite(g) or g == 0:
                    continue
                saved.append((p, p.detach().clone()))
                p.add_(p.grad * (self.size * p.norm() / g))
        try:
            yield
        finally:
            with torch.no_grad():
                for p, w in saved:
                    p.copy_(w)
