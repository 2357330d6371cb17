"""A spatio-temporal GCN whose spatial layers are torch-geometric convolutions.

The skeleton's ``edge_index`` is the same for every frame, so the N*T frame
graphs of a batch are one "static graph" batch: node features are laid out
``(N*T, V, C)`` and a PyG layer that supports static graphs (``GCNConv``,
``SAGEConv``, ...) runs on them with the single ``(2, E)`` edge index, no
copying of edges. ``GATv2Conv`` (learnt, per-frame attention over each node's
neighbours; Brody et al., ICLR 2022) needs flat ``(N*T*V, C)`` features, so
its edge index is tiled over the N*T graphs, built on the fly from the batch
size.

Blocks follow ST-GCN: spatial PyG layer, BN, ReLU, then a 9-frame temporal
conv and a residual. Features stay ``(N, T, V, C)`` in memory: PyG reads that
as ``(N*T, V, C)`` and the temporal conv as a channels-last ``(N, C, T, V)``,
both without copies.

Requires torch-geometric (``pip install torch-geometric``); torch_scatter,
torch_sparse and pyg_lib are not needed.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.encoder import PoseEncoder, strided
from slr_pose.models.registry import register_model
from slr_pose.models.stgcn import stage_plan

LAYERS = ("gcn", "sage", "gatv2")


def _pyg():
    try:
        with warnings.catch_warnings():
            # torch-geometric scripts a helper at import time, which torch 2.13 deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            import torch_geometric.nn as gnn
    except ImportError as e:  # pragma: no cover - torch-geometric is a core dependency
        raise SlrPoseError("this model needs torch-geometric; pip install torch-geometric") from e
    return gnn


class SpatialConv(nn.Module):
    """One PyG layer applied to every frame graph of ``(N, T, V, C)`` features."""

    def __init__(self, in_channels: int, out_channels: int, edge_index: torch.Tensor, layer: str, heads: int = 4):
        super().__init__()
        gnn = _pyg()
        self.layer = layer
        self.register_buffer("edge_index", edge_index.clone(), persistent=False)
        if layer == "gcn":
            self.conv = gnn.GCNConv(in_channels, out_channels)  # not cached: the cache would not follow .to(device)
        elif layer == "sage":
            self.conv = gnn.SAGEConv(in_channels, out_channels, root_weight=True)
        elif layer == "gatv2":
            self.conv = gnn.GATv2Conv(in_channels, out_channels, heads=heads, concat=False)
        else:
            raise SlrPoseError(f"unknown PyG layer {layer!r}; choose one of {', '.join(LAYERS)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, v, c = x.shape
        if self.layer != "gatv2":
            return self.conv(x.reshape(n * t, v, c), self.edge_index).view(n, t, v, -1)
        graphs = n * t
        offsets = torch.arange(graphs, device=x.device) * v
        tiled = (self.edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)  # (2, N*T*E)
        return self.conv(x.reshape(graphs * v, c), tiled).view(n, t, v, -1)


class PygBlock(nn.Module):
    """``relu(tcn(relu(bn(pyg(x)))) + residual(x))`` on ``(N, T, V, C)`` features."""

    def __init__(self, in_channels: int, out_channels: int, edge_index: torch.Tensor, layer: str,
                 stride: int = 1, residual: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.stride = stride
        self.spatial = SpatialConv(in_channels, out_channels, edge_index, layer)
        self.bn = nn.BatchNorm2d(out_channels)
        self.tcn = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, (9, 1), (stride, 1), (4, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
        )
        if not residual:
            self.residual: nn.Module | None = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                                          nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        as_nctv = x.permute(0, 3, 1, 2)  # channels-last view (N, C, T, V)
        h = self.relu(self.bn(self.spatial(x).permute(0, 3, 1, 2)))
        if weights is not None:
            h = h * weights  # zero padded frames before the temporal conv
        h = self.tcn(h)
        if self.residual is not None:
            h = h + self.residual(as_nctv)
        return self.relu(h).permute(0, 2, 3, 1)  # (N, T', V, C)


class PygGCN(PoseEncoder):
    """ST-GCN layout with torch-geometric spatial layers.

    Args:
        in_channels: C of the input.
        num_nodes: V of the input.
        edge_index: ``(2, E)`` int64 skeleton edges, both directions (``Skeleton.edge_index``).
        layer: ``"gcn"`` (GCNConv), ``"sage"`` (SAGEConv) or ``"gatv2"`` (GATv2Conv, 4 heads averaged).
        base_channels, num_blocks, inflate, down: the ST-GCN schedule (see :func:`stage_plan`).
        dropout: dropout after each temporal conv.

    Shapes:
        ``(N, C, T, V)``, ``(N, T)`` -> ``(N, ceil(T / 2**len(down)), channels of the last block)``.
    """

    def __init__(self, in_channels: int, num_nodes: int, edge_index: np.ndarray | None, layer: str = "gcn",
                 base_channels: int = 32, num_blocks: int = 6, inflate: tuple[int, ...] = (3, 5),
                 down: tuple[int, ...] = (2, 4), dropout: float = 0.0) -> None:
        super().__init__(in_channels, num_nodes)
        if edge_index is None:
            raise SlrPoseError("this model needs an edge_index (2, E); pass Skeleton.edge_index")
        ei = torch.as_tensor(np.asarray(edge_index), dtype=torch.long)
        if ei.dim() != 2 or ei.shape[0] != 2 or (ei.numel() and (ei.min() < 0 or ei.max() >= num_nodes)):
            raise SlrPoseError(f"edge_index of shape {tuple(ei.shape)} is not (2, E) over {num_nodes} nodes")
        self.data_bn = nn.BatchNorm1d(in_channels * num_nodes)
        blocks, cin = [], in_channels
        for i, (cout, stride) in enumerate(stage_plan(num_blocks, base_channels, inflate, down)):
            blocks.append(PygBlock(cin, cout, ei, layer, stride, residual=i > 0, dropout=dropout))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.num_features = cin
        self.temporal_stride = 2 ** len(set(down))

    def forward_features(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.check_input(x, frame_mask)
        n, c, t, v = x.shape
        h = self.data_bn(x.permute(0, 3, 1, 2).reshape(n, v * c, t))  # pyskl's (V, C) input norm
        h = h.view(n, v, c, t).permute(0, 3, 1, 2).contiguous()  # (N, T, V, C)
        w = None if frame_mask is None else frame_mask[:, None, :, None].to(x.dtype)
        for block in self.blocks:
            h = block(h, w)
            w = strided(w, block.stride)
        return h.mean(2)  # (N, T', C)


@register_model
def pyg_gcn(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
            edge_index: np.ndarray | None = None, **kwargs) -> PygGCN:
    """GCNConv blocks, 32-64-128 channels, 6 blocks."""
    return PygGCN(in_channels, num_nodes, edge_index, layer="gcn", **kwargs)


@register_model
def pyg_gatv2(in_channels: int, num_nodes: int, adjacency: np.ndarray | None = None,
              edge_index: np.ndarray | None = None, **kwargs) -> PygGCN:
    """GATv2Conv blocks (4 heads, averaged), 32-64-128 channels, 6 blocks."""
    return PygGCN(in_channels, num_nodes, edge_index, layer="gatv2", **kwargs)
