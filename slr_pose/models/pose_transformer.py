"""A pose transformer over time, in the line of SPOTER.

Bohacek and Hruz, "Sign Pose-based Transformer for Word-level Sign Language
Recognition", WACV Workshops 2022. Each frame's landmarks, all of them
flattened (``C * V`` values), are embedded by one linear layer; fixed
sinusoidal positions are added and a stack of pre-norm transformer blocks
attends over the real frames. SPOTER's class-query decoder is replaced by the
recognizer's masked pooling, so the encoder returns one feature per frame.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.registry import register_model
from slr_pose.models.transformer import (
    TransformerBlock,
    attention_mask,
    sinusoidal_positions,
)


class PoseTransformer(PoseEncoder):
    """Per-frame linear embedding + transformer encoder.

    Args:
        in_channels: C of the input.
        num_nodes: V of the input.
        dim: D, the model width.
        depth: number of transformer blocks.
        heads: attention heads.
        mlp_ratio: MLP width as a multiple of D.
        dropout: dropout inside the blocks.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, T, D)``.
    """

    def __init__(self, in_channels: int, num_nodes: int, dim: int = 192, depth: int = 6, heads: int = 6,
                 mlp_ratio: float = 2.0, dropout: float = 0.1) -> None:
        super().__init__(in_channels, num_nodes)
        self.embed = nn.Linear(in_channels * num_nodes, dim)
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads, mlp_ratio, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.num_features = dim

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.check_input(x, frame_mask)
        n, c, t, v = x.shape
        h = self.embed(x.permute(0, 2, 1, 3).reshape(n, t, c * v))  # (N, T, D)
        h = h + sinusoidal_positions(t, self.num_features, h)
        mask = attention_mask(frame_mask)
        for block in self.blocks:
            h = block(h, mask)
        return self.norm(h)


@register_model
def pose_transformer(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                     edge_index: np.ndarray | None = None, **kwargs) -> PoseTransformer:
    """SPOTER-sized: 6 blocks of width 192, 6 heads."""
    return PoseTransformer(in_channels, num_nodes, **kwargs)


@register_model
def pose_transformer_small(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                           edge_index: np.ndarray | None = None, **kwargs) -> PoseTransformer:
    """A CPU-sized pose transformer: 3 blocks of width 128, 4 heads."""
    kwargs = {"dim": 128, "depth": 3, "heads": 4, **kwargs}
    return PoseTransformer(in_channels, num_nodes, **kwargs)
