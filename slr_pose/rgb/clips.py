"""Clips for a video encoder: which cached frames to read, how to augment them, how to normalise.

Sampling follows Logos (and the Kinetics recipes of the MViT papers): ``T``
frames (16 or 32) ``stride`` frames apart; a random start in training, the
centred window in evaluation; a sign shorter than the window is padded by
repeating its last frame (the encoders see real frames only, never zeros).

Augmentation (training only, reproducible from a ``numpy`` generator): one
random resized crop inside the signer square for the whole clip, one colour
jitter (brightness, contrast, saturation) for the whole clip, and a
horizontal flip only when a :data:`FlipPolicy` says what a mirrored sign
means. Mirroring turns a right-handed sign into a left-handed one, which in
some sign languages is a different sign or none at all, so it is off unless
the caller knows.

Layouts: frames as cached ``(T, S, S, 3)`` uint8 RGB; model input
``(C, T, H, W)`` float32 with ``C = 3``, normalised with the Kinetics-400
mean and standard deviation that torchvision's video weights expect.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import SampleInfo

#: Per-channel mean and std (RGB, values in 0..1) of torchvision's Kinetics-400 video models.
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)

#: ``label -> label of the mirrored sign`` (the same label for a symmetric
#: sign), or None where a mirrored clip must not be used.
FlipPolicy = Callable[[str], Optional[str]]


def sign_range(info: SampleInfo) -> tuple[int, int]:
    """``(start, stop)``: the stored frames of the sign (stop excluded), the whole sample where unknown."""
    start = info.sign_start if 0 <= info.sign_start < info.length else 0
    stop = info.sign_end + 1 if start <= info.sign_end < info.length else info.length
    return start, stop


@dataclass(frozen=True)
class ClipSampling:
    """``num_frames`` frame indices, ``stride`` apart.

    Args:
        num_frames: T, frames per clip.
        stride: distance between sampled frames, in stored frames (at the
            store's frame rate: 2 at 25 fps covers 1.28 s with T = 16).
    """

    num_frames: int = 16
    stride: int = 2

    def __post_init__(self) -> None:
        for name in ("num_frames", "stride"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise SlrPoseError(f"clip {name} {v!r} is not a positive whole number")

    @property
    def span(self) -> int:
        """Stored frames a full clip covers, first to last."""
        return (self.num_frames - 1) * self.stride + 1

    def indices(self, length: int, rng: np.random.Generator | None = None, *, start: int = 0,
                stop: int | None = None) -> np.ndarray:
        """``(T,)`` int64 frame indices inside ``start : stop`` of a sample of ``length`` frames.

        Args:
            length: frames of the sample.
            rng: training: the window starts at a uniformly random frame;
                None (evaluation): the window is centred.
            start, stop: the frames to sample from, e.g. :func:`sign_range`
                (stop excluded; default the whole sample).

        A range shorter than :attr:`span` starts at ``start`` and repeats its
        last frame for the indices past its end.
        """
        stop = length if stop is None else stop
        if not 0 <= start < stop <= length:
            raise SlrPoseError(f"frames {start}:{stop} are not a non-empty range inside a sample of {length} frames")
        room = (stop - start) - self.span  # spare frames around a full window
        if room >= 0:
            first = start + (int(rng.integers(0, room + 1)) if rng is not None else room // 2)
        else:
            first = start
        idx = first + self.stride * np.arange(self.num_frames, dtype=np.int64)
        return np.minimum(idx, stop - 1)


@dataclass(frozen=True)
class VideoAugment:
    """Training-time augmentation of one clip, every random draw from the generator given.

    Args:
        out_side: side of the returned frames (None: the cached side).
        crop_scale: area of the random crop as a fraction of the square, (low, high).
        crop_ratio: its width / height, drawn log-uniformly, (low, high).
        brightness, contrast, saturation: jitter strength x, factors drawn
            uniformly from [1 - x, 1 + x] (0 turns one off).
        flip: a :data:`FlipPolicy`; None (the default) never flips.
        flip_probability: chance of a flip when the policy allows it.
    """

    out_side: int | None = None
    crop_scale: tuple[float, float] = (0.6, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    flip: FlipPolicy | None = None
    flip_probability: float = 0.5

    def __post_init__(self) -> None:
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise SlrPoseError(f"crop_scale {self.crop_scale} is not 0 < low <= high <= 1")
        if not 0 < self.crop_ratio[0] <= self.crop_ratio[1]:
            raise SlrPoseError(f"crop_ratio {self.crop_ratio} is not 0 < low <= high")
        for name in ("brightness", "contrast", "saturation"):
            if not 0 <= getattr(self, name) < 1:
                raise SlrPoseError(f"{name} jitter {getattr(self, name)} is not in 0..1")
        if not 0 <= self.flip_probability <= 1:
            raise SlrPoseError(f"flip_probability {self.flip_probability} is not in 0..1")

    def __call__(self, frames: np.ndarray, rng: np.random.Generator, label: str = "") -> tuple[np.ndarray, str]:
        """``(T, S, S, 3)`` uint8 -> (``(3, T, H, W)`` float32 normalised, the clip's label).

        The label changes only when the clip is flipped and the policy maps
        the sign to another one.
        """
        t, s = _check_frames(frames)
        side = self.out_side or s
        x0, y0, w, h = self._crop_window(s, rng)
        clip = _resize(frames[:, y0 : y0 + h, x0 : x0 + w], side)
        if self.flip is not None and rng.random() < self.flip_probability:
            mirrored = self.flip(label)
            if mirrored is not None:
                clip, label = clip[:, :, ::-1], mirrored
        x = clip.astype(np.float32) / 255.0  # (T, H, W, 3)
        x = self._jitter(x, rng)
        return _normalise(x), label

    def _crop_window(self, s: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        """``(x0, y0, w, h)`` of a random crop inside an ``s`` x ``s`` square (torchvision's recipe)."""
        log_lo, log_hi = math.log(self.crop_ratio[0]), math.log(self.crop_ratio[1])
        for _ in range(10):
            area = s * s * rng.uniform(*self.crop_scale)
            ratio = math.exp(rng.uniform(log_lo, log_hi))
            w, h = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
            if 1 <= w <= s and 1 <= h <= s:
                return int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - h + 1)), w, h
        return 0, 0, s, s  # no window fitted: the whole square

    def _jitter(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Brightness, contrast, saturation with one factor each for the whole clip (frames must not flicker)."""
        b, c, sat = (rng.uniform(1 - v, 1 + v) for v in (self.brightness, self.contrast, self.saturation))
        x = x * b
        gray = x @ np.array([0.299, 0.587, 0.114], np.float32)  # (T, H, W)
        x = (x - gray.mean()) * c + gray.mean()
        gray = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = gray[..., None] + (x - gray[..., None]) * sat
        return np.clip(x, 0.0, 1.0, out=x)


def to_model_input(frames: np.ndarray, side: int | None = None) -> np.ndarray:
    """Evaluation: ``(T, S, S, 3)`` uint8 -> ``(3, T, side, side)`` float32 normalised, no augmentation."""
    _, s = _check_frames(frames)
    clip = _resize(frames, side or s)
    return _normalise(clip.astype(np.float32) / 255.0)


def _check_frames(frames: np.ndarray) -> tuple[int, int]:
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.shape[1] != frames.shape[2] or frames.dtype != np.uint8:
        raise SlrPoseError(f"frames of shape {frames.shape} and dtype {frames.dtype} are not (T, S, S, 3) uint8")
    if len(frames) == 0:
        raise SlrPoseError("a clip needs at least one frame")
    return frames.shape[0], frames.shape[1]


def _resize(frames: np.ndarray, side: int) -> np.ndarray:
    """``(T, h, w, 3)`` -> ``(T, side, side, 3)`` uint8 (area when shrinking, bilinear when enlarging)."""
    if frames.shape[1:3] == (side, side):
        return frames
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    import cv2

    interp = cv2.INTER_AREA if min(frames.shape[1:3]) >= side else cv2.INTER_LINEAR
    return np.stack([cv2.resize(np.ascontiguousarray(f), (side, side), interpolation=interp) for f in frames])


def _normalise(x: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)`` float32 in 0..1 -> ``(3, T, H, W)`` normalised with :data:`KINETICS_MEAN`, :data:`KINETICS_STD`."""
    x = (x - np.array(KINETICS_MEAN, np.float32)) / np.array(KINETICS_STD, np.float32)
    return np.ascontiguousarray(x.transpose(3, 0, 1, 2), dtype=np.float32)
