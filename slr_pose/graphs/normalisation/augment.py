"""Training augmentation of landmark clips, reproducible under a seed.

Every random number comes from the ``numpy.random.Generator`` handed to the
pipeline, always in the same order, so a seed fixes the result. Spatial
augmentation is one affine map applied in the body frame (units of shoulder
width, origin at the shoulder midpoint), folded into the normalisation so it
costs nothing extra; temporal augmentation changes which stored frames are
sampled; dropout removes points after gap filling, so the model sees them
exactly like long detection gaps (zeros, mask False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np

from slr_pose.errors import SlrPoseError

# field -> (low, high, high is inclusive)
_RANGES = {
    "rotation": (0.0, 180.0, True),
    "depth_rotation": (0.0, 90.0, True),
    "scale": (0.0, 1.0, False),
    "shear": (0.0, 1.0, True),
    "translation": (0.0, 10.0, True),
    "speed": (0.0, 1.0, False),
    "crop": (0.0, 1.0, False),
    "landmark_dropout": (0.0, 1.0, True),
    "hand_dropout": (0.0, 1.0, True),
    "mirror": (0.0, 1.0, True),
}


@dataclass(frozen=True)
class Augment:
    """Random transforms for training; ``Augment()`` gives moderate defaults.

    Args:
        rotation: largest rotation in the image plane, degrees (uniform in +-).
        depth_rotation: largest rotation about the vertical and horizontal
            axes (turning and nodding), degrees; uses z.
        scale: size factor uniform in ``[1 - scale, 1 + scale]``.
        shear: x += a * y and y += b * x with a, b uniform in +-shear.
        translation: shift in x and y, uniform in +-translation body units.
        speed: playback speed factor uniform in ``[1 - speed, 1 + speed]``.
        crop: cut up to this fraction of the (trimmed) clip, split at random
            between its start and end.
        landmark_dropout: probability that a point of an output frame is dropped.
        hand_dropout: probability, per hand, of dropping it over a random span
            of frames (anything from one frame to the whole clip).
        mirror: probability of mirroring the signer left-right.
    """

    rotation: float = 15.0
    scale: float = 0.15
    shear: float = 0.1
    translation: float = 0.05
    speed: float = 0.2
    crop: float = 0.1
    landmark_dropout: float = 0.05
    hand_dropout: float = 0.1
    mirror: float = 0.0
    depth_rotation: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high, inclusive = _RANGES[f.name]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            ok = ok and low <= value and (value <= high if inclusive else value < high)
            if not ok:
                bound = f"[{low:g}, {high:g}{']' if inclusive else ')'}"
                raise SlrPoseError(f"augment {f.name}={value!r} is outside {bound}")
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Augment":
        """Build from plain values (e.g. YAML); an unknown key is an error that names it."""
        known = {f.name for f in fields(cls)}
        unknown = [k for k in values if k not in known]
        if unknown:  # repr: a key from a file may hold a line break
            raise SlrPoseError(f"unexpected keyword argument {unknown[0]!r}")
        return cls(**values)

    def draw(self, rng: np.random.Generator) -> "Draw":
        """The per-clip random choices (dropout is drawn later, once the output length is known)."""
        u = rng.uniform(-1.0, 1.0, size=9)
        crop_cut, crop_split, mirror = rng.random(3)
        rot = math.radians(self.rotation) * u[0]
        yaw, pitch = math.radians(self.depth_rotation) * u[1], math.radians(self.depth_rotation) * u[2]
        c, s = math.cos(rot), math.sin(rot)
        rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        c, s = math.cos(yaw), math.sin(yaw)
        ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        c, s = math.cos(pitch), math.sin(pitch)
        rx = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
        shear = np.array([[1.0, self.shear * u[4], 0.0], [self.shear * u[5], 1.0, 0.0], [0.0, 0.0, 1.0]])
        linear = (1.0 + self.scale * u[3]) * (rz @ ry @ rx @ shear)
        matrix = np.zeros((3, 4))
        matrix[:, :3] = linear
        matrix[:2, 3] = self.translation * u[6:8]
        cut = self.crop * crop_cut
        return Draw(
            matrix=matrix,
            speed=1.0 + self.speed * u[8],
            crop_head=cut * crop_split,
            crop_tail=cut * (1.0 - crop_split),
            mirror=bool(mirror < self.mirror),
        )

    def dropout(self, rng: np.random.Generator, frames: int, out_len: int, num_nodes: int, hands: list[np.ndarray]) -> np.ndarray:
        """``(out_len, num_nodes)`` bool: points to drop among the first ``frames`` output frames.

        Args:
            hands: node indices of each hand of the subset (for hand dropout).
        """
        drop = np.zeros((out_len, num_nodes), bool)
        drop[:frames] = rng.random((frames, num_nodes)) < self.landmark_dropout
        for nodes in hands:
            hit, span_u, start_u = rng.random(3)
            if hit < self.hand_dropout and len(nodes):
                span = min(1 + int(span_u * frames), frames)
                start = int(start_u * (frames - span + 1))
                drop[start : start + span, nodes] = True
        return drop


@dataclass(frozen=True)
class Draw:
    """One clip's random choices.

    Attributes:
        matrix: ``(3, 4)`` affine map applied in the body frame.
        speed: playback speed factor (> 1: faster, fewer frames).
        crop_head, crop_tail: fractions of the clip cut at its start and end.
        mirror: mirror the signer.
    """

    matrix: np.ndarray
    speed: float
    crop_head: float
    crop_tail: float
    mirror: bool
