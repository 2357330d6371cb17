"""CTR-GCN: channel-wise topology refinement, the adaptive-adjacency line after SL-GCN.

Chen et al., "Channel-wise Topology Refinement Graph Convolution for
Skeleton-Based Action Recognition", ICCV 2021 (arXiv:2107.12213). Each of the
K partitions learns a shared topology ``P_k`` (initialised from the skeleton)
and refines it per sample and per channel:

    R_k[n, c, u, v] = alpha * W4_k tanh(phi_k(x)[n, :, u] - psi_k(x)[n, :, v])[c] + P_k[u, v]
    y[n, c, t, u] = sum_k sum_v R_k[n, c, u, v] * W3_k x[n, :, t, v][c]

where ``phi``/``psi`` are 1x1 convs averaged over (real) frames. A multi-scale
temporal conv (two dilated 5-frame convs, a max-pool and a 1x1 branch)
follows. The K partitions' convolutions run as single fused convs here, which
is the same function with fewer, larger kernels.

Registered: ``ctrgcn`` (the paper's 10 blocks, 64-128-256 channels) and
``ctrgcn_tiny`` (narrow, time halved early). On 57 nodes the per-sample,
per-channel V x V topologies make CTR-GCN the costliest family on a CPU;
see benchmarks/results/models.md.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from slr_pose.models.encoder import apply_weights, masked_mean_time
from slr_pose.models.registry import register_model
from slr_pose.models.stgcn import GraphBlockStack, TemporalConv, residual_unit


class CTRGraphConv(nn.Module):
    """The CTR-GC unit of all K partitions, summed, then BN, the residual and ReLU.

    Args:
        adjacency: ``(K, V, V)``, ``A[k, a, b]``: b aggregates from a.
        rel_reduction: ``in_channels / R`` for the relation channels R.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, rel_reduction: int = 8) -> None:
        super().__init__()
        k = adjacency.shape[0]
        self.k, self.out_channels = k, out_channels
        self.rel = 8 if in_channels <= 16 else in_channels // rel_reduction
        # P_k[u, v]: u aggregates from v, so the transposed skeleton adjacency
        self.topology = nn.Parameter(adjacency.transpose(1, 2).clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.relations = nn.Conv2d(in_channels, 2 * k * self.rel, 1)  # phi_k and psi_k
        self.values = nn.Conv2d(in_channels, k * out_channels, 1)  # W3_k
        self.expand = nn.Conv2d(k * self.rel, k * out_channels, 1, groups=k)  # W4_k
        self.bn = nn.BatchNorm2d(out_channels)
        nn.init.constant_(self.bn.weight, 1e-6)  # the block starts as its residual, as in the paper
        if in_channels == out_channels:
            self.down: nn.Module = nn.Identity()
        else:
            self.down = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        n, _, t, v = x.shape
        q = masked_mean_time(self.relations(x), weights).view(n, 2, self.k * self.rel, v)  # (N, 2, K*R, V)
        rel = torch.tanh(q[:, 0, :, :, None] - q[:, 1, :, None, :])  # (N, K*R, U, V)
        refined = self.expand(rel).view(n, self.k, self.out_channels, v, v)  # (N, K, C, U, V)
        values = self.values(x).view(n, self.k, self.out_channels, t, v)  # (N, K, C, T, V)
        # sum_k (P_k + alpha * Q_k) x_k, split so the shared P_k runs as one large GEMM and the
        # per-sample Q_k as batched matmuls that read the tensors in place (no (N,K,C,V,V) copies)
        y = torch.einsum("nkctv,kuv->nctu", values, self.topology)
        per_sample = values[:, 0] @ refined[:, 0].transpose(-1, -2)
        for i in range(1, self.k):
            per_sample = per_sample + values[:, i] @ refined[:, i].transpose(-1, -2)
        y = y + self.alpha * per_sample
        return self.relu(self.bn(y) + self.down(x))


class MultiScaleTemporalConv(nn.Module):
    """CTR-GCN's temporal unit: 4 branches of ``out/4`` channels, concatenated.

    Branches: 1x1 -> 5-frame conv (dilation 1), 1x1 -> 5-frame conv
    (dilation 2), 1x1 -> 3-frame max-pool, and a strided 1x1. The four 1x1
    convs run as one conv.
    """

    def __init__(self, channels: int, stride: int = 1, kernel_size: int = 5, dilations: tuple[int, ...] = (1, 2),
                 dropout: float = 0.0) -> None:
        super().__init__()
        branches = len(dilations) + 2
        if channels % branches:
            raise ValueError(f"channels {channels} must divide into {branches} branches")
        self.stride, self.bc = stride, channels // branches
        self.pointwise = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))
        self.dilated = nn.ModuleList(
            TemporalConv(self.bc, self.bc, kernel_size, stride, dilation=d) for d in dilations
        )
        self.pool = nn.MaxPool2d((3, 1), (stride, 1), (1, 0))
        self.pool_bn = nn.BatchNorm2d(self.bc)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        parts = self.pointwise(x).split(self.bc, dim=1)
        outs = []
        for conv, part in zip(self.dilated, parts):
            outs.append(conv(apply_weights(self.relu(part), weights)))
        # ReLU makes values >= 0, so zeroed padding never wins the max over real frames
        outs.append(self.pool_bn(self.pool(apply_weights(self.relu(parts[-2]), weights))))
        outs.append(parts[-1][:, :, :: self.stride])
        return self.drop(torch.cat(outs, dim=1))


