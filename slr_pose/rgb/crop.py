"""Pose-guided crops: the signer's square box from the stored landmarks, and the crop itself.

An RGB model sees the signer, not the room: the box spans the head, the
shoulders and both hands over the whole clip (one box per sample, so the
camera does not seem to move), widened by a margin, made square and moved
inside the frame. Landmarks come from the pose store, where x and y are
fractions of the source frame's width and height; the box is in pixels of
whatever frame size it is asked for (the source's, or that of frames
decoded smaller with ``max_side``), since fractions do not depend on it.

Units: pixels, origin at the top-left corner, x to the right, y down; a box
covers columns ``x0 : x0 + side`` and rows ``y0 : y0 + side`` (end excluded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample
from slr_pose.keypoints.video import import_cv2

#: Pose landmarks that make up the signer: the head (face, eyes, ears, mouth),
#: the shoulders, the wrists and the pose model's coarse hand points (which
#: stand in for a hand the hand model missed).
BOX_POSE_POINTS = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
    "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER",
    "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
    "LEFT_THUMB", "RIGHT_THUMB",
)  # fmt: skip
#: Whole groups that are part of the signer whenever the layout has them.
BOX_GROUPS = ("left_hand", "right_hand", "face")

#: Default margin on each side, as a fraction of the landmarks' extent: the
#: landmarks are joint centres, so fingertips, hair and elbows lie outside them.
DEFAULT_MARGIN = 0.15


@dataclass(frozen=True)
class Box:
    """A square in pixels: columns ``x0 : x0 + side``, rows ``y0 : y0 + side``.

    Attributes:
        found: False when no landmark was found in any frame and the box is
            the fallback (the centred square of the frame, all of a square frame).
    """

    x0: int
    y0: int
    side: int
    found: bool = True

    @property
    def x1(self) -> int:
        return self.x0 + self.side

    @property
    def y1(self) -> int:
        return self.y0 + self.side

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether pixel positions ``x``, ``y`` (any equal shapes) lie inside the box."""
        return (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)

    def inside(self, width: int, height: int) -> bool:
        """The box lies within a ``width`` x ``height`` frame."""
        return self.side >= 1 and self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height


def box_landmarks(layout: Layout) -> np.ndarray:
    """Indices into ``layout`` of the landmarks a signer box spans (those the layout has)."""
    names = [f"pose/{n}" for n in BOX_POSE_POINTS if f"pose/{n}" in layout]
    idx = list(layout.index(names))
    for group in BOX_GROUPS:
        sl = layout.group_slices.get(group)
        if sl is not None:
            idx.extend(range(sl.start, sl.stop))
    if not idx:
        raise SlrPoseError(f"layout {layout.name!r} has no pose, hand or face landmarks to place a signer box")
    return np.array(sorted(idx), dtype=np.int64)


def signer_box(
    sample: Sample,
    layout: Layout,
    margin: float = DEFAULT_MARGIN,
    *,
    size: tuple[int, int] | None = None,
) -> Box:
    """The signer's square box over the whole clip, inside the frame.

    Args:
        sample: a stored sample; ``xyz[..., :2]`` are fractions of the frame's
            width and height (NaN or flagged missing where not found; points
            MediaPipe places past the edge count at the edge).
        layout: the store's layout.
        margin: added on each side, as a fraction of the landmarks' extent
            (their longer side), before the box is made square.
        size: ``(width, height)`` in pixels of the frames the box is for;
            default the source's, ``sample.info.width`` x ``height``.

    Returns:
        The square around every found landmark of :func:`box_landmarks`,
        centred on them, shrunk to the frame's shorter side if wider, then
        shifted inside the frame (:func:`clamp`). With no landmark found in
        any frame: the centred square of the frame, ``found=False``.

    Raises:
        SlrPoseError: the frame size is unknown, or ``margin`` is negative.
    """
    width, height = size if size is not None else (sample.info.width, sample.info.height)
    if not (width > 0 and height > 0):
        raise SlrPoseError(f"sample {sample.info.id!r}: frame size unknown ({width}x{height}); pass size=(width, height)")
    if not margin >= 0:
        raise SlrPoseError(f"margin {margin} is not a number >= 0")
    idx = box_landmarks(layout)
    valid = sample.valid(layout)[:, idx]  # (T, V')
    xy = sample.xyz[:, idx, :2][valid]  # (P, 2) fractions
    xy = xy[np.isfinite(xy).all(-1)]
    if len(xy) == 0:
        return clamp(width // 2 - min(width, height) // 2, height // 2 - min(width, height) // 2,
                     min(width, height), width, height, found=False)
    xy = np.clip(xy, 0.0, 1.0) * np.array([width, height], dtype=np.float64)
    lo, hi = xy.min(0), xy.max(0)
    extent = float(max(hi - lo))
    side = max(extent * (1 + 2 * margin), 1.0)
    cx, cy = (lo + hi) / 2
    # outward rounding on both ends keeps every landmark inside the integer box
    x0, y0 = math.floor(cx - side / 2), math.floor(cy - side / 2)
    side_px = max(math.ceil(cx + side / 2) - x0, math.ceil(cy + side / 2) - y0)
    return clamp(x0, y0, side_px, width, height)


def clamp(x0: int, y0: int, side: int, width: int, height: int, *, found: bool = True) -> Box:
    """The square ``(x0, y0, side)`` moved (and if need be shrunk) to lie within a ``width`` x ``height`` frame.

    A square wider than the frame's shorter side keeps its centre and is cut
    to that side: the crop stays square rather than padding past the image.
    """
    if width < 1 or height < 1:
        raise SlrPoseError(f"frame size {width}x{height} is not positive")
    side = max(1, min(int(side), width, height))
    x0 = min(max(int(x0), 0), width - side)
    y0 = min(max(int(y0), 0), height - side)
    return Box(x0, y0, side, found)


def crop_frames(frames: np.ndarray | Sequence[np.ndarray], box: Box, side: int) -> np.ndarray:
    """Cut ``box`` out of every frame and resize it to ``side`` x ``side``.

    Args:
        frames: ``(T, H, W, 3)`` uint8 (or a sequence of ``(H, W, 3)``), RGB.
        box: a box inside the frames (see :meth:`Box.inside`).
        side: output side in pixels.

    Returns:
        ``(T, side, side, 3)`` uint8, same channel order. Area interpolation
        when shrinking (no aliasing), bilinear when enlarging.

    Raises:
        SlrPoseError: the box does not lie inside a frame, or ``side`` < 1.
    """
    if side < 1:
        raise SlrPoseError(f"crop side {side} is not a positive number of pixels")
    cv2 = import_cv2()
    interp = cv2.INTER_AREA if box.side >= side else cv2.INTER_LINEAR
    out = np.empty((len(frames), side, side, 3), np.uint8)
    for t, frame in enumerate(frames):
        h, w = frame.shape[:2]
        if not box.inside(w, h):
            raise SlrPoseError(f"box {box.x0},{box.y0} side {box.side} does not lie inside a {w}x{h} frame")
        patch = frame[box.y0 : box.y1, box.x0 : box.x1]
        out[t] = patch if box.side == side else cv2.resize(patch, (side, side), interpolation=interp)
    return out

