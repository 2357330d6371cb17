"""Continuous sign recognition: encoder -> sequence model -> per-language CTC heads.

A :class:`CTCRecognizer` reads a whole signed sentence ``(N, C, T, V)`` and
emits, at every output step, log-probabilities over blank (index 0) and the
glosses of the sample's language (1..K_l); steps are ``temporal_stride *
downsample`` frames apart. The encoder is the same kind as in isolated
recognition and can start from an ISLR model's weights
(:func:`slr_pose.models.recognizer.load_encoder_state`), as KRSL-OnlineSchool
and Logos pre-train on isolated signs.

Where gloss spans are annotated (start/end frame of each gloss), an optional
per-gloss head classifies the sequence features averaged over each span: a
cheap alignment signal next to CTC (:meth:`CTCRecognizer.span_logits`, train
with :func:`slr_pose.models.losses.gated_cross_entropy` on target gloss - 1).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.heads import LanguageGatedHead, check_classes
from slr_pose.models.recognizer import EncoderModel
from slr_pose.models.transformer import (
    TransformerBlock,
    attention_mask,
    sinusoidal_positions,
)

SEQUENCE_MODELS = ("bilstm", "transformer")


class CTCOutput(NamedTuple):
    """``log_probs (N, T'', 1 + K_max)`` (log-softmax; other languages' glosses masked)
    and ``out_lengths (N,)`` int64, the real output steps per sample."""

    log_probs: torch.Tensor
    out_lengths: torch.Tensor


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each ``(T, H)`` sequence of ``(N, T, H)`` within its first ``lengths[n]`` steps.

    Steps past the length stay in place, so a backward RNN meets the real
    steps first and its outputs there ignore the padding. Its own inverse.
    """
    t = torch.arange(x.shape[1], device=x.device)[None]  # (1, T)
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    # advanced indexing rather than gather(expand_as(x)): the exporter loses the time
    # axis of an LSTM output in expand_as, fixing it to the traced length
    return x[torch.arange(x.shape[0], device=x.device)[:, None], index]


class BiLSTM(nn.Module):
    """Stacked bidirectional LSTM that respects each sequence's length (no packing, so it exports)."""

    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        if hidden % 2:
            raise SlrPoseError(f"bilstm hidden size {hidden} must be even (half per direction)")
        self.forward_rnns = nn.ModuleList(nn.LSTM(hidden, hidden // 2, batch_first=True) for _ in range(layers))
        self.backward_rnns = nn.ModuleList(nn.LSTM(hidden, hidden // 2, batch_first=True) for _ in range(layers))
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1)
        for i, (fwd, bwd) in enumerate(zip(self.forward_rnns, self.backward_rnns)):
            if i:
                x = self.drop(x)
            ahead, _ = fwd(x)
            back, _ = bwd(reverse_within_length(x, lengths))
            x = torch.cat([ahead, reverse_within_length(back, lengths)], dim=-1)
        return x


class SequenceTransformer(nn.Module):
    """Sinusoidal positions + masked transformer blocks."""

    def __init__(self, hidden: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock(hidden, heads, 2.0, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], x)
        attn = attention_mask(mask)
        for block in self.blocks:
            x = block(x, attn)
        return self.norm(x)


class CTCRecognizer(EncoderModel):
    """Encoder + sequence model + language-gated CTC heads.

    Args:
        encoder: any encoder from :func:`slr_pose.models.create_model`.
        vocab: ``{language tag: number of glosses K}``; blank is 0, glosses 1..K.
        sequence_model: ``"bilstm"`` or ``"transformer"``.
        hidden: width of the sequence model.
        layers: its depth.
        downsample: extra temporal average pooling after the encoder (1 = none).
        dropout: dropout in and before the sequence model.
        heads: attention heads (transformer only).
        gloss_head: add the per-gloss span classifier.

    Shapes:
        ``x (N, C, T, V)``, ``language (N,)``, ``frame_mask (N, T)`` (real frames
        first) -> ``log_probs (N, T'', 1 + K_max)``, ``out_lengths (N,)`` with
        ``T'' = ceil(T / (temporal_stride * downsample))``.
    """

    def __init__(self, encoder: PoseEncoder, vocab: dict[str, int], sequence_model: str = "bilstm",
                 hidden: int = 256, layers: int = 2, downsample: int = 1, dropout: float = 0.1,
                 heads: int = 4, gloss_head: bool = False) -> None:
        super().__init__()
        self.vocab = check_classes(vocab)
        if sequence_model not in SEQUENCE_MODELS:
            raise SlrPoseError(f"unknown sequence model {sequence_model!r}; choose one of {', '.join(SEQUENCE_MODELS)}")
        if downsample < 1:
            raise SlrPoseError(f"downsample must be >= 1, got {downsample}")
        self.encoder = encoder
        self.encoder_frozen = False
        self.sequence_model = sequence_model
        self.downsample = int(downsample)
        self.proj = nn.Sequential(nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
                                  nn.Linear(encoder.num_features, hidden))
        if sequence_model == "bilstm":
            self.sequence: nn.Module = BiLSTM(hidden, layers, dropout)
        else:
            self.sequence = SequenceTransformer(hidden, layers, heads, dropout)
        self.head = LanguageGatedHead(hidden, {lang: 1 + k for lang, k in self.vocab.items()})
        self.gloss_head = LanguageGatedHead(hidden, self.vocab) if gloss_head else None

    @property
    def languages(self) -> list[str]:
        return list(self.vocab)

    @property
    def total_stride(self) -> int:
        """Input frames per output step."""
        return self.encoder.temporal_stride * self.downsample

    def language_ids(self, tags: list[str] | tuple[str, ...]) -> torch.Tensor:
        return self.head.language_ids(tags)

    def output_lengths(self, frame_lengths: torch.Tensor) -> torch.Tensor:
        """Real output steps for clips of ``frame_lengths`` real frames: ``ceil(len / total_stride)``."""
        return torch.div(frame_lengths + self.total_stride - 1, self.total_stride, rounding_mode="floor")

    def forward_sequence(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, C, T, V)`` -> sequence features ``(N, T'', hidden)`` and their mask ``(N, T'')``."""
        if frame_mask is None:
            frame_mask = torch.ones(x.shape[0], x.shape[2], dtype=torch.bool, device=x.device)
        feats = self.encoder.forward_features(x, frame_mask)
        mask = self.encoder.feature_mask(frame_mask)
        if self.downsample > 1:
            feats, mask = _masked_avg_pool(feats, mask, self.downsample)
        h = self.proj(feats) * mask[..., None].to(feats.dtype)
        return self.sequence(h, mask), mask

    def ctc_log_probs(self, sequence: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        """Sequence features ``(N, T'', H)`` -> ``(N, T'', 1 + K_max)`` log-probabilities."""
        return torch.log_softmax(self.head(sequence, language), dim=-1)

    def forward(self, x: torch.Tensor, language: torch.Tensor, frame_mask: torch.Tensor | None = None,
                spans: torch.Tensor | None = None):
        """:class:`CTCOutput`; with ``spans`` the pair ``(CTCOutput, span_logits)``.

        Both come from one forward call so that a DistributedDataParallel
        wrapper sees the gloss head's parameters used (see :meth:`span_logits`).
        """
        sequence, mask = self.forward_sequence(x, frame_mask)
        out = CTCOutput(self.ctc_log_probs(sequence, language), mask.sum(1))
        return out if spans is None else (out, self.span_logits(sequence, spans, language))

    def span_logits(self, sequence: torch.Tensor, spans: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        """Classify each annotated gloss span from the mean sequence feature over it.

        Args:
            sequence: ``(N, T'', H)`` from :meth:`forward_sequence`.
            spans: ``(N, S, 2)`` int64 ``[start, end)`` in input frames (padding spans: end <= start).
            language: ``(N,)``.

        Returns:
            ``(N, S, K_max)`` logits over glosses (class ``g - 1`` is gloss id ``g``).
        """
        if self.gloss_head is None:
            raise SlrPoseError("this CTCRecognizer was built without gloss_head=True")
        s = self.total_stride
        first = torch.div(spans[..., 0], s, rounding_mode="floor")
        last = torch.div(spans[..., 1] + s - 1, s, rounding_mode="floor")  # exclusive, ceil
        steps = torch.arange(sequence.shape[1], device=sequence.device)
        inside = ((steps >= first[..., None]) & (steps < last[..., None])).to(sequence.dtype)  # (N, S, T'')
        pooled = inside @ sequence / inside.sum(-1, keepdim=True).clamp(min=1.0)  # (N, S, H)
        return self.gloss_head(pooled, language)


def _masked_avg_pool(feats: torch.Tensor, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Average each window of ``k`` steps over its real steps; a window is real when its first step is."""
    n, t, d = feats.shape
    pad = (-t) % k
    w = mask.to(feats.dtype)
    f = nn.functional.pad(feats * w[..., None], (0, 0, 0, pad)).view(n, -1, k, d).sum(2)
    c = nn.functional.pad(w, (0, pad)).view(n, -1, k).sum(2)
    return f / c.clamp(min=1.0)[..., None], mask[:, ::k]

