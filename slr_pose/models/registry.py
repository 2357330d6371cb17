"""A small model registry in the style of timm: variants are registered functions.

Each variant is a function that fixes an encoder's hyper-parameters and takes
the data's shape as plain arguments::

    @register_model
    def stgcn(in_channels, num_nodes, adjacency=None, edge_index=None, **kwargs):
        return STGCN(in_channels, num_nodes, adjacency, base_channels=64, **kwargs)

    encoder = create_model("stgcn", in_channels=3, num_nodes=57, adjacency=A)

Import :func:`create_model` from :mod:`slr_pose.models` (or :mod:`.zoo`), where every
family has registered itself; this module imports no model.
"""

from __future__ import annotations

import inspect
import typing
from typing import Callable, TypeVar

from slr_pose.errors import SlrPoseError

#: The encoder used when none is named: under 1 M parameters and about 4 ms per
#: 64-frame clip on one CPU thread, and among the best on the small-data probe of
#: benchmarks/models.py (see benchmarks/results/models.md).
DEFAULT_MODEL = "conv_transformer_graph"
#: The default encoder of each input modality: landmarks, or RGB clips (Logos' model).
DEFAULT_MODELS = {"pose": DEFAULT_MODEL, "rgb": "mvit_v2_s"}
MODALITIES = tuple(DEFAULT_MODELS)

_MODELS: dict[str, Callable] = {}
_MODALITY: dict[str, str] = {}
F = TypeVar("F", bound=Callable)


def register_model(fn: F | None = None, *, modality: str = "pose"):
    """Register ``fn`` under its own name; it builds an encoder from the data's shape.

    ``@register_model`` registers a pose encoder (input ``(N, C, T, V)``);
    ``@register_model(modality="rgb")`` a video encoder (input ``(N, 3, T, H, W)``).
    """
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; one of {', '.join(MODALITIES)}")

    def register(f: F) -> F:
        name = f.__name__
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name], _MODALITY[name] = f, modality
        return f

    return register(fn) if fn is not None else register


def list_models(modality: str | None = None) -> list[str]:
    """Names of the registered encoders (of one modality), sorted (every family, once :mod:`.zoo` is imported)."""
    return sorted(n for n in _MODELS if modality is None or _MODALITY[n] == modality)


def model_modality(name: str) -> str:
    """``"pose"`` or ``"rgb"``: what the encoder registered as ``name`` reads."""
    if name not in _MODELS:
        raise SlrPoseError(f"unknown model {name!r}; choose one of {', '.join(sorted(_MODELS))}")
    return _MODALITY[name]


def create_model(name: str, **kwargs):
    """Build the encoder registered as ``name``.

    Args:
        name: a name from :func:`list_models`.
        **kwargs: ``in_channels``, ``num_nodes``, ``adjacency`` ``(K, V, V)``,
            ``edge_index`` ``(2, E)`` and any size argument the variant accepts.

    Raises:
        SlrPoseError: for an unknown name (listing the known ones) or a
            size argument the variant does not accept.
    """
    if name not in _MODELS:
        raise SlrPoseError(f"unknown model {name!r}; choose one of {', '.join(sorted(_MODELS))}")
    fn = _MODELS[name]
    accepted = _accepted_arguments(fn)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise SlrPoseError(f"model {name!r} has no argument {unknown[0]!r}; it takes {', '.join(sorted(accepted))}")
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError as e:
        raise SlrPoseError(f"model {name!r}: {e}") from None
    return fn(**kwargs)


def _accepted_arguments(fn: Callable) -> set[str]:
    """The variant's own arguments, plus its model class's when it passes ``**kwargs`` on."""
    params = inspect.signature(fn).parameters
    names = {n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        cls = typing.get_type_hints(fn).get("return")
        if cls is not None:
            names |= set(inspect.signature(cls.__init__).parameters) - {"self"}
    return names
