"""The backend interface: what a MediaPipe backend offers, its spec (settings), and loading MediaPipe."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterator

import numpy as np

from slr_pose.errors import SlrPoseError

#: backend name -> "module:spec class" under this package
BACKENDS = {"holistic": "holistic:HolisticSpec", "tasks": "tasks:TasksSpec"}
#: backend name -> file inside the mediapipe package that only releases offering it have
#: (looked up on disk: importing mediapipe to find out costs a second of start-up)
_API_FILES = {"holistic": ("python", "solutions", "holistic.py"), "tasks": ("tasks", "python", "vision", "__init__.py")}


class BackendError(SlrPoseError):
    """A backend cannot be built as asked (missing model, bad settings)."""


@dataclass
class FrameLandmarks:
    """What a backend found in one frame; ``None`` for a group not found.

    Attributes:
        pose: ``(33, 4)`` float32 x, y, z, visibility.
        left_hand: ``(21, 3)`` float32 x, y, z of the signer's own left hand.
        right_hand: ``(21, 3)`` float32, the signer's own right hand.
        face: ``(468, 3)`` float32 (478 with iris refinement).

    x and y are in 0..1 of the image width and height; z as MediaPipe gives it.
    """

    pose: np.ndarray | None = None
    left_hand: np.ndarray | None = None
    right_hand: np.ndarray | None = None
    face: np.ndarray | None = None


def landmark_array(landmarks: Any, visibility: bool = False) -> np.ndarray:
    """A MediaPipe landmark list (proto or Tasks list) as ``(K, 3)`` or ``(K, 4)`` float32."""
    points = getattr(landmarks, "landmark", landmarks)
    if visibility:
        rows = [(p.x, p.y, p.z, p.visibility or 0.0) for p in points]
    else:
        rows = [(p.x, p.y, p.z) for p in points]
    return np.asarray(rows, dtype=np.float32)


class Backend(ABC):
    """A loaded landmark model. Not thread-safe; one per process.

    Attributes:
        inference_seconds: wall time spent inside MediaPipe calls so far, without
            the conversion of their results (for benchmarks).
    """

    def __init__(self) -> None:
        self.inference_seconds = 0.0

    @abstractmethod
    def start_video(self) -> None:
        """Forget tracking state: the next frame starts a new video."""

    @abstractmethod
    def process(self, image: np.ndarray, time_s: float) -> FrameLandmarks:
        """Landmarks of one frame.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            time_s: the frame's time in seconds; strictly increasing within a video.
        """

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        """Wrap each MediaPipe call: adds its wall time to :attr:`inference_seconds`."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.inference_seconds += time.perf_counter() - t0

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BackendSpec(ABC):
    """Settings of a backend; frozen dataclasses in the backend modules."""

    name: ClassVar[str]

    @property
    @abstractmethod
    def groups(self) -> tuple[str, ...]:
        """Landmark groups this backend can find (others are recorded as missing)."""

    @abstractmethod
    def validate(self) -> None:
        """Raise :class:`BackendError` unless :meth:`create` can load the models."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Everything that changes the landmarks, for the store's provenance."""

    @abstractmethod
    def create(self) -> Backend:
        """Load the models (validates first)."""


def create_spec(name: str, **options: Any) -> BackendSpec:
    """The spec of backend ``name`` (see :data:`BACKENDS`) built from ``options``.

    Raises:
        BackendError: an unknown name, or a backend the installed mediapipe cannot run
            (the message names the package to install).
    """
    target = BACKENDS.get(name)
    if target is None:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    require_backend(name)
    module, cls = target.split(":")
    spec_cls = getattr(importlib.import_module(f"slr_pose.keypoints.backends.{module}"), cls)
    return spec_cls(**options)


def mediapipe_install_hint() -> str:
    """The pip command that gives this Python the mediapipe slr-pose is tested with."""
    if sys.version_info < (3, 13):
        return "pip install mediapipe==0.10.21"
    return "pip install 'mediapipe>=1.2,<2'"  # 0.10.21 has no wheel for Python 3.13


def _mediapipe_dir() -> Path | None:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def available_backends() -> tuple[str, ...]:
    """The backends the installed mediapipe can run, in order of preference (none without mediapipe).

    mediapipe 0.10.21 has both; every release from 0.10.30 on (1.x included)
    has removed the legacy ``solutions`` API and offers ``tasks`` only.
    """
    root = _mediapipe_dir()
    if root is None:
        return ()
    return tuple(name for name, parts in _API_FILES.items() if root.joinpath(*parts).is_file())


def auto_backend() -> str:
    """``holistic`` where the installed mediapipe has it (offline models), else ``tasks``."""
    have = available_backends()
    if not have:
        raise BackendError(f"mediapipe is not installed: {mediapipe_install_hint()}")
    return have[0]


def require_backend(name: str) -> None:
    """Raise a one-line :class:`BackendError` unless the installed mediapipe can run backend ``name``."""
    have = available_backends()
    if name in have:
        return
    if not have:
        raise BackendError(f"mediapipe is not installed: {mediapipe_install_hint()}")
    if name == "holistic":
        where = ("it installs on Python 3.10 to 3.12 only" if sys.version_info >= (3, 13)
                 else "pip install mediapipe==0.10.21")
        raise BackendError(f"the holistic backend needs mediapipe 0.10.21, the last release with the legacy "
                           f"solutions API ({where}); {mediapipe_version()} has only the Tasks API: use --backend tasks")
    raise BackendError(f"the {name} backend needs the MediaPipe Tasks API, which {mediapipe_version()} lacks: "
                       f"{mediapipe_install_hint()}")


def mediapipe_version() -> str:
    """``"mediapipe X.Y.Z"`` of the installed package (for provenance)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mediapipe {version('mediapipe')}"
    except PackageNotFoundError:
        raise BackendError(f"mediapipe is not installed: {mediapipe_install_hint()}") from None


@contextlib.contextmanager
def native_logs_silenced() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to /dev/null for a while.

    MediaPipe's C++ side logs a few internal warnings per video straight to
    fd 2, past Python and past ``GLOG_minloglevel``. Inside this block Python's
    ``sys.stderr`` (progress bars, messages) keeps writing to the real stderr
    through a duplicate of the descriptor; processes started inside inherit the
    silenced fd 2. Exceptions raised by MediaPipe still reach Python as usual.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no real fd 2 (embedded interpreters): nothing to silence
        return
    real = sys.stderr
    # write through the saved descriptor only when sys.stderr is the real fd 2
    # (under a test runner sys.stderr is a buffer: leave it alone)
    if _fileno(real) == 2:
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved), "wb", buffering=0), write_through=True,
                                      encoding=getattr(real, "encoding", None) or "utf-8", errors="replace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        if sys.stderr is not real:
            sys.stderr.close()
            sys.stderr = real
        os.dup2(saved, 2)
        os.close(saved)


def _fileno(stream: Any) -> int:
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return -1


def import_mediapipe():
    """``mediapipe``, imported quietly, with an install hint when absent."""
    # MediaPipe's C++ logging goes to stderr; keep warnings about its own
    # internals out of the user's terminal (errors still show).
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import mediapipe
    except ImportError:
        raise BackendError(f"mediapipe is not installed: {mediapipe_install_hint()}") from None
    return mediapipe
