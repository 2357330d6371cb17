"""ST-GCN, the reference skeleton encoder, as pyskl writes it.

Yan, Xiong and Lin, "Spatial Temporal Graph Convolutional Networks for
Skeleton-Based Action Recognition", AAAI 2018 (arXiv:1801.07455). The graph
convolution is one einsum over the ``(K, V, V)`` partitioned adjacency,
``y[n, c, t, w] = sum_k sum_v x_k[n, c, t, v] * (A * M)[k, v, w]`` with a
learnt edge-importance mask ``M``; a 9-frame temporal convolution follows,
with residual links. The standard network (pyskl's ``STGCN``) has 10 blocks of
64, 64, 64, 64, 128, 128, 128, 256, 256, 256 channels and halves time at the
5th and 8th (temporal stride 4).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.encoder import PoseEncoder, apply_weights, strided, time_weights
from slr_pose.models.registry import register_model


def adjacency_tensor(adjacency: np.ndarray | None, num_nodes: int) -> torch.Tensor:
    """Check a ``(K, V, V)`` adjacency (or ``(V, V)``) and return it as float32 ``(K, V, V)``."""
    if adjacency is None:
        raise SlrPoseError("this model needs an adjacency (K, V, V); pass Skeleton.adjacency('spatial')")
    a = torch.as_tensor(np.asarray(adjacency), dtype=torch.float32)
    if a.dim() == 2:
        a = a[None]
    if a.dim() != 3 or a.shape[1:] != (num_nodes, num_nodes):
        raise SlrPoseError(f"adjacency of shape {tuple(a.shape)} is not (K, {num_nodes}, {num_nodes})")
    return a


class InputNorm(nn.Module):
    """pyskl's ``data_bn``: batch norm over each (landmark, channel) pair of the input."""

    def __init__(self, in_channels: int, num_nodes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(in_channels * num_nodes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        x = x.permute(0, 3, 1, 2).reshape(n, v * c, t)  # (N, V*C, T)
        x = self.bn(x)
        return x.reshape(n, v, c, t).permute(0, 2, 3, 1).contiguous()  # (N, C, T, V)


class GraphConv(nn.Module):
    """ST-GCN's spatial unit: 1x1 conv to K groups, einsum over ``A * importance``, BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("A", adjacency.clone())
        self.importance = nn.Parameter(torch.ones_like(adjacency))
        self.conv = nn.Conv2d(in_channels, out_channels * adjacency.shape[0], 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        k = self.A.shape[0]
        x = self.conv(x).view(n, k, -1, t, v)  # (N, K, C_out, T, V)
        x = torch.einsum("nkctv,kvw->nctw", x, self.A * self.importance)
        return self.relu(self.bn(x))


class TemporalConv(nn.Module):
    """pyskl's ``unit_tcn``: a centred ``(kernel, 1)`` convolution over time, then BN."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 9, stride: int = 1,
                 dilation: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel_size, 1), (stride, 1), (pad, 0), (dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))


def residual_unit(in_channels: int, out_channels: int, stride: int, residual: bool) -> nn.Module | None:
    """No residual, identity, or a strided 1x1 temporal conv (pyskl's choice)."""
    if not residual:
        return None
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)


class STGCNBlock(nn.Module):
    """``relu(tcn(gcn(x)) + residual(x))``; masked steps are zeroed before the temporal conv."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, stride: int = 1,
                 residual: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.stride = stride
        self.gcn = GraphConv(in_channels, out_channels, adjacency)
        self.tcn = TemporalConv(out_channels, out_channels, 9, stride, dropout=dropout)
        self.residual = residual_unit(in_channels, out_channels, stride, residual)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        res = 0 if self.residual is None else self.residual(x)
        return self.relu(self.tcn(apply_weights(self.gcn(x), weights)) + res)


def stage_plan(num_blocks: int, base_channels: int, inflate: tuple[int, ...], down: tuple[int, ...],
               ratio: float = 2.0) -> list[tuple[int, int]]:
    """pyskl's channel/stride schedule: ``[(channels, stride)]`` for blocks 1..num_blocks.

    ``inflate``/``down`` name 1-based blocks where channels grow by ``ratio``
    (from block 2 on) and where time is halved.
    """
    bad = [b for b in (*inflate, *down) if not 1 <= b <= num_blocks]
    if bad:
        raise SlrPoseError(f"blocks {bad} named in inflate/down are not in 1..{num_blocks}")
    plan, channels = [], base_channels
    for i in range(1, num_blocks + 1):
        if i in inflate and i > 1:
            channels = int(channels * ratio)
        plan.append((channels, 2 if i in down else 1))
    return plan


class GraphBlockStack(PoseEncoder):
    """pyskl's skeleton backbone: input norm, then a schedule of graph blocks.

    Subclasses set :attr:`block`, a module class built as
    ``block(in_channels, out_channels, adjacency, stride, residual=..., dropout=...)``
    and called as ``block(x, weights)``, with weights at its input resolution.
    """

    block: type[nn.Module]

    def __init__(self, in_channels: int, num_nodes: int, adjacency: np.ndarray | None, base_channels: int = 64,
                 num_blocks: int = 10, inflate: tuple[int, ...] = (5, 8), down: tuple[int, ...] = (5, 8),
                 dropout: float = 0.0) -> None:
        super().__init__(in_channels, num_nodes)
        a = adjacency_tensor(adjacency, num_nodes)
        self.data_bn = InputNorm(in_channels, num_nodes)
        blocks, cin = [], in_channels
        for i, (cout, stride) in enumerate(stage_plan(num_blocks, base_channels, inflate, down)):
            blocks.append(self.block(cin, cout, a, stride, residual=i > 0, dropout=dropout))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.num_features = cin
        self.temporal_stride = 2 ** len(set(down))

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.check_input(x, frame_mask)
        w = time_weights(frame_mask, x.dtype)
        x = self.data_bn(x)
        for block in self.blocks:
            x = block(x, w)  # w is at the block's input resolution
            w = strided(w, block.stride)
        return x.mean(-1).transpose(1, 2)  # (N, C, T', V) -> (N, T', C)


class STGCN(GraphBlockStack):
    """ST-GCN encoder.

    Args:
        in_channels: C of the input.
        num_nodes: V of the input.
        adjacency: ``(K, V, V)`` partitioned adjacency, e.g. ``Skeleton.adjacency('spatial')``.
        base_channels: channels of the first stage (64 in the paper).
        num_blocks: number of ST-GCN blocks (10 in the paper).
        inflate: 1-based blocks where channels double.
        down: 1-based blocks where time is halved.
        dropout: dropout after each temporal conv.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, ceil(T / 2**len(down)), channels of the last block)``.
    """

    block = STGCNBlock


@register_model
def stgcn(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
          edge_index: np.ndarray | None = None, **kwargs) -> STGCN:
    """The reference ST-GCN: 10 blocks, 64-128-256 channels (~3.1 M parameters on 57 nodes)."""
    return STGCN(in_channels, num_nodes, adjacency, **kwargs)


@register_model
def stgcn_small(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                edge_index: np.ndarray | None = None, **kwargs) -> STGCN:
    """A CPU-sized ST-GCN: 6 blocks, 32-64-128 channels, time halved at blocks 2 and 4."""
    kwargs = {"base_channels": 32, "num_blocks": 6, "inflate": (3, 5), "down": (2, 4), **kwargs}
    return STGCN(in_channels, num_nodes, adjacency, **kwargs)
