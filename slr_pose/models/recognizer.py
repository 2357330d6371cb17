"""Isolated sign recognition: one shared encoder, one classifier per sign language.

A :class:`Recognizer` is ``encoder -> masked pooling -> dropout ->
language-gated head`` (plus, optionally, the auxiliary sign-boundary head of
Logos). It is trained on mixed batches of several languages (each sample's
``language`` id picks its head), transferred to new languages with
:meth:`Recognizer.reset_classifier`, and fine-tuned few-shot with a frozen
encoder via :meth:`Recognizer.freeze_encoder`.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.heads import BoundaryHead, LanguageGatedHead, MaskedPool


class RecognizerOutput(NamedTuple):
    """What :meth:`Recognizer.forward` returns.

    Attributes:
        logits: ``(N, C_max)``; classes a sample's language lacks are masked.
        boundary: ``(N, 2)`` sign start/end in clip units, or None without a boundary head.
        features: ``(N, D)`` pooled encoder features (for retrieval, VSSign grouping, probes).
    """

    logits: torch.Tensor
    boundary: torch.Tensor | None
    features: torch.Tensor


class EncoderModel(nn.Module):
    """A model built around one ``self.encoder`` that can be frozen for few-shot training."""

    encoder: PoseEncoder
    encoder_frozen: bool = False

    def freeze_encoder(self, frozen: bool = True) -> None:
        """Stop (or resume) training the encoder: no gradients, and its BN statistics stay fixed."""
        self.encoder_frozen = frozen
        for p in self.encoder.parameters():
            p.requires_grad_(not frozen)
        self.encoder.train(self.training and not frozen)

    def train(self, mode: bool = True) -> "EncoderModel":
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()  # a frozen encoder must not update its running statistics
        return self


class Recognizer(EncoderModel):
    """Encoder + language-gated classification head.

    Args:
        encoder: any encoder from :func:`slr_pose.models.create_model`.
        classes: ``{language tag: number of classes}``; ``language`` ids index it in order.
        boundary: add the sign-boundary head.
        dropout: dropout on the pooled features before the heads.
        pooling: ``"mean"`` or ``"attention"`` over the encoder's real steps.

    Example::

        enc = create_model(DEFAULT_MODEL, in_channels=3, num_nodes=57, adjacency=A)
        model = Recognizer(enc, {"rsl": 1000, "asl": 2000}, boundary=True)
        out = model(x, model.language_ids(["rsl", "asl"]), frame_mask)
    """

    def __init__(self, encoder: PoseEncoder, classes: dict[str, int], boundary: bool = False,
                 dropout: float = 0.0, pooling: str = "mean") -> None:
        super().__init__()
        self.encoder = encoder
        self.pool = MaskedPool(encoder.num_features, pooling)
        self.dropout = nn.Dropout(dropout)  # p may change in training (train.late_dropout)
        self.head = LanguageGatedHead(encoder.num_features, classes)
        self.boundary_head = BoundaryHead(encoder.num_features) if boundary else None
        self.encoder_frozen = False

    @property
    def classes(self) -> dict[str, int]:
        return dict(self.head.classes)

    @property
    def languages(self) -> list[str]:
        return list(self.head.languages)

    def language_ids(self, tags: list[str] | tuple[str, ...]) -> torch.Tensor:
        """Language tags -> ``(N,)`` int64 ids."""
        return self.head.language_ids(tags)

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, C, T, V)``, ``(N, T)`` -> pooled ``(N, D)`` features."""
        feats = self.encoder.forward_features(x, frame_mask)
        return self.pool(feats, self.encoder.feature_mask(frame_mask))

    def forward_head(self, features: torch.Tensor, language: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Pooled ``(N, D)`` features -> ``(logits (N, C_max), boundary (N, 2) or None)``."""
        h = self.dropout(features)
        boundary = None if self.boundary_head is None else self.boundary_head(h)
        return self.head(h, language), boundary

    def forward(self, x: torch.Tensor, language: torch.Tensor,
                frame_mask: torch.Tensor | None = None) -> RecognizerOutput:
        features = self.forward_features(x, frame_mask)
        logits, boundary = self.forward_head(features, language)
        return RecognizerOutput(logits, boundary, features)

    def reset_classifier(self, classes: dict[str, int]) -> None:
        """Replace the classifiers by fresh ones for ``classes`` (new languages or class lists).

        The encoder, pooling and boundary head are kept.
        """
        device = next(self.head.parameters()).device
        self.head = LanguageGatedHead(self.encoder.num_features, classes).to(device)


def load_encoder_state(model: nn.Module, state_dict: Mapping[str, torch.Tensor], *, source: str = "the state dict",
                       prefix: str = "encoder.") -> int:
    """Load the encoder weights of a saved model (e.g. an ISLR :class:`Recognizer`) into ``model.encoder``.

    Heads are not copied: the new model has its own languages and classes.

    Args:
        model: anything with an ``encoder`` attribute (Recognizer, CTCRecognizer).
        state_dict: the source model's ``state_dict()``; keys under ``prefix`` are used.
        source: where the weights come from, for messages.

    Returns:
        The number of tensors copied.

    Raises:
        SlrPoseError: when the source has no encoder weights or they do not fit.
    """
    enc = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not enc:
        raise SlrPoseError(f"{source} has no weights under {prefix!r}")
    own = model.encoder.state_dict()
    differ = [k for k in own if k not in enc] + [k for k in enc if k not in own]
    shapes = [k for k in own if k in enc and enc[k].shape != own[k].shape]
    if differ or shapes:
        k = (differ or shapes)[0]
        detail = k if differ else f"{k} has shape {tuple(enc[k].shape)}, this model {tuple(own[k].shape)}"
        raise SlrPoseError(
            f"the encoder in {source} does not fit this model ({len(differ) + len(shapes)} tensors differ, e.g. {detail}): "
            "weights that do not fit are not loaded; use the same model, subset and streams"
        )
    model.encoder.load_state_dict(enc)
    return len(enc)
