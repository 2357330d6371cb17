"""Training configuration: frozen dataclasses, loaded from YAML and validated.

A config file mirrors the dataclasses below, section by section::

    task: islr
    data:
      stores:
        - {path: poses.h5, language: mfs}
      preprocess: {subset: upper_body_hands, length: 64, streams: [joint, bone]}
    augment: {rotation: 15, hand_dropout: 0.1}
    model:
      name: conv_transformer_graph
    train:
      epochs: 30

Every key is checked on load: an unknown key or a value of the wrong type is
an error that names the key and the value. ``--set train.epochs=5`` on the
command line overrides one value with the same checks.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Union

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.augment import Augment
from slr_pose.graphs.normalisation.pipeline import PreprocessConfig


class ConfigError(SlrPoseError):
    """A config key or value that cannot be used."""


@dataclass(frozen=True)
class StoreSource:
    """One pose store in the training mix.

    Args:
        path: the ``.h5`` store (relative paths resolve against the config file).
        language: language tag for every sample; empty keeps the store's own
            ``language`` column (which must then be filled).
        frames: the store's RGB frame cache (``slr-pose frames``), read when
            ``data.modality`` is ``rgb``; empty: ``STORE.frames.h5`` beside the store.
    """

    path: str
    language: str = ""
    frames: str = ""

    @property
    def frames_path(self) -> str:
        return self.frames or default_frames_path(self.path)


def default_frames_path(store: str) -> str:
    """Where ``slr-pose frames STORE`` keeps the frame cache of a store by default: ``STORE.frames.h5``."""
    p = Path(store)
    return str(p.with_name(p.stem + ".frames.h5"))


@dataclass(frozen=True)
class ClipConfig:
    """RGB clips as the video encoder sees them (``data.modality: rgb``), sampled as Logos does.

    Args:
        frames: T, frames per clip (16 or 32).
        stride: stored frames between two clip frames.
        side: H = W fed to the encoder (the cached crops are resized to it; 224 in Logos, 112 on a CPU).
    """

    frames: int = 16
    stride: int = 2
    side: int = 112


@dataclass(frozen=True)
class SplitConfig:
    """How samples are split into train / val / test.

    ``mode``: ``column`` uses each sample's ``split`` (``train``, ``val``,
    ``test``); ``signer`` holds out whole signers (signer-independent),
    drawn with ``seed``; ``random`` splits samples stratified by label.
    """

    mode: str = "column"
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    seed: int = 0
    fold: int = -1  # with folds > 1, which fold is the test fold (signer: of the signers; random: StratifiedKFold)
    folds: int = 0


@dataclass(frozen=True)
class DataConfig:
    """Which samples, how they are split, and how they become model input.

    ``preprocess`` is the :class:`~slr_pose.graphs.normalisation.pipeline.PreprocessConfig`
    (subset, length, fps, streams, max_gap, trim_idle, mirror, ...); keys a
    config leaves out take its defaults, except ``length``, which is None
    (whole sentences) for continuous signing. Augmentation is the config's
    own top-level section, never ``preprocess.augment``.
    """

    stores: tuple[StoreSource, ...] = ()
    modality: str = "pose"  # "pose": landmarks through preprocess; "rgb": clips of the stores' frame caches
    preprocess: PreprocessConfig = PreprocessConfig()
    clip: ClipConfig = ClipConfig()
    split: SplitConfig = SplitConfig()
    groups: str = ""  # VSSign grouping table (CSV gloss,group); empty: ungrouped labels
    shots: int = 0  # k-shot: keep k training samples per class (0: all)
    shots_seed: int = 0
    workers: int = 0  # DataLoader worker processes
    target: str = "glosses"  # continuous signing: train on "glosses" or on "transcript" words


@dataclass(frozen=True)
class ModelConfig:
    name: str = ""  # empty: the registry's default model
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    boundary: bool = False
    init: str = ""  # checkpoint whose encoder initialises this model (transfer)
    freeze_encoder: bool = False
    # continuous recognition only
    sequence_model: str = "bilstm"
    hidden: int = 256
    layers: int = 2
    downsample: int = 2
    gloss_head: bool = False  # classify each annotated gloss span too (samples with gloss_spans)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    clip_grad: float = 1.0
    label_smoothing: float = 0.1
    mixup: float = 0.0
    cutmix: float = 0.0
    boundary_weight: float = 2.5
    # CTC loss is mean nats per target gloss and the span loss mean nats per span: the same
    # unit, so 1.0 weighs a gloss's alignment signal like its recognition signal
    gloss_weight: float = 1.0
    augment: bool = True  # apply the top-level ``augment`` options to training samples
    # Regularisers of the strongest small-data pose recipes (Kaggle asl-signs); all off by default, see
    # benchmarks/results/islr.md for what each does on real sets
    ema: float = 0.0  # decay of an exponential moving average of the weights, which is validated and kept (0: off)
    sampler: str = "shuffle"  # "shuffle": every training sample once per epoch; "balanced": classes drawn equally
    late_dropout: float = 0.0  # dropout on the pooled features, switched on at ``late_start``
    awp: float = 0.0  # adversarial weight perturbation from ``late_start``: size relative to each weight's norm
    late_start: float = 0.5  # fraction of the epochs after which late_dropout and awp start
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # only ever used on CUDA
    eval_every: int = 1


@dataclass(frozen=True)
class Config:
    task: str = "islr"
    data: DataConfig = DataConfig()
    #: training augmentation (rotation, scale, ...), applied when ``train.augment`` is true
    augment: Augment = Augment()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()

    def to_dict(self) -> dict:
        d = _plain(dataclasses.asdict(self))
        del d["data"]["preprocess"]["augment"]  # the top-level section is the one that is used
        return d


TASKS = ("islr", "cslr")
MODALITIES = ("pose", "rgb")
SPLIT_MODES = ("column", "signer", "random")
TARGETS = ("glosses", "transcript")
SAMPLERS = ("shuffle", "balanced")


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", str(t))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; convert lists to tuples."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, str) and tp is StoreSource:
            return StoreSource(path=value)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of {_type_name(tp)} fields, got {value!r}")
        odd = [k for k in value if not isinstance(k, str)]
        if odd:
            raise ConfigError(f"{key} must have names as keys, got {odd[0]!r}")
        if hasattr(tp, "from_dict"):  # a section with its own checks (preprocess, augment): built once, by them
            try:
                return tp.from_dict(value)
            except ConfigError:
                raise
            except SlrPoseError as e:
                raise ConfigError(f"{key}: {e}") from None
        return _build(tp, value, key)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict, collections.abc.Mapping) or tp is Mapping:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        odd = [k for k in value if not isinstance(k, str)]
        if odd:
            raise ConfigError(f"{key} must have names as keys, got {odd[0]!r}")
        return dict(value)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            number = math.inf
        if not math.isfinite(number):  # YAML's .nan and .inf too
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp!r}")  # pragma: no cover - a bug in this file


def _build(cls: type, values: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in values.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise ConfigError(f"unknown config key {full!r}; known keys here: {', '.join(names)}")
        kwargs[key] = _coerce(value, hints[key], full)
    for f in dataclasses.fields(cls):
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"config key '{prefix}.{f.name}' is missing")
    obj = cls(**kwargs)
    _validate(obj, prefix)
    return obj


def _validate(obj: Any, prefix: str) -> None:
    def bad(key: str, value: Any, why: str) -> ConfigError:
        full = f"{prefix}.{key}" if prefix else key
        return ConfigError(f"{full}={value!r}: {why}")

    if isinstance(obj, Config) and obj.task not in TASKS:
        raise bad("task", obj.task, f"must be one of {', '.join(TASKS)}")
    if isinstance(obj, Config) and obj.task != "islr" and (obj.train.sampler != "shuffle" or obj.train.late_dropout):
        raise bad("train.sampler/late_dropout", (obj.train.sampler, obj.train.late_dropout),
                  "class-balanced sampling and late dropout are for isolated signs (task: islr)")
    if isinstance(obj, Config) and obj.data.modality == "rgb" and obj.task != "islr":
        raise bad("data.modality", obj.data.modality, "RGB clips are for isolated signs (task: islr)")
    if isinstance(obj, SplitConfig):
        if obj.mode not in SPLIT_MODES:
            raise bad("mode", obj.mode, f"must be one of {', '.join(SPLIT_MODES)}")
        for k in ("val_fraction", "test_fraction"):
            if not 0 <= getattr(obj, k) < 1:
                raise bad(k, getattr(obj, k), "must be in [0, 1)")
    if isinstance(obj, DataConfig):
        if obj.preprocess.augment is not None:
            raise bad("preprocess.augment", obj.preprocess.augment, "set augmentation in the top-level augment section")
        if obj.shots < 0 or obj.workers < 0:
            raise bad("shots/workers", (obj.shots, obj.workers), "must not be negative")
        if obj.target not in TARGETS:
            raise bad("target", obj.target, f"must be one of {', '.join(TARGETS)}")
        if obj.modality not in MODALITIES:
            raise bad("modality", obj.modality, f"must be one of {', '.join(MODALITIES)}")
    if isinstance(obj, ClipConfig):
        if obj.frames < 1 or obj.stride < 1 or not 16 <= obj.side <= 1024:
            raise bad("frames/stride/side", (obj.frames, obj.stride, obj.side),
                      "need frames >= 1, stride >= 1 and a side of 16..1024 pixels")
    if isinstance(obj, TrainConfig):
        for k in ("epochs", "batch_size"):
            if getattr(obj, k) < 1:
                raise bad(k, getattr(obj, k), "must be at least 1")
        if obj.lr <= 0:
            raise bad("lr", obj.lr, "must be positive")
        if obj.gloss_weight < 0:
            raise bad("gloss_weight", obj.gloss_weight, "must not be negative")
        if not 0 <= obj.ema < 1:
            raise bad("ema", obj.ema, "must be in [0, 1) (0: off; 0.99 averages about the last 100 steps)")
        if obj.sampler not in SAMPLERS:
            raise bad("sampler", obj.sampler, f"must be one of {', '.join(SAMPLERS)}")
        if not 0 <= obj.late_dropout < 1:
            raise bad("late_dropout", obj.late_dropout, "must be in [0, 1)")
        if not 0 <= obj.awp <= 1:
            raise bad("awp", obj.awp, "must be in [0, 1] (a size relative to each weight's norm)")
        if not 0 <= obj.late_start <= 1:
            raise bad("late_start", obj.late_start, "must be a fraction of the epochs in [0, 1]")
        if obj.device not in ("auto", "cpu", "cuda") and not obj.device.startswith("cuda:"):
            raise bad("device", obj.device, "must be auto, cpu, cuda or cuda:N")
    if isinstance(obj, ModelConfig) and obj.sequence_model not in ("bilstm", "transformer"):
        raise bad("sequence_model", obj.sequence_model, "must be bilstm or transformer")


def config_from_dict(values: Mapping[str, Any]) -> Config:
    """The config of a mapping of sections (YAML, a checkpoint's metadata), validated once."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"a config must be a mapping of sections, got {type(values).__name__}")
    data = values.get("data")
    pre = data.get("preprocess", {}) if isinstance(data, Mapping) else None
    if values.get("task") == "cslr" and isinstance(pre, Mapping) and "length" not in pre:
        # continuous signing reads whole sentences unless told otherwise
        values = {**values, "data": {**data, "preprocess": {**pre, "length": None}}}
    return _build(Config, values, "")


def _parse_override(text: str) -> tuple[list[str], Any]:
    import yaml

    if "=" not in text:
        raise ConfigError(f"override {text!r} is not KEY=VALUE (e.g. train.epochs=5)")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except (yaml.YAMLError, RecursionError):
        value = raw
    return key.strip().split("."), value


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """Set dotted keys (``train.epochs=5``) in a raw config mapping."""
    for text in overrides:
        path, value = _parse_override(text)
        node = values
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r}: {part!r} is not a section")
        node[path[-1]] = value
    return values


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """Read a YAML config, apply ``KEY=VALUE`` overrides, validate.

    Relative paths (stores, grouping table, init checkpoint) resolve against
    the config file's folder.
    """
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigError(f"{path} is not a config: its values nest too deeply") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (task, data, model, train, ...)")
    raw = apply_overrides(raw, list(overrides))
    config = config_from_dict(raw)
    def resolve(p: str) -> str:
        return p if not p or Path(p).is_absolute() else str((path.parent / p).resolve())

    stores = tuple(dataclasses.replace(s, path=resolve(s.path), frames=resolve(s.frames)) for s in config.data.stores)
    data = dataclasses.replace(config.data, stores=stores, groups=resolve(config.data.groups))
    model = dataclasses.replace(config.model, init=resolve(config.model.init))
    return dataclasses.replace(config, data=data, model=model)
