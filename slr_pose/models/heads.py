"""Heads on top of an encoder: masked pooling, language-gated classifiers, sign boundaries.

One encoder is shared by every sign language; each language has its own
classifier. :class:`LanguageGatedHead` runs all of them as one matrix product
and gathers the row of each sample's language, so a whole model is one graph
that takes a language id (``(N,)`` int64, indices into the ``classes`` dict,
in its order) and can be exported as such. Logits past a language's class
count are :data:`MASKED_LOGIT`, so softmax gives them probability 0 and argmax
never picks them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from slr_pose.errors import SlrPoseError

#: Logit given to classes a sample's language does not have. exp() of it is 0 in
#: float32, and it stays finite in float16 (so no inf - inf = NaN downstream).
MASKED_LOGIT = -1.0e4


def is_eager() -> bool:
    """False while a graph is traced or exported: value checks would break the trace."""
    return not (
        torch.jit.is_tracing()
        or torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.onnx.is_in_onnx_export()
    )


def check_classes(classes: dict[str, int]) -> dict[str, int]:
    """Validate ``{language tag: number of classes}`` and return a copy."""
    if not isinstance(classes, dict) or not classes:
        raise SlrPoseError(f"classes must be a non-empty dict of language -> number of classes, got {classes!r}")
    for lang, n in classes.items():
        if not isinstance(lang, str) or not lang or "." in lang:
            raise SlrPoseError(f"language tag {lang!r} must be a non-empty string without '.'")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise SlrPoseError(f"language {lang!r} has {n!r} classes; expected a positive integer")
    return dict(classes)


class MaskedPool(nn.Module):
    """Pool ``(N, T', D)`` features over real steps -> ``(N, D)``.

    Args:
        num_features: D.
        mode: ``"mean"`` (masked mean) or ``"attention"`` (a learnt score per
            step, softmax over real steps, weighted sum).
    """

    def __init__(self, num_features: int, mode: str = "mean") -> None:
        super().__init__()
        if mode not in ("mean", "attention"):
            raise SlrPoseError(f"unknown pooling {mode!r}; choose 'mean' or 'attention'")
        self.mode = mode
        self.score = nn.Linear(num_features, 1) if mode == "attention" else None

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.score is None:
            if mask is None:
                return features.mean(1)
            w = mask.to(features.dtype)[..., None]
            return (features * w).sum(1) / w.sum(1).clamp(min=1.0)
        scores = self.score(features)  # (N, T', 1)
        if mask is not None:
            # a sample with no real step keeps finite scores; its weights are then zeroed
            scores = scores.masked_fill(~mask[..., None], MASKED_LOGIT)
        weights = torch.softmax(scores, dim=1)
        if mask is not None:
            weights = weights * mask.any(1).to(features.dtype)[:, None, None]
        return (features * weights).sum(1)


class LanguageGatedHead(nn.Module):
    """One linear classifier per language, selected per sample by a language id.

    Args:
        num_features: D.
        classes: ``{language tag: number of classes}``; language ids index
            this dict in its order.

    Shapes:
        features ``(N, ..., D)`` and language ``(N,)`` int64 -> logits
        ``(N, ..., C_max)`` with ``C_max = max(classes.values())``; entries
        at and past a sample's class count are :data:`MASKED_LOGIT`.
    """

    def __init__(self, num_features: int, classes: dict[str, int]) -> None:
        super().__init__()
        self.classes = check_classes(classes)
        self.languages = list(self.classes)
        self.num_features = num_features
        self.max_classes = max(self.classes.values())
        self.heads = nn.ModuleDict({lang: nn.Linear(num_features, n) for lang, n in self.classes.items()})
        counts = torch.tensor(list(self.classes.values()))
        self.register_buffer("valid", torch.arange(self.max_classes)[None] < counts[:, None], persistent=False)

    def forward(self, features: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        n, lead, d = features.shape[0], features.shape[1:-1], features.shape[-1]
        num_lang, c = len(self.languages), self.max_classes
        if is_eager() and language.numel() and (language.min() < 0 or language.max() >= num_lang):
            bad = language[(language < 0) | (language >= num_lang)][0].item()
            raise SlrPoseError(f"language id {bad} is not in 0..{num_lang - 1} ({', '.join(self.languages)})")
        # every head as one (L * C_max, D) matrix, rows past a head's classes zero
        weight = torch.stack([F.pad(h.weight, (0, 0, 0, c - h.out_features)) for h in self.heads.values()])
        bias = torch.stack([F.pad(h.bias, (0, c - h.out_features)) for h in self.heads.values()])
        flat = features.reshape(n, -1, d)  # (N, M, D)
        every = (flat @ weight.view(num_lang * c, d).T + bias.view(-1)).view(n, -1, num_lang, c)
        index = language.view(n, 1, 1, 1).expand(n, flat.shape[1], 1, c)
        logits = every.gather(2, index).squeeze(2)  # (N, M, C_max)
        valid = self.valid[language][:, None, :]  # (N, 1, C_max)
        logits = logits.masked_fill(~valid, MASKED_LOGIT)
        return logits.reshape(n, *lead, c)

    def language_ids(self, tags: list[str] | tuple[str, ...]) -> torch.Tensor:
        """Language tags -> ``(N,)`` int64 ids for :meth:`forward`."""
        index = {lang: i for i, lang in enumerate(self.languages)}
        unknown = [t for t in tags if t not in index]
        if unknown:
            raise SlrPoseError(f"unknown language {unknown[0]!r}; this model has {', '.join(self.languages)}")
        return torch.tensor([index[t] for t in tags], dtype=torch.long)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, classes={self.classes}"


class BoundaryHead(nn.Module):
    """Regress where the sign starts and ends inside the sampled clip.

    Outputs ``(N, 2)``: start and end in clip-length units (0 = first real
    frame of the clip, 1 = its last). Training targets lie in [0, 1]: a sign
    that began before the clip, or ended after it, has its boundary clamped
    to the clip's edge (see :func:`slr_pose.training.data.relative_boundary`).
    The loss compares ``2 sigmoid(.) - 1`` of prediction and target (see
    :func:`slr_pose.models.losses.boundary_loss`), so the raw output is the
    estimate itself.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(num_features, 2)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features)
