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

``conv_transformer_graph`` (the default encoder) first runs two small
per-frame graph convolutions over the skeleton (ST-GCN's spatial unit, weights
shared by all landmarks, frames never mixed), so the embedding sees
neighbourhoods rather than raw coordinates: a graph prior for small data at
under a millisecond per clip.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.registry import register_model
from slr_pose.models.stgcn import adjacency_tensor
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


class FrameGraphConv(nn.Module):
    """ST-GCN's spatial unit on each frame alone: ``relu(bn(sum_k W_k x (A_k * M_k)))``.

    The same function as :class:`~slr_pose.models.stgcn.GraphConv`, laid out
    for many small graphs on a CPU: features are node-major ``(V, B, C)``;
    neighbours are aggregated by one ``(K*V, V) x (V, B*C)`` GEMM over all
    graphs at once, and channels are mixed by one GEMM per partition over all
    (node, graph) rows. The aggregation is dense on purpose: an edge-list
    ``index_add`` exports as ONNX ScatterND(add), whose onnxruntime CPU kernel
    sums repeated rows from several threads at once, so an exported model's
    results changed from run to run (see tests/models/test_export.py).

    Shapes: ``(V, B, C)`` (B graphs, e.g. the N*T frames) -> ``(V, B, C_out)``.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor) -> None:
        super().__init__()
        k = adjacency.shape[0]
        self.register_buffer("A", adjacency.clone())  # A_k[src, dst] != 0: dst gathers from src
        self.importance = nn.Parameter(torch.ones_like(adjacency))
        self.weight = nn.Parameter(torch.empty(k, in_channels, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight.view(k * in_channels, out_channels).T, a=5**0.5)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        v, b, c = h.shape
        k = self.A.shape[0]
        agg = (self.A * self.importance).transpose(1, 2).reshape(k * v, v) @ h.reshape(v, b * c)  # row k*V + dst
        agg = agg.view(k, v * b, c)  # per partition: neighbours of each (node, graph) row
        y = self.bias + agg[0] @ self.weight[0]
        for i in range(1, k):
            y = y + agg[i] @ self.weight[i]
        return torch.relu(self.bn(y)).view(v, b, -1)


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
        adjacency: ``(K, V, V)``; needed when ``graph_channels`` > 0.
        graph_channels: width of two per-frame ST-GCN graph convolutions run
            on each frame's landmarks before the embedding (0: none, the
            original layout). They share weights across landmarks and give the
            embedding the skeleton's neighbourhoods; they never mix frames.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, T, 2 * dim)``.
    """

    def __init__(self, in_channels: int, num_nodes: int, dim: int = 192, stacks: int = 2, convs: int = 3,
                 kernel_size: int = 17, heads: int = 4, dropout: float = 0.1,
                 adjacency: np.ndarray | None = None, graph_channels: int = 0) -> None:
        super().__init__(in_channels, num_nodes)
        self.graph = None
        per_node = in_channels
        if graph_channels > 0:
            a = adjacency_tensor(adjacency, num_nodes)
            self.graph = nn.ModuleList([FrameGraphConv(in_channels, graph_channels, a),
                                        FrameGraphConv(graph_channels, graph_channels, a)])
            per_node = graph_channels
        self.embed = nn.Linear(per_node * num_nodes, dim, bias=False)
        self.embed_bn = nn.BatchNorm1d(dim)
        blocks: list[nn.Module] = []
        for _ in range(stacks):
            blocks += [ConvBlock(dim, kernel_size, dropout=dropout) for _ in range(convs)]
            blocks.append(TransformerBlock(dim, heads, mlp_ratio=2.0, dropout=dropout))
        self.blocks = nn.ModuleList(blocks)
        self.top = nn.Linear(dim, 2 * dim)
        # not in the original: normalised features keep the heads (and the boundary
        # regression in particular) well scaled when training is short
        self.norm = nn.LayerNorm(2 * dim)
        self.dim = dim
        self.num_features = 2 * dim

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.check_input(x, frame_mask)
        n, c, t, v = x.shape
        if self.graph is None:
            frames = x.permute(0, 2, 1, 3)  # (N, T, C, V)
        else:
            nodes = x.permute(3, 0, 2, 1).reshape(v, n * t, c)  # (V, N*T, C): one graph per frame
            for layer in self.graph:
                nodes = layer(nodes)
            frames = nodes.view(v, n, t, -1).permute(1, 2, 0, 3)  # (N, T, V, graph_channels)
        h = self.embed(frames.reshape(n, t, -1))  # (N, T, D)
        h = self.embed_bn(h.transpose(1, 2)).transpose(1, 2)
        weights = None if frame_mask is None else frame_mask[:, None, :].to(h.dtype)
        mask = attention_mask(frame_mask)
        for block in self.blocks:
            h = block(h, weights if isinstance(block, ConvBlock) else mask)
        return self.norm(self.top(h))


@register_model
def conv_transformer(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                     edge_index: np.ndarray | None = None, **kwargs) -> ConvTransformer:
    """The Kaggle first-place layout at width 192: 2 x (3 conv blocks + 1 transformer block)."""
    return ConvTransformer(in_channels, num_nodes, adjacency=adjacency, **kwargs)


@register_model
def conv_transformer_small(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                           edge_index: np.ndarray | None = None, **kwargs) -> ConvTransformer:
    """Width 128, 2 x (2 conv blocks + 1 transformer block): for small data and one CPU thread."""
    kwargs = {"dim": 128, "convs": 2, **kwargs}
    return ConvTransformer(in_channels, num_nodes, adjacency=adjacency, **kwargs)


@register_model
def conv_transformer_graph(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
                           edge_index: np.ndarray | None = None, **kwargs) -> ConvTransformer:
    """``conv_transformer_small`` after two per-frame graph convolutions of 16 channels."""
    kwargs = {"dim": 128, "convs": 2, "graph_channels": 16, **kwargs}
    return ConvTransformer(in_channels, num_nodes, adjacency=adjacency, **kwargs)
