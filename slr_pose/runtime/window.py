"""The landmarks of the last few seconds of a stream, as a :class:`Sample` the normalisation takes.

Frames are kept by time, not by count: when processing falls behind and
frames are dropped, a window still covers the same stretch of signing (with
fewer frames in it), and :attr:`Sample.info.fps` says the rate they came at.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import Sample, SampleInfo

#: A measured rate this close to the stream's nominal one counts as the nominal rate (so a window of a
#: stream without drops is normalised exactly as the same frames cut from a file would be).
RATE_TOLERANCE = 0.05


class LandmarkWindow:
    """A sliding window over per-frame landmarks.

    Args:
        layout: the layout of the rows pushed (the extractor's).
        seconds: how much of the stream a window holds (frames newer than the latest frame's time minus this).
        width, height: source frame size (the body frame scales x by their ratio).
        nominal_fps: the stream's frame rate (0: unknown).
    """

    def __init__(self, layout: Layout, seconds: float, *, width: int = 0, height: int = 0, nominal_fps: float = 0.0) -> None:
        self.layout = layout
        self.seconds = float(seconds)
        self.width, self.height = int(width), int(height)
        self.nominal_fps = float(nominal_fps)
        self._rows: deque[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = deque()
        self._hands = np.array([layout.groups.index(g) for g in ("left_hand", "right_hand") if g in layout.groups])

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()

    def push(self, xyz: np.ndarray, confidence: np.ndarray, missing: np.ndarray, time_s: float) -> None:
        """Add one frame: ``xyz`` ``(V, 3)``, ``confidence`` ``(V,)``, ``missing`` ``(G,)``, its time in seconds."""
        self._rows.append((xyz, confidence, missing, float(time_s)))
        while self._rows and self._rows[0][3] <= time_s - self.seconds + 1e-6:  # 1 s at 30 fps: 30 frames, not 31
            self._rows.popleft()

    @property
    def start(self) -> float:
        """Time (s) of the oldest frame held."""
        return self._rows[0][3] if self._rows else float("nan")

    @property
    def end(self) -> float:
        """Time (s) of the newest frame held."""
        return self._rows[-1][3] if self._rows else float("nan")

    def time_at(self, fraction: float) -> float:
        """Stream time (s) at ``fraction`` of the window's frames (0: the oldest, 1: the newest), read between the
        frames' own times, so a window thinned by dropped frames maps where its frames really were."""
        times = [row[3] for row in self._rows]
        if len(times) < 2:
            return times[0] if times else float("nan")
        return float(np.interp(fraction * (len(times) - 1), np.arange(len(times)), times))

    def hand_frames(self) -> int:
        """Frames in the window with at least one hand found."""
        if not len(self._hands):
            return len(self._rows)
        return sum(bool((~row[2][self._hands]).any()) for row in self._rows)

    def sample(self) -> Sample:
        """The window as a sample of ``T`` frames (``T >= 1``); ``info.fps`` is the rate they arrived at."""
        xyz, conf, missing, times = zip(*self._rows)
        t = np.asarray(times, np.float64)
        fps = self.nominal_fps
        if len(t) > 1 and t[-1] > t[0]:
            measured = (len(t) - 1) / (t[-1] - t[0])
            if not (fps > 0 and abs(measured / fps - 1) <= RATE_TOLERANCE):
                fps = measured
        info = SampleInfo(id="window", length=len(t), fps=fps if fps > 0 else float("nan"), width=self.width,
                          height=self.height)
        return Sample(info, np.stack(xyz), np.stack(conf), np.stack(missing), t.astype(np.float32), layout=self.layout)
