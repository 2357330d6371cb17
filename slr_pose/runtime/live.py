"""Live recognition: frames -> MediaPipe -> a sliding window of landmarks -> the model -> spotted signs.

Per frame taken from the source: MediaPipe's landmarks go into a
:class:`~slr_pose.runtime.window.LandmarkWindow` of the last ``window``
seconds. Every ``hop`` seconds of stream the window is normalised with the
model's own preprocessing (resampled to the stream's nominal frame rate, so
dropped frames do not make signing look faster) and scored, and the
:class:`~slr_pose.runtime.spotting.SignSpotter` decides whether a sign has
just been made. A window in which fewer than :data:`MIN_HAND_FRACTION` of
the frames show a hand is *without signing*: it is not scored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.backends import Backend
from slr_pose.keypoints.extraction.video import ExtractOptions, LandmarkFiller
from slr_pose.runtime.recogniser import Model, Recogniser
from slr_pose.runtime.sources import FrameSource, StreamFrame
from slr_pose.runtime.spotting import SignSpotter, Spotted, SpottingRule
from slr_pose.runtime.window import LandmarkWindow

#: A window needs a hand in at least this share of its frames to count as signing.
MIN_HAND_FRACTION = 0.25
#: Frame rate assumed for a stream that does not say its own (webcams often report 0).
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class LiveSettings:
    """How windows are cut and scored.

    Args:
        window: seconds of landmarks each decision sees (about one sign).
        hop: seconds of stream between two decisions.
        min_fill: a decision needs the window to span at least this share of ``window``.
        top_k: classes kept per window (for display).
        rule: the spotting rule.
    """

    window: float = 1.5
    hop: float = 0.1
    min_fill: float = 0.6
    top_k: int = 3
    rule: SpottingRule = field(default_factory=SpottingRule)

    def __post_init__(self) -> None:
        if not 0 < self.window <= 60:
            raise SlrPoseError(f"window must be in (0, 60] seconds, not {self.window!r}")
        if not 0 < self.hop <= self.window:
            raise SlrPoseError(f"hop must be in (0, window={self.window}] seconds, not {self.hop!r}")
        if not 0 <= self.min_fill <= 1:
            raise SlrPoseError(f"min_fill must be in [0, 1], not {self.min_fill!r}")


@dataclass
class WindowResult:
    """One decision.

    Attributes:
        time: seconds, the newest frame in the window.
        start: seconds, the oldest frame in the window.
        top: the ``top_k`` classes and probabilities (empty: no signing in the window).
        spotted: the sign this window completed, if any.
        latency: seconds from the arrival of the window's newest frame to this result.
    """

    time: float
    start: float
    top: list[tuple[str, float]]
    spotted: Spotted | None
    latency: float


@dataclass
class LiveStep:
    """What one processed frame gave: its landmarks and, every ``hop`` seconds, a decision.

    Attributes:
        frame: the frame.
        xyz, confidence, missing: its landmarks in the extractor's layout, ``(V, 3)``, ``(V,)``, ``(G,)``
            (as a store keeps them: NaN and missing where not found).
        window: the decision made at this frame, if any.
    """

    frame: StreamFrame
    xyz: np.ndarray
    confidence: np.ndarray
    missing: np.ndarray
    window: WindowResult | None


@dataclass
class LiveSummary:
    """A stream's totals (seconds are wall-clock, except ``duration``)."""

    source: str
    frames: int = 0  # frames processed
    produced: int = 0  # frames the source produced
    dropped: int = 0
    windows: int = 0
    signs: int = 0
    duration: float = 0.0  # seconds of stream covered (first to last processed frame)
    wall: float = 0.0
    mediapipe: float = 0.0
    normalisation: float = 0.0
    model: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of every scored window

    @property
    def drop_rate(self) -> float:
        """Share of the produced frames that were dropped."""
        return self.dropped / self.produced if self.produced else 0.0

    @property
    def realtime_factor(self) -> float:
        """Seconds of stream per second of processing (above 1: faster than real time)."""
        return self.duration / self.wall if self.wall > 0 else float("nan")

    def to_json(self) -> dict:
        lat = np.asarray(self.latencies) * 1000
        return {
            "source": self.source, "frames": self.frames, "produced": self.produced, "dropped": self.dropped,
            "drop_rate": round(self.drop_rate, 4), "windows": self.windows, "signs": self.signs,
            "duration_s": round(self.duration, 3), "wall_s": round(self.wall, 3),
            "ms_per_frame": {k: round(1000 * getattr(self, k) / max(self.frames, 1), 3)
                             for k in ("mediapipe", "normalisation", "model")},
            "latency_ms": {"median": round(float(np.median(lat)), 2), "p95": round(float(np.percentile(lat, 95)), 2)}
            if len(lat) else None,
        }

    def line(self) -> str:
        """One line for the console."""
        j = self.to_json()
        lat = f", latency median {j['latency_ms']['median']:.0f} ms" if j["latency_ms"] else ""
        return (f"{self.source}: {self.signs} signs in {self.duration:.1f} s of stream; {self.frames} frames processed, "
                f"{self.dropped} of {self.produced} dropped ({100 * self.drop_rate:.1f}%); "
                f"{self.realtime_factor:.2f}x real time{lat}")


