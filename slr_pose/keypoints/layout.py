"""Landmark layouts: which named landmarks a landmark array holds, in which order.

A layout is data: an ordered tuple of landmark names ``"group/NAME"`` where the
group is one of :data:`GROUPS` and ``NAME`` is MediaPipe's own name for the
point (``pose/LEFT_WRIST``, ``right_hand/INDEX_FINGER_TIP``) or, for the face
mesh, which has no names, its mesh index (``face/61``). Groups are contiguous,
in the order of :data:`GROUPS`.

Every store has one layout; every array with a landmark axis ``V`` follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

from slr_pose.errors import LayoutError
from slr_pose.keypoints import mediapipe_names as mpn

#: Landmark groups in storage order. The missing mask of a store has one
#: column per group present in its layout, in this order.
GROUPS = ("pose", "left_hand", "right_hand", "face")

#: How much of the face mesh a holistic layout keeps.
FACE_DETAIL = ("none", "contour", "full")


def face_contour_indices() -> tuple[int, ...]:
    """Face-mesh indices on the lips, eyes, eyebrows and face oval (128 points)."""
    return mpn.face_part_points()


@dataclass(frozen=True)
class Layout:
    """An ordered set of named landmarks.

    Args:
        name: short identifier stored with the data (``"holistic"``,
            ``"holistic-face-contour"``, ...).
        names: landmark names ``"group/NAME"``; groups contiguous and ordered
            as in :data:`GROUPS`.
    """

    name: str
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        if len(set(self.names)) != len(self.names):
            raise LayoutError(f"layout {self.name!r} names a landmark twice")
        order = []
        for n in self.names:
            group = n.split("/", 1)[0]
            if "/" not in n or group not in GROUPS:
                raise LayoutError(
                    f"landmark name {n!r} in layout {self.name!r} is not 'group/NAME' "
                    f"with group one of {', '.join(GROUPS)}"
                )
            if not order or order[-1] != group:
                order.append(group)
        if len(order) != len(set(order)) or order != sorted(order, key=GROUPS.index):
            raise LayoutError(f"layout {self.name!r}: groups must be contiguous, in the order {GROUPS}")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_landmarks(self) -> int:
        return len(self.names)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """Groups present, in storage order."""
        return tuple(g for g in GROUPS if g in self.group_slices)

    @cached_property
    def group_slices(self) -> dict[str, slice]:
        """``{group: slice}`` into the landmark axis."""
        slices: dict[str, slice] = {}
        for i, n in enumerate(self.names):
            g = n.split("/", 1)[0]
            s = slices.get(g)
            slices[g] = slice(i, i + 1) if s is None else slice(s.start, i + 1)
        return {g: slices[g] for g in GROUPS if g in slices}

    @cached_property
    def group_index(self) -> np.ndarray:
        """``(V,)`` int: for each landmark, the column of its group in the missing mask."""
        out = np.empty(len(self.names), dtype=np.int64)
        for j, g in enumerate(self.groups):
            out[self.group_slices[g]] = j
        return out

    @cached_property
    def _position(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.names)}

    def index(self, names: Iterable[str]) -> np.ndarray:
        """Indices of ``names`` in this layout, in the order given.

        Raises:
            LayoutError: naming the landmarks this layout lacks.
        """
        names = list(names)
        lacking = [n for n in names if n not in self._position]
        if lacking:
            shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
            raise LayoutError(f"layout {self.name!r} has no landmark {shown}")
        return np.array([self._position[n] for n in names], dtype=np.int64)

    def __contains__(self, name: object) -> bool:
        return name in self._position

    def subset(self, names: Sequence[str], name: str) -> tuple["Layout", np.ndarray]:
        """A layout of ``names`` (reordered to storage order) and their indices here."""
        idx = np.sort(self.index(names))
        return Layout(name, tuple(self.names[i] for i in idx)), idx


def group_names(group: str, face_detail: str = "full") -> tuple[str, ...]:
    """Landmark names of one group as MediaPipe Holistic reports it."""
    if group == "pose":
        return tuple("pose/" + n for n in mpn.POSE_NAMES)
    if group in ("left_hand", "right_hand"):
        return tuple(f"{group}/{n}" for n in mpn.HAND_NAMES)
    if group == "face":
        return tuple(f"face/{i}" for i in face_mesh_indices(face_detail))
    raise LayoutError(f"unknown landmark group {group!r}; expected one of {', '.join(GROUPS)}")


def face_mesh_indices(face_detail: str) -> tuple[int, ...]:
    """Face-mesh indices kept at a face detail level (``none``, ``contour``, ``full``)."""
    if face_detail == "none":
        return ()
    if face_detail == "contour":
        return face_contour_indices()
    if face_detail == "full":
        return tuple(range(mpn.NUM_FACE_MESH))
    raise LayoutError(f"face detail {face_detail!r} is not one of {', '.join(FACE_DETAIL)}")


def holistic_layout(face: str = "contour") -> Layout:
    """The MediaPipe Holistic layout: pose 33, left hand 21, right hand 21, then the face.

    Args:
        face: face detail, one of :data:`FACE_DETAIL` (0, 128 or 468 face points).
    """
    names = group_names("pose") + group_names("left_hand") + group_names("right_hand")
    names += group_names("face", face)
    return Layout(holistic_layout_name(face), names)


def holistic_layout_name(face: str) -> str:
    if face not in FACE_DETAIL:
        raise LayoutError(f"face detail {face!r} is not one of {', '.join(FACE_DETAIL)}")
    return "holistic" if face == "full" else f"holistic-face-{face}"


def face_detail(layout: Layout) -> str:
    """The face detail (:data:`FACE_DETAIL`) of a holistic layout, or its own name for any other layout."""
    for face in FACE_DETAIL:
        if holistic_layout(face).names == layout.names:
            return face
    return layout.name
