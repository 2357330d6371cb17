"""Landmark extractors ("backends"): one RGB frame in, MediaPipe landmarks out.

Two backends exist, each in its own module and imported only when used:

* ``holistic`` (:mod:`.holistic`): MediaPipe's legacy Holistic solution, whose
  models ship inside the mediapipe 0.10.21 wheel; works offline.
* ``tasks`` (:mod:`.tasks`): the MediaPipe Tasks landmarkers (hand, pose, face)
  from ``.task`` model files the user supplies; any subset of the three.

A backend is described by a picklable *spec* (settings only, cheap to build,
sent to worker processes) whose :meth:`BackendSpec.create` loads the models.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {name: "base" for name in (
    "BackendError",
    "FrameLandmarks",
    "landmark_array",
    "Backend",
    "BackendSpec",
    "create_spec",
    "mediapipe_version",
    "mediapipe_install_hint",
    "available_backends",
    "auto_backend",
    "require_backend",
    "native_logs_silenced",
    "import_mediapipe",
    "BACKENDS",
)})
