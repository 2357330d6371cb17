"""The ``tasks`` backend: MediaPipe Tasks landmarkers from ``.task`` files.

Either the HolisticLandmarker (``holistic_landmarker.task``: pose, both hands
and face from one model, the official successor of legacy Holistic, with the
same layout: 33 pose points, 21 per hand, 468 face points), or any subset of
the separate hand, pose and face landmarkers (hands only is a real case);
groups without a model are recorded as missing in every frame, and the
provenance lists the groups extracted. The Tasks API exists in mediapipe
0.10.21 and in every later release (1.x included); no wheel ships ``.task``
files (``slr-pose models`` lists, checks and downloads them).

MediaPipe must never see a bad path: ``BaseOptions`` with an empty path
crashes the process and a file that is not a zip raises deep inside, so
:func:`check_task_file` checks existence, zip-ness and the expected members first.

Handedness: the HolisticLandmarker crops each hand around its own pose wrist,
so its left hand is the signer's own left, as in legacy Holistic. The separate
hand landmarker's hands are given to the signer's left or right by the nearer
pose wrist when a pose model runs. Without one, the landmarker's own label is used:
on unmirrored video, mediapipe 0.10.21's HandLandmarker labels the signer's
own hand (measured on the bundled MSL clips against the pose wrists; the
legacy ``solutions.hands`` is the one that assumes a mirrored image), and so
does 1.2.3's (hands-only extraction of all 308 frames of the MSL clips: 382 of
382 hands on the side legacy Holistic gives them, wrists a median 0.0005 image
widths apart).
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from slr_pose.keypoints.backends.base import (
    Backend,
    BackendError,
    BackendSpec,
    FrameLandmarks,
    import_mediapipe,
    landmark_array,
    require_backend,
)
from slr_pose.keypoints.inputs import file_sha256

#: model kind -> members its .task archive must hold
TASK_MEMBERS = {
    "hand": ("hand_detector.tflite", "hand_landmarks_detector.tflite"),
    "pose": ("pose_detector.tflite", "pose_landmarks_detector.tflite"),
    "face": ("face_detector.tflite", "face_landmarks_detector.tflite"),
    # what MediaPipe's HolisticLandmarkerGraph reads from its bundle (face_blendshapes.tflite only when asked for)
    "holistic": ("pose_detector.tflite", "pose_landmarks_detector.tflite", "hand_landmarks_detector.tflite",
                 "hand_roi_refinement.tflite", "face_detector.tflite", "face_landmarks_detector.tflite"),
}
#: the landmarker's "Left" means the signer's own left on unmirrored video
#: (see the module docstring; tests/keypoints/test_backends.py re-measures it)
LABEL_IS_SIGNER_SIDE = True
_POSE_LEFT_WRIST, _POSE_RIGHT_WRIST = 15, 16


def check_task_file(path: str | Path | None, kind: str) -> Path:
    """``path`` as a checked MediaPipe ``.task`` model of ``kind`` (hand, pose, face, holistic).

    Raises:
        BackendError: the path is empty or missing, not a zip archive, or lacks
            the members of a ``kind`` landmarker (naming what it holds instead).
    """
    if path is None or str(path).strip() == "":
        raise BackendError(f"{kind} model path is empty")
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"{kind} model {p} does not exist")
    if not zipfile.is_zipfile(p):
        raise BackendError(f"{kind} model {p} is not a MediaPipe .task file (not a zip archive)")
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise BackendError(f"{kind} model {p} cannot be read ({e})") from None
    lacking = [m for m in TASK_MEMBERS[kind] if m not in names]
    if lacking:
        held = ", ".join(sorted(names)[:4]) or "nothing"
        raise BackendError(f"{kind} model {p} is not a {kind} landmarker .task: it lacks {lacking[0]} (it holds {held})")
    return p


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


def model_sha256(path: Path) -> str:
    st = path.stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class TasksSpec(BackendSpec):
    """Settings of the Tasks backend: a holistic model, or at least one of hand, pose, face.

    Args:
        hand_model, pose_model, face_model: ``.task`` files (None: group not extracted).
        holistic_model: ``holistic_landmarker.task`` (pose, hands and face; alone).
        num_hands: hands to look for per frame (separate hand landmarker only).
    """

    hand_model: str | None = None
    pose_model: str | None = None
    face_model: str | None = None
    num_hands: int = 2
    holistic_model: str | None = None
    name: ClassVar[str] = "tasks"

    def _models(self) -> dict[str, str]:
        given = {"hand": self.hand_model, "pose": self.pose_model, "face": self.face_model,
                 "holistic": self.holistic_model}
        return {k: v for k, v in given.items() if v is not None}

    @property
    def groups(self) -> tuple[str, ...]:
        m = self._models()
        if "holistic" in m:
            return ("pose", "left_hand", "right_hand", "face")
        return (("pose",) if "pose" in m else ()) + (("left_hand", "right_hand") if "hand" in m else ()) + (
            ("face",) if "face" in m else ()
        )

    def validate(self) -> None:
        models = self._models()
        if not models:
            raise BackendError("the tasks backend needs a model file: --holistic-model holistic_landmarker.task, "
                               "or --hand-model, --pose-model, --face-model (see: slr-pose models list)")
        if "holistic" in models and len(models) > 1:
            others = ", ".join(f"--{k}-model" for k in models if k != "holistic")
            raise BackendError(f"--holistic-model finds pose, hands and face itself; leave out {others}")
        if self.num_hands not in (1, 2):
            raise BackendError(f"num_hands {self.num_hands} is not 1 or 2")
        for kind, path in models.items():
            check_task_file(path, kind)
        require_backend("tasks")

    def settings(self) -> dict[str, Any]:
        self.validate()
        models = self._models()
        out: dict[str, Any] = {"groups": list(self.groups)}
        for kind in ("hand", "pose", "face"):
            out[f"{kind}_model_sha256"] = model_sha256(Path(models[kind])) if kind in models else None
        if "holistic" in models:  # only then, so stores made before it existed keep equal provenance
            out["holistic_model_sha256"] = model_sha256(Path(models["holistic"]))
        out.update(num_hands=self.num_hands, min_detection_confidence=0.5, min_presence_confidence=0.5,
                   min_tracking_confidence=0.5, running_mode="video")
        return out

    def create(self) -> "TasksBackend":
        self.validate()
        return TasksBackend(self)


def assign_hands(
    hands: Sequence[np.ndarray], labels: Sequence[str], pose: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Give detected hands to the signer's (left, right).

    Args:
        hands: up to two ``(21, 3)`` arrays, image-normalised.
        labels: the landmarker's handedness label of each ("Left"/"Right").
        pose: ``(33, 4)`` pose of the same frame, or None.

    With a pose, each hand goes to the nearer pose wrist (two hands: the
    pairing with the smaller total distance). Without one, the labels decide;
    two hands with the same label are told apart by position (a signer facing
    the camera has the left hand on the image's right).
    """
    if not hands:
        return None, None
    if pose is not None:
        wl, wr = pose[_POSE_LEFT_WRIST, :2], pose[_POSE_RIGHT_WRIST, :2]
        d = [(np.linalg.norm(h[0, :2] - wl), np.linalg.norm(h[0, :2] - wr)) for h in hands]
        if len(hands) == 1:
            return (hands[0], None) if d[0][0] <= d[0][1] else (None, hands[0])
        if d[0][0] + d[1][1] <= d[0][1] + d[1][0]:
            return hands[0], hands[1]
        return hands[1], hands[0]
    sides = [_label_side(lbl) for lbl in labels]
    if len(hands) == 1:
        return (hands[0], None) if sides[0] == "left" else (None, hands[0])
    if sides[0] == sides[1]:
        first_is_left = hands[0][0, 0] >= hands[1][0, 0]
        sides = ["left", "right"] if first_is_left else ["right", "left"]
    return (hands[0], hands[1]) if sides[0] == "left" else (hands[1], hands[0])


