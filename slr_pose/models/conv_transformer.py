"""1D convolutions + transformer over per-frame landmark features (Kaggle asl-signs style).

After the first place of Google's Isolated Sign Language Recognition
competition on Kaggle (2023, "asl-signs"; solution by Hoyeol Sohn): each
frame's landmarks are flattened and embedded, then stacks of three depthwise
1D-conv blocks and one transformer block run over time (no position
embedding: the convolutions carry order, as in the original):

    conv block: x + W2 ECA(BN(DWConv_k(swish(W1 x))))
    ECA:        h * sigmoid(conv1d_5(mean_t h))      (efficient channel attention)

The depthwise convolution is causal (it looks back only), so padding at the
end of a clip never reaches a real frame, and ECA averages over real frames
only. The late dropout of the original is a training schedule, left out.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.registry import register_model
from slr_pose.models.transformer import TransformerBlock, attention_mask


class ECA(nn.Module):
    """Efficient channel attention (Wang et al., CVPR 2020) on ``(N, D, T)`` with a mask."""

    def __init__(self, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, h: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if weights is None:
            pooled = h.mean(-1)
        else:  # weights: (N, 1, T) 0/1
            pooled = (h * weights).sum(-1) / weights.sum(-1).clamp(min=1.0)
        gate = torch.sigmoid(self.conv(pooled[:, None]))  # (N, 1, D)
        return h * gate.transpose(1, 2)


class ConvBlock(nn.Module):
    """Expand, causal depthwise conv over time, BN, ECA, project back; residual."""

    def __init__(self, dim: int, kernel_size: int = 17, expand: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = dim * expand
        self.pad = kernel_size - 1
        self.expand = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv1d(hidden, hidden, kernel_size, groups=hidden, bias=False)
        self.bn = nn.BatchNorm1d(hidden)
        self.eca = ECA()
        self.project = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        h = F.silu(self.expand(x)).transpose(1, 2)  # (N, hidden, T)
        h = self.dwconv(F.pad(h, (self.pad, 0)))  # causal: step t sees t-k+1 .. t
        h = self.eca(self.bn(h), weights).transpose(1, 2)  # (N, T, hidden)
        return x + self.drop(self.project(h))


class ConvTransformer(PoseEncoder):
    """Per-frame embedding, then ``stacks`` x (``convs`` conv blocks + 1 transformer block).

    Args:
        in_channels: C of the input.
        num_nodes: V of the input.
        dim: model width D.
        stacks: number of (conv blocks + transformer block) stacks.
        convs: conv blocks per stack.
        kernel_size: depthwise conv length in frames.
        heads: attention heads.
        dropout: dropout inside blocks.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, T, 2 * dim)``.
    """

    def __init__(self, in_channels: int, num_nodes: int, dim: int = 192, stacks: int = 2, convs: int = 3,
                 kernel_size: int = 17, heads: int = 4, dropout: float = 0.1) -> None:
        super().__init__(in_channels, num_nodes)
        self.embed = nn.Linear(in_channels * num_nodes, dim, bias=False)
        self.embed_bn = nn.BatchNorm1d(dim)
        blocks: list[nn.Module] = []
        for _ in range(stacks):
            blocks += [ConvBlock(dim, kernel_size, dropout=dropout) for _ in range(convs)]
            blocks.append(TransformerBlock(dim, heads, mlp_ratio=2.0, dropout=dropout))
        self.blocks = nn.ModuleList(blocks)
        self.top = nn.Linear(dim, 2 * dim)
        self.dim = dim
        self.num_features = 2 * dim

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.check_input(x, frame_mask)
        n, c, t, v = x.shape
        h = self.embed(x.permute(0, 2, 1, 3).reshape(n, t, c * v))  # (N, T, D)
        h = self.embed_bn(h.transpose(1, 2)).transpose(1, 2)
        weights = None if frame_mask is None else frame_mask[:, None, :].to(h.dtype)
        mask = attention_mask(frame_mask)
        for block in self.blocks:
            h = block(h, weights if isinstance(block, ConvBlock) else mask)
        return self.top(h)


@register_model
def conv_transformer(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                     edge_index: np.ndarray | None = None, **kwargs) -> ConvTransformer:
    """The Kaggle first-place layout at width 192: 2 x (3 conv blocks + 1 transformer block)."""
    return ConvTransformer(in_channels, num_nodes, **kwargs)


@register_model
def conv_transformer_small(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                           edge_index: np.ndarray | None = None, **kwargs) -> ConvTransformer:
    """Width 128, 2 x (2 conv blocks + 1 transformer block): for small data and one CPU thread."""
    kwargs = {"dim": 128, "convs": 2, **kwargs}
    return ConvTransformer(in_channels, num_nodes, **kwargs)
