"""What every pose encoder offers, and how padded frames are kept out of it.

Tensor layouts used throughout :mod:`slr_pose.models`:

- ``x``: ``(N, C, T, V)`` float32: batch, channels per landmark, frames,
  landmarks (nodes of the skeleton graph).
- ``frame_mask``: ``(N, T)`` bool, True on real frames. Padding is expected
  at the end of a clip; masked frames may hold any finite values.
- features: ``(N, T', D)`` with ``T' = ceil(T / temporal_stride)``, and their
  mask ``(N, T')``: step ``t'`` is real when frame ``t' * temporal_stride`` is.

Why masked frames cannot leak in (for encoders with ``masks_padding``):
convolutions over time are centred and zero-padded, so a clip padded with
zeroed frames gives the same real outputs as the bare clip. The encoders
therefore zero masked steps right before every layer that mixes time, and
use masked means and attention masks where they average or attend over time.
"""

from __future__ import annotations

import torch
from torch import nn

from slr_pose.errors import SlrPoseError


class PoseEncoder(nn.Module):
    """Base class: maps ``(N, C, T, V)`` landmarks to ``(N, T', D)`` per-step features.

    Subclasses set ``num_features`` (D) and ``temporal_stride`` and implement
    :meth:`forward_features`.

    Args:
        in_channels: C, values per landmark (e.g. 3 for x, y, z).
        num_nodes: V, landmarks per frame.
    """

    #: True when padded frames provably do not change the real steps' features.
    masks_padding: bool = True

    def __init__(self, in_channels: int, num_nodes: int) -> None:
        super().__init__()
        if in_channels < 1 or num_nodes < 1:
            raise SlrPoseError(f"in_channels={in_channels} and num_nodes={num_nodes} must be positive")
        self.in_channels = int(in_channels)
        self.num_nodes = int(num_nodes)
        self.num_features = 0
        self.temporal_stride = 1

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, C, T, V)`` and ``(N, T)`` bool -> ``(N, T', D)`` features."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_features(x, frame_mask)

    def feature_mask(self, frame_mask: torch.Tensor | None) -> torch.Tensor | None:
        """``(N, T)`` bool -> ``(N, ceil(T / temporal_stride))`` bool; None stays None."""
        if frame_mask is None:
            return None
        return frame_mask[:, :: self.temporal_stride]

    def check_input(self, x: torch.Tensor, frame_mask: torch.Tensor | None) -> None:
        """Raise :class:`SlrPoseError` when shapes do not fit this encoder."""
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[3] != self.num_nodes:
            raise SlrPoseError(
                f"input of shape {tuple(x.shape)} is not (N, C={self.in_channels}, T, V={self.num_nodes})"
            )
        if frame_mask is not None and (frame_mask.shape != (x.shape[0], x.shape[2]) or frame_mask.dtype != torch.bool):
            raise SlrPoseError(
                f"frame_mask of shape {tuple(frame_mask.shape)} and dtype {frame_mask.dtype} "
                f"is not bool (N={x.shape[0]}, T={x.shape[2]})"
            )

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_nodes={self.num_nodes}, "
            f"num_features={self.num_features}, temporal_stride={self.temporal_stride}"
        )


def time_weights(frame_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """``(N, T)`` bool -> ``(N, 1, T, 1)`` 0/1 weights that zero masked frames of ``(N, C, T, V)``."""
    if frame_mask is None:
        return None
    return frame_mask[:, None, :, None].to(dtype)


def strided(weights: torch.Tensor | None, stride: int) -> torch.Tensor | None:
    """Weights ``(N, 1, T, 1)`` at the resolution after a centred stride-``stride`` layer."""
    if weights is None or stride == 1:
        return weights
    return weights[:, :, ::stride]


def apply_weights(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Zero the masked steps of ``x`` (no-op without a mask)."""
    return x if weights is None else x * weights


def masked_mean_time(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over the time axis (-2) of ``(N, C, T, V)`` counting real steps only -> ``(N, C, V)``."""
    if weights is None:
        return x.mean(-2)
    total = (x * weights).sum(-2)
    return total / weights.sum(-2).clamp(min=1.0)
