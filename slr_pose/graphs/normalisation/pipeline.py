"""From a stored sample to model input: the one call a trainer makes.

Example::

    store = PoseStore("poses.h5")
    pre = Preprocessor(store.layout, subset="upper_body_hands", length=64,
                       streams=("joint", "bone"), augment=Augment())
    out = pre(store.read(0), rng=np.random.default_rng(0))   # training
    out = pre(store.read(0))                                 # evaluation
    out.x.shape          # (pre.num_channels, 64, pre.num_nodes) == (6, 64, 57)

Per sample, in order:

0. validity: a landmark counts as found when its group is not marked missing,
   its coordinates are finite and inside +-1e4 image sizes, and its
   confidence is at least ``min_confidence`` (a NaN confidence never is);
1. body frame (:mod:`slr_pose.graphs.normalisation.body_frame`): isotropic coordinates,
   centred on the shoulder midpoint, in shoulder widths;
2. idle trimming: leading and trailing frames without a hand in view (and,
   with ``idle_speed``, without motion; e.g. 0.15 shoulder widths per second:
   5-10% of the frames of signing in the MSL-150 and Kaggle clips are slower)
   are dropped; a clip with no active frame at all is kept whole;
3. mirroring (``mirror`` or augmentation): left and right swap;
4. gap filling: a landmark missing for at most ``max_gap`` frames between two
   detections is interpolated linearly; longer gaps, and gaps at the start or
   end, stay missing;
5. time: resampled to ``fps`` (when set) and brought to ``length`` frames
   (when set: ``fit="pad"`` pads shorter clips and resamples longer ones,
   ``fit="resample"`` always resamples);
6. streams (:mod:`slr_pose.graphs.streams`).

What a model sees where data is missing: zeros in ``x``, False in
``landmark_mask``; never NaN. ``x`` is always finite. ``observed_mask`` is
``landmark_mask`` without the points that gap filling made up, for losses or
metrics that should count detections only.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation import kernels
from slr_pose.graphs.normalisation.augment import Augment
from slr_pose.graphs.normalisation.body_frame import (
    BODY_METHODS,
    BodyAnchors,
    body_affine,
)
from slr_pose.graphs.normalisation.mirror import left_dominant, mirror_index
from slr_pose.graphs.normalisation.timing import FITS, frame_plan
from slr_pose.graphs.skeleton import Skeleton
from slr_pose.graphs.streams import channel_slices, check_streams, stream_codes
from slr_pose.graphs.subsets import select
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample

__all__ = ["Augment", "PreprocessConfig", "Preprocessor", "Processed"]

BACKENDS = ("numba", "numpy")
_NO_DROP = np.zeros((0, 0), dtype=bool)
_KEEP_SCRATCH = 64 << 20  # bytes of kernel scratch a Preprocessor keeps per thread


@dataclass(frozen=True)
class PreprocessConfig:
    """How samples become model input (all of :class:`Preprocessor` but the layout).

    Args:
        subset: named landmark subset (:data:`slr_pose.graphs.subsets.SUBSETS`).
        length: output frames, or None for variable length (continuous signing).
        fps: resample to this frame rate first (None: keep the stored rate).
        streams: stream names (:data:`slr_pose.graphs.streams.STREAMS`).
        max_gap: longest gap (frames) filled by interpolation; 0 fills none.
        min_confidence: points with a lower confidence are missing (0: keep
            all). MediaPipe's pose visibility is low for body points outside
            the frame, whose positions it guesses: 0.5 drops those.
        trim_idle: drop leading/trailing frames with no hand in view.
        idle_speed: with ``trim_idle``, also drop leading/trailing frames whose
            hands move slower than this (shoulder widths per second; 0: off).
        hand_frame: add the ``hand`` stream (hands in wrist-centred,
            palm-scaled coordinates).
        fit: ``"pad"`` or ``"resample"``, see :func:`slr_pose.graphs.normalisation.timing.frame_plan`.
        dims: 3 for (x, y, z), 2 for (x, y) only.
        mirror: False; True mirrors every sample; ``"auto"`` mirrors samples
            whose left hand signs more than the right (left-dominant signers).
        augment: training augmentation (applied only when a generator is given).
        backend: ``"numba"``; ``"numpy"`` runs the plain NumPy twins (tests,
            benchmarks).
    """

    subset: str = "upper_body_hands"
    length: int | None = 64
    fps: float | None = None
    streams: tuple[str, ...] = ("joint", "bone")
    max_gap: int = 8
    min_confidence: float = 0.0
    trim_idle: bool = True
    idle_speed: float = 0.0
    hand_frame: bool = False
    fit: str = "pad"
    dims: int = 3
    mirror: bool | str = False
    augment: Augment | None = None
    backend: str = "numba"

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen
        set_("streams", check_streams(self.streams))
        if self.length is not None and (not _is_int(self.length) or self.length < 1):
            raise SlrPoseError(f"length must be a positive number of frames or None, not {self.length!r}")
        if self.fps is not None and (not _is_number(self.fps) or not 0 < self.fps < math.inf):
            raise SlrPoseError(f"fps must be a positive number or None, not {self.fps!r}")
        if not _is_int(self.max_gap) or self.max_gap < 0:
            raise SlrPoseError(f"max_gap must be a whole number of frames >= 0, not {self.max_gap!r}")
        if not _is_number(self.min_confidence) or not 0 <= self.min_confidence <= 1:
            raise SlrPoseError(f"min_confidence must be a number in [0, 1], not {self.min_confidence!r}")
        if not _is_number(self.idle_speed) or not 0 <= self.idle_speed < math.inf:
            raise SlrPoseError(f"idle_speed must be a number >= 0, not {self.idle_speed!r}")
        for name in ("trim_idle", "hand_frame"):
            if not isinstance(getattr(self, name), bool):
                raise SlrPoseError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.fit not in FITS:
            raise SlrPoseError(f"fit {self.fit!r} is not one of {', '.join(FITS)}")
        if self.dims not in (2, 3) or isinstance(self.dims, bool):
            raise SlrPoseError(f"dims must be 2 or 3, not {self.dims!r}")
        if self.mirror not in (False, True, "auto") or not isinstance(self.mirror, (bool, str)):
            raise SlrPoseError(f"mirror must be false, true or 'auto', not {self.mirror!r}")
        if isinstance(self.augment, Mapping):
            set_("augment", _build(Augment, self.augment, "augment"))
        if self.augment is not None and not isinstance(self.augment, Augment):
            raise SlrPoseError(f"augment must be an Augment or None, not {self.augment!r}")
        if self.backend not in BACKENDS:
            raise SlrPoseError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.hand_frame and "hand" not in self.streams:
            set_("streams", self.streams + ("hand",))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "PreprocessConfig":
        """Build from plain values (e.g. YAML); unknown keys are an error that names them."""
        return _build(cls, values, "preprocessing")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["streams"] = list(self.streams)
        return d


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def _build(cls, values: Mapping[str, Any], what: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted((k for k in values if k not in known), key=str)  # keys from YAML need not be strings
    if unknown:
        raise SlrPoseError(f"unknown {what} option {unknown[0]!r}; options are {', '.join(sorted(known))}")
    values = dict(values)
    if "streams" in values and isinstance(values["streams"], list):
        values["streams"] = tuple(values["streams"])
    return cls(**values)


@dataclass(slots=True)
class Processed:
    """Model input of one sample.

    Attributes:
        x: ``(C, T, V)`` float32, finite; zero where a value needs a missing point.
        frame_mask: ``(T,)`` bool, True on real frames, False on padding.
        landmark_mask: ``(T, V)`` bool, True where the joint is observed or
            interpolated (False on padding, long gaps and dropped points).
        observed_mask: ``(T, V)`` bool, True where the joint comes from
            detections only: ``landmark_mask`` minus the points filled over
            short gaps (resampling between two detections still counts as
            observed; resampling that uses a filled point does not).
        source_index: ``(T,)`` float32, the fractional stored-frame index each
            output frame was sampled at (-1 on padding): maps sign_start /
            sign_end and gloss spans through trimming, cropping and resampling.
        mirrored: the signer was mirrored left-right.
        body: how the body frame was found (:data:`BODY_METHODS`).
    """

    x: np.ndarray
    frame_mask: np.ndarray
    landmark_mask: np.ndarray
    source_index: np.ndarray
    mirrored: bool
    body: str
    observed_mask: np.ndarray

    @property
    def length(self) -> int:
        """Real (unpadded) frames."""
        return int(self.frame_mask.sum())

    def frames_of(self, start: float, end: float) -> np.ndarray:
        """``(T,)`` bool: output frames sampled from stored frames ``start..end`` (inclusive)."""
        return self.frame_mask & (self.source_index >= start) & (self.source_index <= end)


class Preprocessor:
    """Turns stored samples of one layout into model input; see the module docstring.

    Args:
        layout: the store's layout (``store.layout``).
        config: a :class:`PreprocessConfig`, or its fields as keywords.

    Attributes:
        config: the options.
        store_layout: ``layout`` as given.
        layout: the subset's layout (the model's nodes, in order).
        skeleton: :class:`Skeleton` of the subset.
        num_nodes, num_channels: ``V`` and ``C`` of :attr:`Processed.x`.
        channels: ``{stream: slice}`` into the channel axis.

    Raises:
        SlrPoseError: a bad option, or a subset the layout lacks.
    """

    def __init__(self, layout: Layout, config: PreprocessConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            raise SlrPoseError("give either a PreprocessConfig or options, not both")
        if config is None:
            config = PreprocessConfig.from_dict(options)
        if not isinstance(layout, Layout):
            raise SlrPoseError(f"layout must be a Layout (e.g. store.layout), not {type(layout).__name__}")
        self.config = config
        self.store_layout = layout
        self.layout, self._idx = select(layout, config.subset)
        self.skeleton = Skeleton.from_layout(self.layout)
        self._gidx = layout.group_index[self._idx]
        self._parents = self.skeleton.parents.astype(np.int64)
        self._codes = stream_codes(config.streams)
        self._anchors = BodyAnchors.from_layout(layout)
        self._scratch = threading.local()
        self._hand_of = np.full(self.num_nodes, -1, dtype=np.int64)
        self._hand_wrist = np.full(2, -1, dtype=np.int64)
        self._hand_palm = np.full(2, -1, dtype=np.int64)
        self._hands: list[np.ndarray] = []
        for h, group in enumerate(("left_hand", "right_hand")):
            nodes = np.array([j for j, n in enumerate(self.layout.names) if n.startswith(group + "/")], dtype=np.int64)
            self._hands.append(nodes)
            if f"{group}/WRIST" in self.layout:
                self._hand_of[nodes] = h
                self._hand_wrist[h] = self.layout.index([f"{group}/WRIST"])[0]
                if f"{group}/MIDDLE_FINGER_MCP" in self.layout:
                    self._hand_palm[h] = self.layout.index([f"{group}/MIDDLE_FINGER_MCP"])[0]
        if "hand" in config.streams and not (self._hand_of >= 0).any():
            raise SlrPoseError(f"the hand stream needs hands, and subset {config.subset!r} has none")
        aug_mirror = config.augment is not None and config.augment.mirror > 0
        if config.mirror is not False or aug_mirror:
            self._mirror_perm  # fail now, not on the first sample, if the subset is not symmetric

    def __repr__(self) -> str:
        return f"Preprocessor(layout={self.store_layout.name!r}, {self.config})"

    @property
    def num_nodes(self) -> int:
        return self.layout.num_landmarks

    @property
    def num_channels(self) -> int:
        return len(self.config.streams) * self.config.dims

    @property
    def channels(self) -> dict[str, slice]:
        return channel_slices(self.config.streams, self.config.dims)

    @cached_property
    def _mirror_perm(self) -> tuple[np.ndarray, np.ndarray]:
        perm = mirror_index(self.layout)
        return self._idx[perm], self._gidx[perm]

    def with_layout(self, layout: Layout) -> "Preprocessor":
        """The same preprocessing for samples of another store layout."""
        return Preprocessor(layout, self.config)

    def __call__(self, sample: Sample, rng: np.random.Generator | None = None, *, mirror: bool | None = None) -> Processed:
        """Model input of ``sample``.

        Args:
            sample: a sample of :attr:`store_layout`.
            rng: a generator turns augmentation on (when configured); None
                gives the deterministic result.
            mirror: overrides the configured mirroring for this sample.

        Raises:
            SlrPoseError: an empty sample, arrays that do not match the
                layout, or no frame rate where one is needed.
        """
        cfg = self.config
        sample.check(self.store_layout)
        xyz = np.ascontiguousarray(sample.xyz, dtype=np.float32)
        missing = np.ascontiguousarray(sample.missing, dtype=bool)
        conf = np.ascontiguousarray(sample.confidence, dtype=np.float32)
        min_conf = float(cfg.min_confidence)
        aspect = float(sample.info.aspect)
        fps = self._source_fps(sample) if cfg.fps is not None or cfg.idle_speed > 0 else 1.0
        k, r = kernels if cfg.backend == "numba" else _twin_kernels(), self._anchors
        cx, cy, scale, method, first, last = k.clip_frame(
            xyz, missing, conf, min_conf, r.ref, r.ref_group, aspect, r.motion, r.motion_group, fps,
            float(cfg.idle_speed), cfg.trim_idle,
        )  # fmt: skip
        if mirror is None:
            mirror = cfg.mirror if cfg.mirror != "auto" else left_dominant(sample, self.store_layout)
        aug = cfg.augment if rng is not None else None
        draw = aug.draw(rng) if aug is not None else None
        step = fps / cfg.fps if cfg.fps is not None else 1.0
        if draw is not None:
            mirror = mirror != draw.mirror
            step *= draw.speed
            span = last - first
            first, last = first + draw.crop_head * span, last - draw.crop_tail * span
        affine = body_affine(aspect, cx, cy, scale, mirror=bool(mirror))
        if draw is not None:
            affine = draw.matrix[:, :3] @ affine
            affine[:, 3] += draw.matrix[:, 3]
        first, step, n, out_len = frame_plan(first, last, step=step, length=cfg.length, fit=cfg.fit)
        drop = _NO_DROP
        if aug is not None and (aug.landmark_dropout > 0 or aug.hand_dropout > 0):
            drop = aug.dropout(rng, n, out_len, self.num_nodes, self._hands)
        idx, gidx = self._mirror_perm if mirror else (self._idx, self._gidx)
        work = self._work(3 * self.num_nodes * (len(xyz) + n))
        x, mask, observed, source = k.normalise(
            xyz, missing, conf, min_conf, idx, gidx, affine, cfg.max_gap, first, step, n, out_len, drop, self._parents,
            self._codes, cfg.dims, self._hand_of, self._hand_wrist, self._hand_palm, work,
        )  # fmt: skip
        return Processed(x, source >= 0, mask, source, bool(mirror), BODY_METHODS[method], observed)

    def _work(self, size: int) -> np.ndarray:
        """This thread's scratch buffer for the kernel, grown when needed (kept up to 64 MB)."""
        buf = getattr(self._scratch, "buffer", None)
        if buf is None or buf.shape[0] < size:
            buf = np.empty(size + size // 4)
            if buf.nbytes <= _KEEP_SCRATCH:
                self._scratch.buffer = buf
        return buf

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_scratch"]  # per thread, per process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._scratch = threading.local()

    def _source_fps(self, sample: Sample) -> float:
        fps = sample.info.fps
        if math.isfinite(fps) and fps > 0:
            return float(fps)
        if len(sample.time) > 1:
            dt = np.diff(sample.time.astype(np.float64))
            dt = dt[np.isfinite(dt) & (dt > 0)]
            if len(dt):
                return float(1.0 / np.median(dt))
        raise SlrPoseError(
            f"sample {sample.info.id!r} has no frame rate (fps) and its frame times give none; "
            "fps and idle_speed need one"
        )


def _twin_kernels():
    from slr_pose.graphs.normalisation import (
        twins,  # the plain NumPy twins: only for backend numpy
    )

    return twins
