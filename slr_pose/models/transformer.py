"""Transformer pieces shared by the sequence encoders: masked self-attention blocks.

All tensors here are ``(N, T, D)`` sequences with a ``(N, T)`` bool mask,
True on real steps. Padded steps are never attended to, so a real step's
output does not depend on what or how much padding follows it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_positions(length: int | torch.Tensor, dim: int, like: torch.Tensor) -> torch.Tensor:
    """``(T, D)`` fixed sine/cosine positions (Vaswani et al., 2017), for any length.

    Computed on the fly so exported graphs keep a dynamic time axis.
    """
    pos = torch.arange(length, device=like.device, dtype=like.dtype)[:, None]
    half = torch.arange(0, dim, 2, device=like.device, dtype=like.dtype)
    freq = torch.exp(half * (-math.log(10000.0) / dim))[None]
    angles = pos * freq  # (T, D/2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)[:, :dim]


def attention_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """``(N, T)`` bool -> ``(N, 1, 1, T)`` bool for :func:`F.scaled_dot_product_attention`.

    A sample with no real step would make every attention row empty (NaN);
    such a sample attends to all its steps instead (its pooled output is
    zero anyway, as pooling counts real steps only).
    """
    if mask is None:
        return None
    empty = ~mask.any(dim=1, keepdim=True)
    return (mask | empty)[:, None, None, :]


class SelfAttention(nn.Module):
    """Multi-head self-attention over ``(N, T, D)`` with a key mask."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of heads {heads}")
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop)  # (N, H, T, D/H)
        return self.proj(y.transpose(1, 2).reshape(n, t, d))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``.

    Args:
        dim: D.
        heads: attention heads (D must be a multiple).
        mlp_ratio: hidden width of the MLP as a multiple of D.
        dropout: dropout on attention weights and on each branch's output.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), attn_mask))
        return x + self.drop(self.mlp(self.norm2(x)))
