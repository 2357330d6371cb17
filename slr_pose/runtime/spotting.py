"""Sign spotting for isolated-sign models: *when* did a sign happen in a stream of windows.

An isolated-sign model scores one window of landmarks at a time. The rule
that turns its per-window probabilities into signs, as they happen:

1. a window whose most probable class ``c`` has probability at least
   ``threshold`` *supports* ``c``; any other window breaks the run;
2. a sign ``c`` is emitted when ``min_windows`` consecutive windows support
   it, at the end of the last of them;
3. once emitted, ``c`` is not emitted again until its probability falls
   below ``release`` (or a window without signing, see below, comes), so one
   long sign is one event and a sign repeated after a pause is two;
4. a class named ``idle`` (a no-sign class, when the model was trained with
   one) never supports anything: it only breaks runs;
5. a window without signing (no hand in view: :class:`SignSpotter.update`
   with ``None``) breaks the run and releases every sign;
6. with a model that has a boundary head, a spotted sign's start and end
   are where the head places the sign (the mean over the supporting
   windows), not the supporting windows' stretch; and with ``centre`` set,
   a window supports its top class only when that sign is centred in it
   (the middle of the predicted start..end within ``centre`` window lengths
   of the window's middle).

Measured on real continuous signing (``benchmarks/results/spotting.md``,
RWTH-BOSTON-104): the head's times have less than half the start error of
the windows' stretch at the same F1, while the ``centre`` condition does not
raise F1; so ``live`` uses the head's times whenever the model has one and
leaves ``centre`` off unless asked.

:class:`SignSpotter` applies the rule window by window (``live``);
:func:`spot` applies it offline to a sequence of per-window probabilities,
to measure it on continuous data with known sign times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from slr_pose.errors import SlrPoseError

#: The class name that means "no sign" when a model has it.
IDLE = "idle"
#: Probability below which an emitted sign counts as over (hysteresis below the threshold, so a flicker
#: around the threshold is not two signs).
DEFAULT_RELEASE = 0.4


@dataclass(frozen=True)
class SpottingRule:
    """The parameters of the rule (see the module docstring).

    Args:
        threshold: probability a window's top class needs to support it, in (0, 1].
        min_windows: consecutive supporting windows before a sign is emitted (>= 1).
        release: an emitted sign can be emitted again once its probability falls below this (<= threshold;
            None: :data:`DEFAULT_RELEASE`, or ``threshold`` when that is lower).
        idle: name of the no-sign class (a model without it has none).
        centre: with a boundary head, the largest distance between the predicted sign's middle and the
            window's middle, in window lengths, in [0, 0.5] (None: the boundary head is not used to support).
    """

    threshold: float = 0.6
    min_windows: int = 3
    release: float | None = None
    idle: str = IDLE
    centre: float | None = None

    def __post_init__(self) -> None:
        if self.release is None and isinstance(self.threshold, (int, float)):
            object.__setattr__(self, "release", min(DEFAULT_RELEASE, self.threshold))
        if not (isinstance(self.threshold, (int, float)) and 0 < self.threshold <= 1):
            raise SlrPoseError(f"spotting threshold must be in (0, 1], not {self.threshold!r}")
        if not (isinstance(self.min_windows, int) and self.min_windows >= 1):
            raise SlrPoseError(f"spotting min_windows must be a whole number >= 1, not {self.min_windows!r}")
        if not (isinstance(self.release, (int, float)) and 0 <= self.release <= self.threshold):
            raise SlrPoseError(f"spotting release must be in [0, threshold={self.threshold}], not {self.release!r}")
        if self.centre is not None and not (isinstance(self.centre, (int, float)) and 0 <= self.centre <= 0.5):
            raise SlrPoseError(f"spotting centre must be in [0, 0.5] window lengths, not {self.centre!r}")


@dataclass(frozen=True)
class Spotted:
    """One recognised sign.

    Attributes:
        gloss: the class.
        probability: its mean probability over the supporting windows.
        time: seconds, the end of the window that completed the run (when the sign was emitted).
        start, end: seconds, the stretch of stream the supporting windows covered, or with a boundary
            head, the mean of the start and end it predicted in them.
        window: index of the emitting window among all windows seen.
    """

    gloss: str
    probability: float
    time: float
    start: float
    end: float
    window: int

    def to_json(self) -> dict:
        return {"time": round(self.time, 3), "gloss": self.gloss, "probability": round(self.probability, 4),
                "start": round(self.start, 3), "end": round(self.end, 3)}


class SignSpotter:
    """The rule, applied window by window.

    Args:
        classes: class names in probability order.
        rule: the parameters.
    """

    def __init__(self, classes: Sequence[str], rule: SpottingRule | None = None) -> None:
        self.classes = tuple(classes)
        self.rule = rule or SpottingRule()
        self._idle = self.classes.index(self.rule.idle) if self.rule.idle in self.classes else -1
        self.windows = 0
        self.reset()

    def reset(self) -> None:
        """Forget the current run and release every sign (a new stream)."""
        self._run: list[tuple[float, float, float]] = []  # (probability, start, end) of each supporting window
        self._spans: list[tuple[float, float]] = []  # the boundary head's sign start, end in each (s)
        self._candidate = -1
        self._latched: set[int] = set()

    def update(self, probs: np.ndarray | None, start: float, end: float,
               span: tuple[float, float] | None = None) -> Spotted | None:
        """Feed one window's ``(K,)`` probabilities (``None``: no signing in it) covering ``start..end`` seconds.

        ``span``: the boundary head's sign start and end in that window, in
        seconds of the stream (None: the model has no boundary head; the
        rule's ``centre`` then does not apply).

        Returns:
            The sign this window completes, or None.
        """
        index = self.windows
        self.windows += 1
        if probs is None:
            self._break()
            self._latched.clear()
            return None
        probs = np.asarray(probs)
        self._latched = {c for c in self._latched if probs[c] >= self.rule.release}
        top = int(np.argmax(probs))
        p = float(probs[top])
        centred = (self.rule.centre is None or span is None
                   or abs((span[0] + span[1]) / 2 - (start + end) / 2) <= self.rule.centre * (end - start))
        if top == self._idle or not p >= self.rule.threshold or not centred:
            self._break()
            return None
        if top != self._candidate:
            self._break()
            self._candidate = top
        self._run.append((p, start, end))
        if span is not None:
            self._spans.append((float(span[0]), float(span[1])))
        if len(self._run) < self.rule.min_windows or top in self._latched:
            return None
        self._latched.add(top)
        run = self._run
        a, b = (run[0][1], run[-1][2]) if len(self._spans) != len(run) else np.mean(self._spans, axis=0)
        return Spotted(self.classes[top], float(np.mean([r[0] for r in run])), end, float(a), float(b), index)

    def _break(self) -> None:
        self._run, self._spans, self._candidate = [], [], -1


def spot(probs: np.ndarray, starts: Sequence[float], ends: Sequence[float], classes: Sequence[str],
         rule: SpottingRule | None = None, spans: np.ndarray | None = None) -> list[Spotted]:
    """The rule offline: ``probs`` ``(W, K)`` per-window probabilities (a row of NaN: no signing in that window).

    ``starts``, ``ends``: ``(W,)`` seconds each window covers; ``spans``:
    ``(W, 2)`` the boundary head's sign start and end in each, in seconds
    (None: no boundary head). Returns the signs in order.
    """
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(classes) or len(starts) != len(probs) or len(ends) != len(probs):
        raise SlrPoseError(f"spot needs (W, {len(classes)}) probabilities and W starts and ends, "
                           f"not {probs.shape}, {len(starts)}, {len(ends)}")
    if spans is not None and np.shape(spans) != (len(probs), 2):
        raise SlrPoseError(f"spot needs ({len(probs)}, 2) boundary spans, not {np.shape(spans)}")
    spotter = SignSpotter(classes, rule)
    out = []
    for w, (row, a, b) in enumerate(zip(probs, starts, ends)):
        span = None if spans is None else (float(spans[w][0]), float(spans[w][1]))
        hit = spotter.update(None if np.isnan(row).any() else row, float(a), float(b), span)
        if hit is not None:
            out.append(hit)
    return out


def pair_signs(spotted: Sequence[Spotted], signs: Sequence[tuple[str, float, float]], lag: float = 0.0) -> list[int]:
    """For each true sign ``(gloss, start s, end s)``: the index of the spotted sign matched to it, or -1.

    A spotted sign matches when it has the true sign's gloss and was emitted
    inside it, or at most ``lag`` seconds after its end (a window must see the
    end of a sign). True signs are matched in order, each to the first spotted
    sign not matched yet; each spotted sign matches at most one true sign.
    """
    used = [False] * len(spotted)
    out = []
    for gloss, a, b in signs:
        hit = next((i for i, s in enumerate(spotted) if not used[i] and s.gloss == gloss
                    and a <= s.time <= b + lag), -1)  # fmt: skip
        if hit >= 0:
            used[hit] = True
        out.append(hit)
    return out


def matches(spotted: Sequence[Spotted], signs: Sequence[tuple[str, float, float]], lag: float = 0.0) -> list[bool]:
    """For each true sign ``(gloss, start s, end s)``: whether a spotted sign matched it (:func:`pair_signs`)."""
    return [i >= 0 for i in pair_signs(spotted, signs, lag)]
