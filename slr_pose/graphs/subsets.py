"""Named landmark subsets that sign recognition uses, selectable from any store.

A subset is a list of landmark names (see :mod:`slr_pose.keypoints.layout`);
:func:`select` finds them in a store's layout, so the same subset works on
stores extracted with any face detail and on imported stores.
"""

from __future__ import annotations

import numpy as np

from slr_pose.errors import LayoutError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.layout import Layout, face_contour_indices, group_names

#: Pose points of the upper body: face landmarks of the pose model, arms, hips.
UPPER_BODY = (
    "NOSE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT",
    "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST",
    "LEFT_HIP", "RIGHT_HIP",
)  # fmt: skip

#: The three points of tracker data such as RWTH-BOSTON-104 (nose tip, hand centres stored as the wrists).
NOSE_WRISTS = ("NOSE", "LEFT_WRIST", "RIGHT_WRIST")

#: Face-mesh parts kept by the ``*_face`` subsets: what carries non-manual signals.
FACE_PARTS = ("LIPS", "LEFT_EYE", "LEFT_EYEBROW", "RIGHT_EYE", "RIGHT_EYEBROW")


def _hands() -> tuple[str, ...]:
    return group_names("left_hand") + group_names("right_hand")


def _upper_body() -> tuple[str, ...]:
    return tuple("pose/" + n for n in UPPER_BODY)


#: name -> landmark names. ``upper_body_hands`` (57 points) is the default. In ``nose_wrists`` the
#: skeleton joins both wrists to the nose (through the dropped arms and shoulders), the centre, so the
#: ``bone`` stream of a wrist is wrist minus nose: hand position relative to the head.
SUBSETS: dict[str, tuple[str, ...]] = {
    "nose_wrists": tuple("pose/" + n for n in NOSE_WRISTS),
    "hands": _hands(),
    "upper_body_hands": _upper_body() + _hands(),
    "upper_body_hands_face": _upper_body() + _hands() + tuple(f"face/{i}" for i in mpn.face_part_points(FACE_PARTS)),
    "holistic_contour": group_names("pose") + _hands() + tuple(f"face/{i}" for i in face_contour_indices()),
}


def subset_names(subset: str) -> tuple[str, ...]:
    try:
        return SUBSETS[subset]
    except (KeyError, TypeError):  # TypeError: not even a name (a list from a config)
        raise LayoutError(f"unknown landmark subset {subset!r}; choose one of {', '.join(SUBSETS)}") from None


def select(layout: Layout, subset: str) -> tuple[Layout, np.ndarray]:
    """The subset's layout and the indices of its landmarks in ``layout``.

    Raises:
        LayoutError: when ``layout`` lacks landmarks of the subset (e.g. a face
            subset on a store extracted without the face).
    """
    names = subset_names(subset)
    try:
        return layout.subset(names, subset)
    except LayoutError as e:
        raise LayoutError(f"subset {subset!r} needs landmarks the data lacks: {e}") from None
