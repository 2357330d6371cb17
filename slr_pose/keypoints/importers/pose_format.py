"""pose-format ``.pose`` files holding MediaPipe Holistic landmarks.

A ``.pose`` file (github.com/sign-language-processing/pose) is a header (frame
size, named components with named points) and a body of coordinates and
confidences, ``(frames, people, points, dims)``. pose-format's own MediaPipe
path (``video_to_pose --format mediapipe``, ``pose_format.utils.holistic``)
writes the components

=========================  =====================================================
``POSE_LANDMARKS``          33 points named as MediaPipe's ``PoseLandmark``
``FACE_LANDMARKS``          468 mesh points named ``"0"`` ... ``"467"`` (478 with
                            refined irises, whose extra points are dropped)
``LEFT_HAND_LANDMARKS``     21 points named as MediaPipe's ``HandLandmark``
``RIGHT_HAND_LANDMARKS``    the same
``POSE_WORLD_LANDMARKS``    metric 3-D pose: ignored (the store holds image coordinates)
=========================  =====================================================

Points are matched by component and point name, so reduced files (e.g. only
the face contours) import too. x and y are pixels in the file and are divided
by the header's width and height; z is kept as MediaPipe gives it. Confidence
0 means missing; pose confidence is MediaPipe's visibility and is kept. fps,
width and height come from the header unless the caller overrides them.

pose-format is an optional dependency (``pip install "slr-pose[pose-format]"``).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.importers.core import (
    Candidate,
    Geometry,
    assemble,
    file_inputs,
    library_version,
    provenance,
    require,
    source_index,
)
from slr_pose.keypoints.inputs import file_sha256
from slr_pose.keypoints.layout import Layout, face_detail
from slr_pose.keypoints.store import Sample, SampleInfo, error_reason

#: pose-format component -> store group.
COMPONENTS = {
    "POSE_LANDMARKS": "pose",
    "LEFT_HAND_LANDMARKS": "left_hand",
    "RIGHT_HAND_LANDMARKS": "right_hand",
    "FACE_LANDMARKS": "face",
}
INSTALL = ("pose-format", "reading .pose files")


def point_names(components: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Store names (``"group/NAME"``, or ``""`` for points the store has no name for) of every point in a header.

    Args:
        components: ``(component name, point names)`` in header order.

    Raises:
        SlrPoseError: no MediaPipe Holistic component, or one whose point
            names are not MediaPipe's.
    """
    known = {"pose": set(mpn.POSE_NAMES), "left_hand": set(mpn.HAND_NAMES), "right_hand": set(mpn.HAND_NAMES)}
    names: list[str] = []
    for comp, points in components:
        group = COMPONENTS.get(comp)
        if group is None:
            names += [""] * len(points)
            continue
        if group == "face":
            ours = [f"face/{int(p)}" if p.isascii() and p.isdigit() and int(p) < mpn.NUM_FACE_MESH else "" for p in points]
        else:
            ours = [f"{group}/{p}" if p in known[group] else "" for p in points]
        if not any(ours):
            raise SlrPoseError(f"component {comp} has none of MediaPipe's point names (first: {repr(points[0]) if points else 'none'})")
        names += ours
    if not any(names):
        found = ", ".join(" ".join(c.split()) for c, _ in components) or "none"  # names from the file: one line
        raise SlrPoseError(f"no MediaPipe Holistic component (found {found}); expected {', '.join(COMPONENTS)}")
    return names


def read_pose(path: Path):
    """The ``pose_format.Pose`` in ``path``."""
    pf = require("pose_format", *INSTALL)
    try:
        return pf.Pose.read(path.read_bytes())
    except Exception as e:  # noqa: BLE001 - the reader raises many kinds on damaged files
        raise SlrPoseError(f"{path} is not a readable .pose file ({type(e).__name__}: {error_reason(e)})") from None


def pose_arrays(pose, person: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One person's raw coordinates and confidence.

    Returns:
        xyz: ``(T, P, 3)`` float32 in file units (pixels for x and y), NaN
            where confidence is 0; z = 0 for a 2-D file.
        confidence: ``(T, P)`` float32.
    """
    data = np.ma.getdata(pose.body.data)  # (T, people, points, dims)
    conf = np.asarray(pose.body.confidence, dtype=np.float32)  # (T, people, points)
    if data.ndim != 4:
        raise SlrPoseError(f"{where}: body data has shape {data.shape}, expected (frames, people, points, dims)")
    if not 0 <= person < data.shape[1]:
        raise SlrPoseError(f"{where} has {data.shape[1]} people; there is no person {person}")
    if not len(data):
        raise SlrPoseError(f"{where}: no frames")
    xyz = np.zeros((data.shape[0], data.shape[2], 3), dtype=np.float32)
    dims = min(3, data.shape[3])
    xyz[..., :dims] = data[:, person, :, :dims]
    c = conf[:, person]
    xyz[c <= 0] = np.nan
    return xyz, c


def pose_candidates(
    paths: Sequence[str | Path],
    layout: Layout,
    *,
    person: int = 0,
    geometry: Geometry = Geometry(),
    label: str = "",
    label_from_folder: bool = False,
    language: str = "",
    split: str = "",
) -> list[Candidate]:
    """Samples of ``.pose`` files (or folders of them), one per file.

    Args:
        person: which person of a multi-person file.
        geometry: overrides the header's fps / frame size where given
            (fps finite, width and height > 0).
    """
    require("pose_format", *INSTALL)  # fail before any work
    found = []
    for path, sid in file_inputs(paths, (".pose",)):
        info = SampleInfo(id=sid, source=str(path), label=path.parent.name if label_from_folder else label,
                          language=language, split=split)
        found.append(Candidate(sid, lambda p=path: file_sha256(p), _loader(path, info, layout, person, geometry)))
    return found


def _loader(path: Path, info: SampleInfo, layout: Layout, person: int, geometry: Geometry):
    def load() -> Sample:
        pose = read_pose(path)
        header = pose.header
        try:
            names = point_names([(c.name, list(c.points)) for c in header.components])
        except SlrPoseError as e:
            raise SlrPoseError(f"{path}: {e}") from None
        fps = geometry.fps if math.isfinite(geometry.fps) else float(pose.body.fps)
        fps = fps if math.isfinite(fps) and fps > 0 else math.nan  # pose-format writes 0 for "unknown"
        width = geometry.width or int(header.dimensions.width)
        height = geometry.height or int(header.dimensions.height)
        if width <= 0 or height <= 0:
            raise SlrPoseError(f"{path} gives no frame size in its header; set --width and --height")
        xyz, conf = pose_arrays(pose, person, str(path))
        with np.errstate(invalid="ignore"):  # a damaged file's signalling NaNs stay NaN: missing
            xyz[..., 0] /= width  # pixels -> fraction of the frame
            xyz[..., 1] /= height
        meta = {"people": int(pose.body.data.shape[1]), "person": person, "pose_format_header": round(float(header.version), 3)}
        full = replace(info, fps=fps, width=width, height=height, sha256=file_sha256(path), meta=json.dumps(meta))
        return assemble(full, layout, source_index(layout, names), xyz, conf, np.arange(len(xyz)))

    return load


def pose_provenance(layout: Layout, person: int = 0) -> dict:
    """How ``.pose`` files were read into ``layout``: the store compares it before adding samples to it."""
    return provenance("pose", {"face": face_detail(layout), "person": person}, {"pose-format": library_version("pose-format")})
