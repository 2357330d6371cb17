"""Left/right mirroring of landmark layouts and samples.

Mirroring a signer (for left-dominant signers, or as augmentation) is more
than negating x: the subject's left and right sides swap, so every landmark
takes the place of its mirror partner. Partners are found by name:

- pose: ``LEFT_*`` <-> ``RIGHT_*`` (``MOUTH_LEFT`` <-> ``MOUTH_RIGHT``; the nose
  stays);
- hands: ``left_hand/X`` <-> ``right_hand/X``;
- face mesh: :data:`slr_pose.graphs.normalisation.face_mirror.FACE_MIRROR`.

MediaPipe's z is depth from the camera, which a mirror leaves alone.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from slr_pose.errors import LayoutError
from slr_pose.graphs.normalisation.face_mirror import FACE_MIRROR
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample


def partner_name(name: str) -> str:
    """The landmark at the mirror position of ``name`` (``"pose/LEFT_WRIST"`` -> ``"pose/RIGHT_WRIST"``)."""
    group, point = name.split("/", 1)
    if group == "left_hand":
        return "right_hand/" + point
    if group == "right_hand":
        return "left_hand/" + point
    if group == "face":
        return f"face/{FACE_MIRROR[int(point)]}"
    return f"{group}/" + point.replace("LEFT", "\0").replace("RIGHT", "LEFT").replace("\0", "RIGHT")


def mirror_index(layout: Layout) -> np.ndarray:
    """``(V,)`` int64: for each landmark, the index of its mirror partner in ``layout``.

    Raises:
        LayoutError: when a partner is not in the layout (the layout is not
            left/right symmetric, so it cannot be mirrored).
    """
    partners = [partner_name(n) for n in layout.names]
    lacking = [(n, p) for n, p in zip(layout.names, partners) if p not in layout]
    if lacking:
        n, p = lacking[0]
        raise LayoutError(f"layout {layout.name!r} cannot be mirrored: it has {n} but not its mirror {p}")
    return layout.index(partners)


def mirror_group_index(layout: Layout) -> np.ndarray:
    """``(G,)`` int64: the missing-mask column that takes each column's place (hands swap)."""
    swap = {"left_hand": "right_hand", "right_hand": "left_hand"}
    groups = list(layout.groups)
    return np.array([groups.index(swap.get(g, g)) if swap.get(g, g) in groups else j for j, g in enumerate(groups)])


def mirror_sample(sample: Sample, layout: Layout | None = None) -> Sample:
    """The sample as if its video had been flipped left-right (x -> 1 - x in image fractions).

    Mirroring twice gives the sample back.
    """
    layout = sample.layout_or(layout)
    perm = mirror_index(layout)
    xyz = sample.xyz[:, perm].copy()
    xyz[..., 0] = 1.0 - xyz[..., 0]
    return replace(
        sample,
        xyz=xyz,
        confidence=sample.confidence[:, perm].copy(),
        missing=sample.missing[:, mirror_group_index(layout)].copy(),
    )


def hand_activity(sample: Sample, layout: Layout | None = None) -> tuple[tuple[float, int], tuple[float, int]]:
    """How much the left and the right hand sign: ``(wrist path length, frames seen)`` each.

    The path is in image heights, over consecutive frames where the wrist
    was found; the hand model's wrists are used where the layout has hands,
    else the pose wrists. A hand never found scores ``(0.0, 0)``.
    """
    layout = sample.layout_or(layout)
    scores = []
    aspect = sample.info.aspect
    for side in ("left", "right"):
        names = (f"{side}_hand/WRIST", f"pose/{side.upper()}_WRIST")
        name = next((n for n in names if n in layout), None)
        if name is None:
            scores.append((0.0, 0))
            continue
        i = int(layout.index([name])[0])
        p = sample.xyz[:, i, :2].astype(np.float64) * (aspect, 1.0)
        ok = np.isfinite(p).all(-1) & ~sample.missing[:, layout.group_index[i]]
        step = np.linalg.norm(np.diff(p, axis=0), axis=-1)
        both = ok[1:] & ok[:-1]
        scores.append((float(step[both].sum()), int(ok.sum())))
    return scores[0], scores[1]


def left_dominant(sample: Sample, layout: Layout | None = None) -> bool:
    """True when the left hand signs more than the right: a longer path, or as long and seen more often."""
    layout = sample.layout_or(layout)
    left, right = hand_activity(sample, layout)
    return left > right
