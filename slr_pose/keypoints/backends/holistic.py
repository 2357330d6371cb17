"""The ``holistic`` backend: MediaPipe's legacy Holistic solution (pose, hands, face).

mediapipe 0.10.21 bundles the pose landmark model of ``model_complexity=1``
only; 0 (lite) and 2 (heavy) are downloaded at first use. Without internet
that download fails deep inside MediaPipe, so :meth:`HolisticSpec.validate`
looks for the file first and turns a failed download into one clear line.

Handedness: Holistic's ``left_hand_landmarks`` is the signer's own left hand
(it is cropped around the pose's LEFT_WRIST); the tests check this on real clips.
"""

from __future__ import annotations

import contextlib
import io
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from slr_pose.keypoints.backends.base import (
    Backend,
    BackendError,
    BackendSpec,
    FrameLandmarks,
    _mediapipe_dir,
    import_mediapipe,
    landmark_array,
    mediapipe_version,
    require_backend,
)

#: model_complexity -> pose landmark model file MediaPipe loads for it
POSE_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite", 2: "pose_landmark_heavy.tflite"}
#: seconds to wait for MediaPipe's model download before calling it failed
DOWNLOAD_TIMEOUT = 20.0


def pose_model_path(model_complexity: int) -> Path:
    """Where MediaPipe looks for the pose landmark model of ``model_complexity``."""
    require_backend("holistic")
    return _mediapipe_dir() / "modules" / "pose_landmark" / POSE_MODELS[model_complexity]


@dataclass(frozen=True)
class HolisticSpec(BackendSpec):
    """Settings of the Holistic backend.

    Args:
        model_complexity: pose model size, 0 (lite), 1 (full, bundled) or 2 (heavy).
        refine_face: refine lips and eyes and add 10 iris points (478 face points).
    """

    model_complexity: int = 1
    refine_face: bool = False
    name: ClassVar[str] = "holistic"

    @property
    def groups(self) -> tuple[str, ...]:
        return ("pose", "left_hand", "right_hand", "face")

    def validate(self) -> None:
        if self.model_complexity not in POSE_MODELS:
            raise BackendError(f"model complexity {self.model_complexity} is not one of 0, 1, 2")
        require_backend("holistic")
        path = pose_model_path(self.model_complexity)
        if path.is_file():
            return
        try:
            _download(self.model_complexity)
        except Exception as e:  # noqa: BLE001 - URLError, timeouts, permission: all mean "not available"
            path.unlink(missing_ok=True)  # never leave a partial model for MediaPipe to choke on
            raise BackendError(self._unavailable(path, e)) from None
        if not path.is_file():
            raise BackendError(self._unavailable(path, "download gave no file"))

    def _unavailable(self, path: Path, why: object) -> str:
        return (
            f"model complexity {self.model_complexity} needs {path.name}, which {mediapipe_version()} does not "
            f"bundle and which could not be downloaded ({why}); use model complexity 1 or copy the file to {path.parent}"
        )

    def settings(self) -> dict[str, Any]:
        return {
            "model_complexity": self.model_complexity,
            "refine_face_landmarks": self.refine_face,
            "static_image_mode": False,
            "smooth_landmarks": True,
            "min_detection_confidence": 0.5,
            "min_tracking_confidence": 0.5,
        }

    def create(self) -> "HolisticBackend":
        self.validate()
        return HolisticBackend(self)


def _download(model_complexity: int) -> None:
    mp = import_mediapipe()
    from mediapipe.python.solutions import holistic

    del mp
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # MediaPipe prints "Downloading model to ..."
            holistic._download_oss_pose_landmark_model(model_complexity)
    finally:
        socket.setdefaulttimeout(old)


class HolisticBackend(Backend):
    """A loaded MediaPipe Holistic graph in video (tracking) mode."""

    def __init__(self, spec: HolisticSpec) -> None:
        super().__init__()
        import_mediapipe()
        from mediapipe.python.solutions.holistic import Holistic

        s = spec.settings()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self._graph = Holistic(
                    static_image_mode=s["static_image_mode"],
                    model_complexity=s["model_complexity"],
                    smooth_landmarks=s["smooth_landmarks"],
                    refine_face_landmarks=s["refine_face_landmarks"],
                    min_detection_confidence=s["min_detection_confidence"],
                    min_tracking_confidence=s["min_tracking_confidence"],
                )
        except Exception as e:  # noqa: BLE001 - a download or graph failure inside MediaPipe
            raise BackendError(f"MediaPipe Holistic could not start ({type(e).__name__}: {e})") from None
        self._last_us = -1

    def start_video(self) -> None:
        self._graph.reset()
        self._last_us = -1

    def process(self, image: np.ndarray, time_s: float) -> FrameLandmarks:
        # The solution API stamps frames 33.3 ms apart whatever the video; the
        # landmark smoothing filter reads those stamps, so give it real time.
        us = max(int(round(time_s * 1e6)), self._last_us + 1)
        self._last_us = us
        if hasattr(self._graph, "_simulated_timestamp"):
            self._graph._simulated_timestamp = us - 33333
        with self._inference():
            r = self._graph.process(image)
        return FrameLandmarks(
            pose=landmark_array(r.pose_landmarks, visibility=True) if r.pose_landmarks else None,
            left_hand=landmark_array(r.left_hand_landmarks) if r.left_hand_landmarks else None,
            right_hand=landmark_array(r.right_hand_landmarks) if r.right_hand_landmarks else None,
            face=landmark_array(r.face_landmarks) if r.face_landmarks else None,
        )

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None
