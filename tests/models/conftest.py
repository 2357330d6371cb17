"""Real skeleton graphs and real landmark clips for the model tests.

The MSL-150 sample (``data/msl150/keypoints_sample.npz``: 86 clips x 30
frames x 226 values = pose 0-24 x (x, y, z, visibility) + left hand 21 x 3 +
right hand 21 x 3, zeros where not detected) is mapped here onto a subset's
nodes and put in a simple body frame (centred on the shoulders, in shoulder
widths): enough for tests whose values matter, without the full pipeline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from slr_pose.graphs.skeleton import Skeleton
from slr_pose.graphs.subsets import select
from slr_pose.keypoints.layout import holistic_layout

MSL_NPZ = Path(__file__).resolve().parents[2] / "data" / "msl150" / "keypoints_sample.npz"
NO_FACE = holistic_layout("none")  # pose 0-32, left hand 33-53, right hand 54-74


def skeleton(subset: str) -> Skeleton:
    layout, _ = select(NO_FACE, subset)
    return Skeleton.from_layout(layout)


def msl_clips(subset: str = "upper_body_hands") -> tuple[torch.Tensor, np.ndarray]:
    """All 86 clips as ``(86, 3, 30, V)`` float32 and their gloss labels."""
    with np.load(MSL_NPZ) as z:
        k, labels = z["keypoints"].astype(np.float32), z["label"]
    n, t = k.shape[:2]
    xyz = np.zeros((n, t, NO_FACE.num_landmarks, 3), np.float32)
    xyz[:, :, :25] = k[..., :100].reshape(n, t, 25, 4)[..., :3]
    xyz[:, :, 33:54] = k[..., 100:163].reshape(n, t, 21, 3)
    xyz[:, :, 54:75] = k[..., 163:226].reshape(n, t, 21, 3)
    found = np.abs(xyz).sum(-1) > 0
    shoulders = xyz[:, :, 11:13].mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, 3)
    width = np.linalg.norm(xyz[:, :, 11, :2] - xyz[:, :, 12, :2], axis=-1).mean(1)[:, None, None, None]
    body = np.where(found[..., None], (xyz - shoulders) / width, 0.0)
    _, idx = select(NO_FACE, subset)
    x = body[:, :, idx].transpose(0, 3, 1, 2)  # (N, 3, T, V)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), labels


@pytest.fixture(scope="session")
def graph57() -> Skeleton:
    return skeleton("upper_body_hands")


@pytest.fixture(scope="session")
def hands_graph() -> Skeleton:
    return skeleton("hands")


@pytest.fixture(scope="session")
def msl() -> tuple[torch.Tensor, torch.Tensor]:
    """``(x (86, 3, 30, 57), class ids (86,))`` of the real MSL-150 clips."""
    x, labels = msl_clips()
    names = sorted(set(labels.tolist()))
    return x, torch.tensor([names.index(label) for label in labels])


@pytest.fixture(scope="session")
def make_encoder():
    """``make_encoder(name, graph, in_channels=3, **sizes)``: a registered encoder on a real graph."""
    from slr_pose.models import create_model

    def build(name: str, graph: Skeleton, in_channels: int = 3, **kwargs):
        return create_model(name, in_channels=in_channels, num_nodes=graph.num_nodes,
                            adjacency=graph.adjacency("spatial"), edge_index=graph.edge_index, **kwargs)

    return build
