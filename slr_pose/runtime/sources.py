"""Where ``live`` frames come from: a camera, a stream URL, or a video file (offline or as if live).

A *live* source (a camera, a URL, or a file read with ``realtime=True``)
produces frames at its own pace in a background thread and keeps only the
newest one: when processing falls behind, the frames it had no time for are
**dropped, not queued**, so what is recognised stays close to now. A file
read offline gives every frame, as fast as they are processed.

Every source yields :class:`StreamFrame` and counts what it read and dropped.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.video import VideoFrames, import_cv2

#: Seconds a stream URL may take to open, or to give its next frame, before it counts as failed.
STREAM_TIMEOUT = 10.0


@dataclass(frozen=True)
class StreamFrame:
    """One frame handed to the recogniser.

    Attributes:
        index: position among the frames the source produced (dropped ones included), 0-based.
        time: seconds since the stream started (the video's own time for files and URLs, the wall clock for cameras).
        image: ``(H, W, 3)`` uint8 RGB, downscaled when asked.
        arrived: ``time.perf_counter()`` when the frame became available (for latencies).
    """

    index: int
    time: float
    image: np.ndarray
    arrived: float


class FrameSource:
    """Frames of one stream; iterate once.

    Attributes:
        name: what to call it in messages.
        fps: the nominal frame rate of the frames produced (after decimation; 0 when unknown).
        width, height: source frame size in pixels (0 when unknown).
        live: frames are dropped when processing falls behind.
        produced: frames the source produced so far (after decimation).
        dropped: frames among them that were replaced by a newer one before they were taken.
    """

    name = ""
    fps = 0.0
    width = height = 0
    live = False

    def __init__(self) -> None:
        self.produced = 0

    @property
    def dropped(self) -> int:
        return 0

    def __iter__(self) -> Iterator[StreamFrame]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop producing (safe to call twice)."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FileSource(FrameSource):
    """Every (kept) frame of a video file, offline.

    Args:
        path: a video file.
        fps, max_side: decimation and downscaling (:class:`~slr_pose.keypoints.video.VideoFrames`).

    Raises:
        SlrPoseError: a missing file or one OpenCV cannot open as a video.
    """

    def __init__(self, path: str | Path, *, fps: float | None = None, max_side: int | None = None) -> None:
        super().__init__()
        self.name = str(path)
        self._frames = VideoFrames(path, fps=fps, max_side=max_side, prefetch=True)
        self.fps = self._frames.fps if math.isfinite(self._frames.fps) else 0.0
        self.width, self.height = self._frames.width, self._frames.height

    def _decoded(self) -> Iterator[tuple[float, np.ndarray]]:
        for frame in self._frames:
            yield frame.time, frame.image

    def __iter__(self) -> Iterator[StreamFrame]:
        for t, image in self._decoded():
            self.produced += 1
            yield StreamFrame(self.produced - 1, t, image, time.perf_counter())

    def close(self) -> None:
        self._frames.close()


class _Newest:
    """A one-frame mailbox: ``put`` replaces a frame nobody took (and counts it dropped)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: StreamFrame | None = None
        self._done = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, item: StreamFrame) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._done, self._error = True, error
            self._cond.notify()

    def take(self) -> StreamFrame | None:
        """The newest frame, waiting for one; None once the producer has finished and nothing is left."""
        with self._cond:
            while self._item is None and not self._done:
                self._cond.wait()
            item, self._item = self._item, None
            if item is None and self._error is not None:
                raise self._error
            return item