class LiveRecogniser:
    """Spots signs in a stream of frames.

    Args:
        model: an exported or a run's model (see :mod:`slr_pose.runtime.recogniser`).
        options: how MediaPipe runs (the model's: :meth:`ModelCard.extract_options`); its layout must give the
            model's landmarks.
        language: the head to use (empty: the model's only language).
        settings: window, hop, spotting rule.

    Raises:
        SlrPoseError: an unknown language, a model whose landmarks the extractor's layout does not give,
            or a rule with a ``centre`` for a model without a boundary head.
    """

    def __init__(self, model: Model, options: ExtractOptions, *, language: str = "",
                 settings: LiveSettings | None = None) -> None:
        self.options = options
        self.settings = settings or LiveSettings()
        self.layout = options.layout
        self.recogniser = Recogniser(model, self.layout, language)  # checks the layout before any frame is read
        self.classes = self.recogniser.classes
        if self.settings.rule.centre is not None and not self.recogniser.has_boundary:
            raise SlrPoseError(f"{self.recogniser.card.source} has no boundary head, so a spotting centre cannot "
                               "apply (train with model.boundary: true, or leave --centre out)")
        self._filler = LandmarkFiller(self.layout, options.backend.groups)

    def run(self, source: FrameSource, backend: Backend, summary: LiveSummary | None = None) -> Iterator[LiveStep]:
        """Process ``source`` frame by frame with a loaded ``backend``; ``summary`` is filled in as it goes."""
        s = self.settings
        summary = summary if summary is not None else LiveSummary(source.name)
        fps = source.fps or DEFAULT_FPS
        config = self.recogniser.card.config
        # windows are resampled to the stream's nominal rate: a window thinned by dropped frames is stretched back
        rec = Recogniser(self.recogniser.model, self.layout, self.recogniser.language, fps=config.fps or fps)
        window = LandmarkWindow(self.layout, s.window, width=source.width, height=source.height, nominal_fps=fps)
        spotter = SignSpotter(self.classes, s.rule)
        v, g = self.layout.num_landmarks, len(self.layout.groups)
        backend.start_video()
        mp0 = backend.inference_seconds
        next_decision, first, wall0 = None, None, time.perf_counter()
        try:
            for frame in source:
                xyz, conf, missing = np.full((v, 3), np.nan, np.float32), np.zeros(v, np.float32), np.ones(g, bool)
                self._filler.fill(backend.process(frame.image, frame.time), xyz, conf, missing)
                window.push(xyz, conf, missing, frame.time)
                first = frame.time if first is None else first
                summary.frames += 1
                summary.duration = frame.time - first + 1.0 / fps
                result = None
                if next_decision is None:
                    next_decision = frame.time + s.hop
                if frame.time >= next_decision - 1e-9 and window.end - window.start >= s.min_fill * s.window - 1.5 / fps:
                    next_decision += s.hop * max(1, int((frame.time - next_decision) // s.hop) + 1)
                    result = self._decide(rec, window, spotter, frame)
                    summary.windows += 1
                    summary.latencies.append(result.latency)
                    summary.signs += result.spotted is not None
                summary.produced, summary.dropped = source.produced, source.dropped
                summary.wall = time.perf_counter() - wall0
                summary.mediapipe = backend.inference_seconds - mp0
                summary.normalisation, summary.model = rec.timings.normalisation, rec.timings.model
                yield LiveStep(frame, xyz, conf, missing, result)
        finally:
            source.close()
            summary.produced, summary.dropped = source.produced, source.dropped
            summary.wall = time.perf_counter() - wall0

    def _decide(self, rec: Recogniser, window: LandmarkWindow, spotter: SignSpotter, frame: StreamFrame) -> WindowResult:
        start, end = window.start, window.end
        if window.hand_frames() < MIN_HAND_FRACTION * len(window):
            spotted, top = spotter.update(None, start, end), []
        else:
            probs, span = rec.score(window.sample())
            if span is not None:  # fractions of the window's frames -> seconds of stream
                span = (window.time_at(span[0]), window.time_at(span[1]))
            spotted, top = spotter.update(probs, start, end, span), rec.top(probs, self.settings.top_k)
        return WindowResult(end, start, top, spotted, time.perf_counter() - frame.arrived)