def holistic_result_landmarks(result: Any) -> FrameLandmarks:
    """A HolisticLandmarkerResult as :class:`FrameLandmarks` (the layout of legacy Holistic).

    The result holds plain landmark lists, empty where a group was not found;
    pose points carry visibility as in the legacy solution.
    """
    def group(points: Any, visibility: bool = False) -> np.ndarray | None:
        return landmark_array(points, visibility=visibility) if points else None

    return FrameLandmarks(pose=group(result.pose_landmarks, visibility=True),
                          left_hand=group(result.left_hand_landmarks), right_hand=group(result.right_hand_landmarks),
                          face=group(result.face_landmarks))


def _holistic_landmarker(vision: Any) -> Any:
    """``HolisticLandmarker.create_from_options``, or a one-line error where this mediapipe lacks it."""
    marker = getattr(vision, "HolisticLandmarker", None)
    if marker is None:
        from slr_pose.keypoints.backends.base import mediapipe_version

        raise BackendError(f"{mediapipe_version()} has no HolisticLandmarker: pip install 'mediapipe>=0.10.21'")
    return marker.create_from_options


def _label_side(label: str) -> str:
    said_left = label.lower().startswith("left")
    return "left" if said_left == LABEL_IS_SIGNER_SIDE else "right"


class TasksBackend(Backend):
    """Loaded Tasks landmarkers in VIDEO mode, rebuilt for each video.

    VIDEO mode tracks across frames and needs strictly increasing timestamps;
    fresh landmarkers per video keep one video's landmarks independent of the
    videos processed before it (so shards and worker counts give equal stores).
    """

    def __init__(self, spec: TasksSpec) -> None:
        super().__init__()
        self.spec = spec
        mp = import_mediapipe()
        self._mp = mp
        self._live: dict[str, Any] = {}
        self._last_ms = -1
        self.start_video()  # load once now, so a bad model fails here, not mid-run

    def _make(self) -> dict[str, Any]:
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python import vision as v

        mode = v.RunningMode.VIDEO
        makers = {
            "hand": lambda p: v.HandLandmarker.create_from_options(v.HandLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=p), running_mode=mode, num_hands=self.spec.num_hands)),
            "pose": lambda p: v.PoseLandmarker.create_from_options(v.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=p), running_mode=mode, num_poses=1)),
            "face": lambda p: v.FaceLandmarker.create_from_options(v.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=p), running_mode=mode, num_faces=1)),
            "holistic": lambda p: _holistic_landmarker(v)(v.HolisticLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=p), running_mode=mode)),
        }
        out = {}
        for kind, path in self.spec._models().items():
            p = str(check_task_file(path, kind).resolve())
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    out[kind] = makers[kind](p)
            except BackendError:
                for m in out.values():
                    m.close()
                raise
            except Exception as e:  # noqa: BLE001 - MediaPipe's RuntimeError/ValueError for a bad model
                for m in out.values():
                    m.close()
                raise BackendError(f"{kind} model {path} cannot be loaded by MediaPipe ({e})") from None
        return out

    def start_video(self) -> None:
        self._close_live()
        self._live = self._make()
        self._last_ms = -1

    def process(self, image: np.ndarray, time_s: float) -> FrameLandmarks:
        ms = max(int(round(time_s * 1000)), self._last_ms + 1)
        self._last_ms = ms
        frame = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if "holistic" in self._live:
            with self._inference():
                r = self._live["holistic"].detect_for_video(frame, ms)
            return holistic_result_landmarks(r)
        out = FrameLandmarks()
        if "pose" in self._live:
            with self._inference():
                r = self._live["pose"].detect_for_video(frame, ms)
            out.pose = landmark_array(r.pose_landmarks[0], visibility=True) if r.pose_landmarks else None
        if "face" in self._live:
            with self._inference():
                r = self._live["face"].detect_for_video(frame, ms)
            out.face = landmark_array(r.face_landmarks[0]) if r.face_landmarks else None
        if "hand" in self._live:
            with self._inference():
                r = self._live["hand"].detect_for_video(frame, ms)
            hands = [landmark_array(h) for h in r.hand_landmarks]
            labels = [c[0].category_name for c in r.handedness]
            out.left_hand, out.right_hand = assign_hands(hands, labels, out.pose)
        return out

    def _close_live(self) -> None:
        for m in self._live.values():
            m.close()
        self._live = {}

    def close(self) -> None:
        self._close_live()