class CTRGCNBlock(nn.Module):
    """``relu(ms_tcn(ctr_gc(x)) + residual(x))``."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, stride: int = 1,
                 residual: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.stride = stride
        self.gcn = CTRGraphConv(in_channels, out_channels, adjacency)
        self.tcn = MultiScaleTemporalConv(out_channels, stride, dropout=dropout)
        self.residual = residual_unit(in_channels, out_channels, stride, residual)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        res = 0 if self.residual is None else self.residual(x)
        return self.relu(self.tcn(self.gcn(x, weights), weights) + res)


class CTRGCN(GraphBlockStack):
    """CTR-GCN encoder.

    Args:
        in_channels: C of the input.
        num_nodes: V of the input.
        adjacency: ``(K, V, V)`` partitioned adjacency (``Skeleton.adjacency('spatial')``).
        base_channels: channels of the first stage (64 in the paper; a multiple of 4).
        num_blocks: number of blocks (10 in the paper).
        inflate: 1-based blocks where channels double.
        down: 1-based blocks where time is halved.
        dropout: dropout after each temporal unit.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, ceil(T / 2**len(down)), channels of the last block)``.
    """

    block = CTRGCNBlock

    def __init__(self, in_channels: int, num_nodes: int, adjacency: np.ndarray | None, base_channels: int = 64,
                 num_blocks: int = 10, inflate: tuple[int, ...] = (5, 8), down: tuple[int, ...] = (5, 8),
                 dropout: float = 0.0) -> None:
        super().__init__(in_channels, num_nodes, adjacency, base_channels, num_blocks, inflate, down, dropout)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                nn.init.zeros_(m.bias)


@register_model
def ctrgcn(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
           edge_index: np.ndarray | None = None, **kwargs) -> CTRGCN:
    """CTR-GCN as published: 10 blocks, 64-128-256 channels."""
    return CTRGCN(in_channels, num_nodes, adjacency, **kwargs)


@register_model
def ctrgcn_tiny(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                edge_index: np.ndarray | None = None, **kwargs) -> CTRGCN:
    """A small CTR-GCN: 6 blocks of 24-48-96 channels, time halved at blocks 2 and 4."""
    kwargs = {"base_channels": 24, "num_blocks": 6, "inflate": (3, 5), "down": (2, 4), **kwargs}
    return CTRGCN(in_channels, num_nodes, adjacency, **kwargs)
