"""The backend interface: what a MediaPipe backend offers, its spec (settings), and loading MediaPipe."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import numpy as np

from slr_pose.errors import SlrPoseError

#: backend name -> "module:spec class" under this package
BACKENDS = {"holistic": "holistic:HolisticSpec", "tasks": "tasks:TasksSpec"}


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
    """The spec of backend ``name`` (see :data:`BACKENDS`) built from ``options``."""
    target = BACKENDS.get(name)
    if target is None:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module, cls = target.split(":")
    spec_cls = getattr(importlib.import_module(f"slr_pose.keypoints.backends.{module}"), cls)
    return spec_cls(**options)


def mediapipe_version() -> str:
    """``"mediapipe X.Y.Z"`` of the installed package (for provenance)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mediapipe {version('mediapipe')}"
    except PackageNotFoundError:
        raise BackendError("mediapipe is not installed: pip install mediapipe==0.10.21") from None


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
        raise BackendError("mediapipe is not installed: pip install mediapipe==0.10.21") from None
    return mediapipe
