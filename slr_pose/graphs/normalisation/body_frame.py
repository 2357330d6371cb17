"""The body frame: where a clip's landmarks are centred and how they are scaled.

Stored x and y are fractions of the frame's width and height; the body frame
first makes them isotropic (x * aspect, so both count image heights), then
centres x and y on the signer's shoulder midpoint and divides by the shoulder
width. Centre and width are clip-wide medians over the frames where both
shoulders are seen, so frames without shoulders, jitter and a few wild
detections do not move them, and whole-body motion stays visible to a model.

Fallbacks, in order (the method is reported as :data:`BODY_METHODS`):

1. ``"shoulders"``: as above, from the store's pose (even when the chosen
   subset has no pose points, e.g. ``hands``);
2. ``"hands"``: no shoulders anywhere in the clip (hands-only stores): the
   median hand-model wrist is the centre, and the median palm length (wrist
   to middle-finger MCP, 3D) times ``SHOULDERS_PER_PALM`` (3.5, measured on
   MSL-150) the scale, so hands-only clips land in about the same units;
3. ``"image"``: nothing to go by (no shoulders or hands found at all): the
   image centre and the image height.

z is MediaPipe's relative depth, in about the units of x, with a different
origin per model (hip centre for the pose, wrist for a hand), so it is scaled
like x (``z * aspect / scale``) but not shifted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slr_pose.graphs.normalisation import kernels
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample

#: Names of the body-frame methods, indexed by the kernel's method code.
BODY_METHODS = ("shoulders", "hands", "image")

_REFERENCE = (
    "pose/LEFT_SHOULDER",
    "pose/RIGHT_SHOULDER",
    "left_hand/WRIST",
    "left_hand/MIDDLE_FINGER_MCP",
    "right_hand/WRIST",
    "right_hand/MIDDLE_FINGER_MCP",
)
# Points whose presence means "a hand is in view" for idle trimming.
_HAND_MOTION = ("WRIST", "THUMB_TIP", "INDEX_FINGER_TIP")


def _indices(layout: Layout, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Store indices (-1 when absent) and their mask columns (-1 when absent)."""
    idx = np.array([layout.index([n])[0] if n in layout else -1 for n in names], dtype=np.int64)
    group = np.where(idx >= 0, layout.group_index[np.maximum(idx, 0)], -1).astype(np.int64)
    return idx, group


@dataclass(frozen=True)
class BodyAnchors:
    """The landmarks of a store layout that the body frame and idle trimming use.

    Attributes:
        ref, ref_group: ``(6,)`` store indices (-1 if absent) and mask columns
            of the left and right shoulder, then each hand's wrist and
            middle-finger MCP (left, right).
        motion, motion_group: ``(M,)`` points that show a hand in view: each
            hand's wrist, thumb tip and index tip; the pose wrists when the
            layout has no hands.
    """

    ref: np.ndarray
    ref_group: np.ndarray
    motion: np.ndarray
    motion_group: np.ndarray

    @classmethod
    def from_layout(cls, layout: Layout) -> "BodyAnchors":
        ref, ref_group = _indices(layout, _REFERENCE)
        hands = [f"{h}/{p}" for h in ("left_hand", "right_hand") if h in layout.groups for p in _HAND_MOTION]
        if not hands:
            hands = ["pose/LEFT_WRIST", "pose/RIGHT_WRIST"]
        motion, motion_group = _indices(layout, tuple(hands))
        keep = motion >= 0
        return cls(ref, ref_group, motion[keep], motion_group[keep])


def body_affine(aspect: float, cx: float, cy: float, scale: float, *, mirror: bool = False) -> np.ndarray:
    """``(3, 4)`` map from stored (x, y, z, 1) to the body frame.

    ``x' = (x * aspect - cx) / scale``, ``y' = (y - cy) / scale``,
    ``z' = z * aspect / scale``; ``mirror`` negates x' (the left-right flip of
    a clip about the signer's centre).
    """
    a = np.zeros((3, 4))
    sign = -1.0 if mirror else 1.0
    a[0, 0], a[0, 3] = sign * aspect / scale, -sign * cx / scale
    a[1, 1], a[1, 3] = 1.0 / scale, -cy / scale
    a[2, 2] = aspect / scale
    return a


def body_frame(sample: Sample, layout: Layout | None = None, min_confidence: float = 0.0) -> tuple[tuple[float, float], float, str]:
    """The centre ``(cx, cy)`` (isotropic image units), scale and method of one clip."""
    layout = sample.layout_or(layout)
    r = BodyAnchors.from_layout(layout)
    xyz = np.ascontiguousarray(sample.xyz, dtype=np.float32)
    missing = np.ascontiguousarray(sample.missing, dtype=bool)
    confidence = np.ascontiguousarray(sample.confidence, dtype=np.float32)
    cx, cy, scale, method, _, _ = kernels.clip_frame(
        xyz, missing, confidence, float(min_confidence), r.ref, r.ref_group, float(sample.info.aspect),
        r.motion, r.motion_group, 1.0, 0.0, False,
    )  # fmt: skip
    return (float(cx), float(cy)), float(scale), BODY_METHODS[method]
