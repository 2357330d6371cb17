"""Building models from a config, and initialising them from other runs' checkpoints."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import (
    DEFAULT_MODELS,
    CTCRecognizer,
    Recognizer,
    create_model,
    list_models,
    load_encoder_state,
    model_modality,
)
from slr_pose.training.config import ClipConfig, ModelConfig


def build_encoder(config: ModelConfig, pre) -> torch.nn.Module:
    """The registered encoder for the input ``pre`` describes.

    ``pre`` is a landmark pipeline (:class:`~slr_pose.graphs.normalisation.Preprocessor`:
    its channels, nodes and skeleton) for a pose encoder, or a :class:`ClipConfig`
    (frames and side) for a video encoder; an empty ``config.name`` takes the
    modality's default (:data:`~slr_pose.models.DEFAULT_MODELS`).
    """
    rgb = isinstance(pre, ClipConfig)
    modality = "rgb" if rgb else "pose"
    name = config.name or DEFAULT_MODELS[modality]
    if model_modality(name) != modality:
        raise SlrPoseError(f"model {name!r} reads {model_modality(name)} input, but data.modality is {modality}; "
                           f"choose one of {', '.join(list_models(modality))}")
    if rgb:
        return create_model(name, in_channels=3, num_frames=pre.frames, side=pre.side, **dict(config.kwargs))
    skeleton = pre.skeleton
    return create_model(
        name,
        in_channels=pre.num_channels,
        num_nodes=pre.num_nodes,
        adjacency=skeleton.adjacency("spatial"),
        edge_index=skeleton.edge_index,
        **dict(config.kwargs),
    )


def build_recognizer(config: ModelConfig, classes: dict[str, int], pre) -> torch.nn.Module:
    """An encoder (see :func:`build_encoder`) under one classification head per language."""
    return Recognizer(build_encoder(config, pre), classes, boundary=config.boundary)


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint file (or a run directory's ``best.pt``), checked to hold named model weights."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoints" / "best.pt"
    if not path.exists():
        raise SlrPoseError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's bad input here
        raise SlrPoseError(f"{path} is not a readable slr-pose checkpoint ({type(e).__name__})") from None
    weights = state.get("model") if isinstance(state, Mapping) else None
    if not isinstance(weights, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()):
        raise SlrPoseError(f"{path} is not an slr-pose checkpoint (it holds no named model weights)")
    return state


def load_encoder_init(model: torch.nn.Module, source: str | Path) -> int:
    """Copy the encoder weights of another run (or checkpoint) into ``model``.

    Heads are not copied: the new run has its own languages and classes.
    Returns the number of tensors copied.

    Raises:
        SlrPoseError: when the encoders differ (another model, subset or streams).
    """
    return load_encoder_state(model, read_checkpoint(source)["model"], source=str(source))


def build_ctc_model(config: ModelConfig, vocab_sizes: dict[str, int], pre) -> torch.nn.Module:
    return CTCRecognizer(
        build_encoder(config, pre),
        vocab_sizes,
        sequence_model=config.sequence_model,
        hidden=config.hidden,
        layers=config.layers,
        downsample=config.downsample,
        gloss_head=config.gloss_head,
    )