class LiveSource(FrameSource):
    """A producer thread over frames ``(time s, RGB image)``, paced by wall clock, newest frame only.

    Args:
        frames: the frames and their times (seconds since the stream started).
        pace: wait until each frame's time has come on the wall clock (a file or a URL serving a file);
            False for a camera, whose reads wait for the device.
    """

    live = True

    def __init__(self, frames: Iterator[tuple[float, np.ndarray]], *, pace: bool) -> None:
        super().__init__()
        self._frames = frames
        self._pace = pace
        self._box = _Newest()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _produce(self) -> None:
        start = time.perf_counter()
        try:
            for t, image in self._frames:
                if self._stop.is_set():
                    break
                if self._pace:
                    wait = start + t - time.perf_counter()
                    if wait > 0 and self._stop.wait(wait):
                        break
                self.produced += 1
                self._box.put(StreamFrame(self.produced - 1, t, image, time.perf_counter()))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which reports it
            self._box.finish(e)
            return
        finally:
            self._close_frames()
        self._box.finish()

    def _close_frames(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[StreamFrame]:
        self._thread = threading.Thread(target=self._produce, name="live-frames", daemon=True)
        self._thread.start()
        while True:
            item = self._box.take()
            if item is None:
                return
            yield item

    @property
    def dropped(self) -> int:
        return self._box.dropped

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class PacedFile(LiveSource):
    """A video file read as if it were a camera: frames at the file's rate by wall clock, dropped when late."""

    def __init__(self, path: str | Path, *, fps: float | None = None, max_side: int | None = None) -> None:
        self.name = str(path)
        frames = VideoFrames(path, fps=fps, max_side=max_side)
        self.fps = frames.fps if math.isfinite(frames.fps) else 0.0
        self.width, self.height = frames.width, frames.height
        self._video = frames
        super().__init__(((f.time, f.image) for f in frames), pace=True)

    def _close_frames(self) -> None:
        super()._close_frames()
        self._video.close()


class Capture(LiveSource):
    """A camera (an index) or a stream URL through OpenCV; a URL is paced by its own timestamps.

    Args:
        target: camera index, or a URL (``rtsp://``, ``http://``, ...).
        fps, max_side: keep about this many frames per second; downscale so the longer side is at most this.

    Raises:
        SlrPoseError: no camera at that index, or a URL that cannot be opened.
    """

    def __init__(self, target: int | str, *, fps: float | None = None, max_side: int | None = None) -> None:
        cv2 = import_cv2()
        self.camera = isinstance(target, int)
        self.name = f"camera {target}" if self.camera else str(target)
        if self.camera:
            cap = cv2.VideoCapture(target)
        else:
            ms = int(STREAM_TIMEOUT * 1000)
            cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        if not cap.isOpened():
            cap.release()
            raise SlrPoseError(f"no camera at index {target}" if self.camera else f"cannot open stream {target}")
        self._cap = cap
        source_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        source_fps = source_fps if 0 < source_fps < 1000 else 0.0  # some drivers report nonsense rates
        self.fps = min(fps, source_fps) if fps and source_fps else (fps or source_fps)
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        self._target_fps, self._max_side = fps, max_side
        super().__init__(self._read(cv2), pace=not self.camera)

    def _read(self, cv2) -> Iterator[tuple[float, np.ndarray]]:
        start, last_bin, last_t = None, -1, -math.inf
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                return  # the stream ended (or the camera went away): end cleanly
            now = time.perf_counter()
            start = now if start is None else start
            t = now - start
            if not self.camera:  # a stream's own clock, where it has one
                pos = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                t = pos if pos > last_t else t
            last_t = t
            if self._target_fps:
                b = math.floor(t * self._target_fps + 1e-6)
                if b <= last_bin:
                    continue
                last_bin = b
            yield t, _prepare(cv2, image, self._max_side)

    def _close_frames(self) -> None:
        self._cap.release()


def _prepare(cv2, image: np.ndarray, max_side: int | None) -> np.ndarray:
    """BGR -> RGB, downscaled (area interpolation) so the longer side is at most ``max_side``."""
    h, w = image.shape[:2]
    if max_side is not None and max(h, w) > max_side:
        s = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def open_source(target: str | int, *, realtime: bool = False, fps: float | None = None,
                max_side: int | None = None) -> FrameSource:
    """A camera (``int``), a stream URL (``"scheme://..."``) or a video file (read as if live with ``realtime``).

    Raises:
        SlrPoseError: no such camera, a URL that cannot be opened, a missing file or one that is not a video.
    """
    if isinstance(target, int):
        return Capture(target, fps=fps, max_side=max_side)
    if "://" in str(target):
        return Capture(str(target), fps=fps, max_side=max_side)
    path = Path(target)
    if not path.exists():
        raise SlrPoseError(f"no such file: {path}")
    if not path.is_file():
        raise SlrPoseError(f"{path} is not a video file")
    return PacedFile(path, fps=fps, max_side=max_side) if realtime else FileSource(path, fps=fps, max_side=max_side)
