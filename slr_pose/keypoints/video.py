"""Decoded video frames for landmark extraction: frame-rate decimation and downscaling.

OpenCV (a MediaPipe dependency) decodes; frames come out as RGB ``uint8``
arrays, the input MediaPipe expects. A "video" is a video file or a folder of
frame images (how RWTH-PHOENIX-Weather ships its videos). A file that cannot be
opened, holds no frames, or stops decoding well before the frame count its
header promises raises :class:`VideoError` with one line naming the file.
"""

from __future__ import annotations

import math
import os
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from slr_pose.errors import SlrPoseError

#: File endings searched for when a folder is given as input (lower case).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".mts")

#: A video counts as truncated when it decodes fewer frames than its header
#: promises by more than this fraction (headers of some containers estimate
#: the count from the duration, so a frame or two short is normal).
TRUNCATION_TOLERANCE = 0.05


#: Image files that make up a folder of frames, read in natural order (frame2 < frame10).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
#: Frame rate of a folder of frames when none is given (PHOENIX-2014 is 25 fps).
FRAME_FOLDER_FPS = 25.0
#: Frames decoded ahead of the consumer when prefetching.
PREFETCH = 4


class VideoError(SlrPoseError):
    """A video file cannot be decoded as asked."""


@dataclass(frozen=True)
class Frame:
    """One kept frame.

    Attributes:
        index: position of the frame among all decoded frames of the source (0-based).
        time: seconds since the start of the source.
        image: ``(H, W, 3)`` uint8 RGB, downscaled when ``max_side`` asked for it.
    """

    index: int
    time: float
    image: np.ndarray


def import_cv2():
    """OpenCV, imported with its decoder logging quiet (shared by everything that decodes or draws frames)."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # decoder chatter is not the user's business
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    import cv2

    return cv2


class VideoFrames:
    """The frames of one video, decimated to ``fps`` and downscaled to ``max_side``.

    Args:
        path: video file, or folder of frame images (:data:`IMAGE_EXTENSIONS`).
        fps: keep about this many frames per second (the first frame of each
            ``1 / fps`` interval); ``None`` or a rate at or above the source's keeps all.
        max_side: downscale (area interpolation) so that the longer side is at
            most this many pixels; ``None`` keeps the decoded size.
        prefetch: decode in a background thread, :data:`PREFETCH` frames ahead,
            so decoding overlaps with whatever consumes the frames (OpenCV and
            MediaPipe release the GIL while they work).
        source_fps: frame rate of a folder of frames (default :data:`FRAME_FOLDER_FPS`);
            ignored for video files, whose container says it.

    After iteration, :attr:`decoded` counts all decoded frames and
    :attr:`width`, :attr:`height` give the source frame size (before
    downscaling). Iteration raises :class:`VideoError` for a video with no
    frames or one cut short.

    Example::

        frames = VideoFrames("clip.mp4", fps=15, max_side=640)
        for frame in frames:
            frame.image.shape   # (360, 640, 3)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        fps: float | None = None,
        max_side: int | None = None,
        prefetch: bool = False,
        source_fps: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.prefetch = prefetch
        if fps is not None and not fps > 0:
            raise VideoError(f"target fps {fps} is not a positive number")
        if max_side is not None and max_side < 16:
            raise VideoError(f"max side {max_side} is too small (at least 16 pixels)")
        self.target_fps = fps
        self.max_side = max_side
        cv2 = import_cv2()
        self.decoded = 0
        self._cap = None
        self._images: list[Path] | None = None
        if self.path.is_dir():
            self._images = frame_files(self.path)
            if not self._images:
                raise VideoError(f"{self.path} is a folder without frame images ({', '.join(IMAGE_EXTENSIONS)})")
            self.source_fps = float(source_fps or FRAME_FOLDER_FPS)
            self.frame_count = len(self._images)
            self.width = self.height = 0  # known once the first image is read
            return
        if not self.path.is_file():
            raise VideoError(f"{self.path} does not exist")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise VideoError(f"{self.path} is not a readable video (unknown format, damaged or cut short)")
        self.source_fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)

    @property
    def fps(self) -> float:
        """Frame rate of the kept frames (the target when decimating, else the source's)."""
        src = self.source_fps if self.source_fps > 0 else float("nan")
        if self.target_fps is not None and not self.target_fps >= src:
            return float(self.target_fps)
        return src

    def expected_frames(self) -> int:
        """Kept frames to expect, from the header's frame count (0 when unknown)."""
        if self.target_fps is None or not self.source_fps > self.target_fps:
            return self.frame_count
        return math.ceil(self.frame_count * self.target_fps / self.source_fps)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()

    def __iter__(self) -> Iterator[Frame]:
        frames = _prefetched(self._decode(), PREFETCH) if self.prefetch else self._decode()
        yield from frames
        self._check_complete()

    def _keep(self, t: float) -> bool:
        """Decimation: whether the frame at ``t`` seconds opens a new ``1 / fps`` interval."""
        if self.target_fps is None:
            return True
        b = math.floor(t * self.target_fps + 1e-6)
        if b <= self._last_bin:
            return False
        self._last_bin = b
        return True

    def _decode(self) -> Iterator[Frame]:
        self._last_bin = -1
        if self._images is not None:
            yield from self._read_images()
            return
        cv2 = import_cv2()
        cap = self._cap
        last_time = -math.inf
        step = 1.0 / self.source_fps if self.source_fps > 0 else 1 / 30
        try:
            while cap.grab():  # grab decodes; retrieve (colour conversion) only for kept frames
                i = self.decoded
                self.decoded += 1
                t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                if not t > last_time:  # some containers give no timestamps: count frames instead
                    t = max(i * step, last_time + step) if i else 0.0
                last_time = t
                if not self._keep(t):
                    continue
                ok, image = cap.retrieve()
                if not ok or image is None:
                    break
                if i == 0:
                    self.height, self.width = image.shape[:2]
                yield Frame(i, t, self._prepare(cv2, image))
        finally:
            cap.release()

    def _read_images(self) -> Iterator[Frame]:
        cv2 = import_cv2()
        for i, file in enumerate(self._images):
            self.decoded += 1
            t = i / self.source_fps
            if not self._keep(t):
                continue  # a dropped frame is never read
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise VideoError(f"{file} is not a readable image")
            if not self.width:
                self.height, self.width = image.shape[:2]
            yield Frame(i, t, self._prepare(cv2, image))

    def _prepare(self, cv2, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self.max_side is not None and max(h, w) > self.max_side:
            s = self.max_side / max(h, w)
            image = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def _check_complete(self) -> None:
        if self.decoded == 0:
            raise VideoError(f"{self.path} has no decodable frames")
        if self.frame_count and self.decoded < self.frame_count * (1 - TRUNCATION_TOLERANCE) - 1:
            raise VideoError(f"{self.path} is truncated or damaged: decoded {self.decoded} of {self.frame_count} frames")


def frame_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural order (``img2`` before ``img10``)."""
    files = [f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS and f.is_file()]
    return sorted(files, key=lambda f: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", f.name)])


_DONE = object()


def _prefetched(frames: Iterator[Frame], depth: int) -> Iterator[Frame]:
    """Run ``frames`` in a daemon thread, ``depth`` items ahead; errors re-raise here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        q.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            q.put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer thread
            q.put(e)
        finally:
            frames.close()

    worker = threading.Thread(target=produce, name="video-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)
