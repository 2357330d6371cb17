"""Streaming CTC decoding of long videos: a sliding window that commits glosses as they settle.

Frames arrive in chunks of any size. Whenever ``window`` undecoded frames are
buffered, the decoder runs beam search on exactly those frames, commits the
glosses that start in the first ``window - lookahead`` frames (the *stride*),
and drops the stride from the buffer. The ``lookahead`` frames that follow
are decoded again with the next window: they give each committed gloss right
context, and are where undecided glosses wait. The next window continues
from the committed state, so nothing is emitted twice and the LM keeps its
context:

* the LM state after the committed glosses;
* the last committed gloss, and whether its frames run past the cut (then a
  repeat of that label at the start of the next window continues the same
  gloss instead of emitting it again, as in whole-sequence decoding).

Because windows sit at fixed frame positions, the output does not depend on
how the input is chunked. On long inputs it matches decoding the whole
sequence at once except where a decision needs more than ``lookahead`` frames
of future (tests measure this on PHOENIX-shaped inputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from slr_pose.decoding.ctc import Decoded, check_lm, check_log_probs, decode_segment
from slr_pose.errors import SlrPoseError


@dataclass(frozen=True)
class StreamedGloss:
    """A committed gloss: its token id and ``[start, end)`` frames counted from the stream's start."""

    token: int
    start: int
    end: int


class StreamingDecoder:
    """Decode an unbounded stream of CTC log-probabilities chunk by chunk.

    Args:
        window: frames decoded at once.
        lookahead: frames of future a gloss needs before it is committed
            (``0 < lookahead < window``); latency is up to ``window`` frames.
        beam_width, blank, lm, lm_weight, insertion_bonus, prune, max_candidates, beam_prune:
            as in :func:`slr_pose.decoding.ctc.beam_search`.

    Example::

        dec = StreamingDecoder(window=200, lookahead=50, beam_width=10)
        for chunk in chunks:            # (n, C) log-probs each
            for g in dec.push(chunk):
                print(vocab.token(g.token), g.start, g.end)
        rest = dec.flush()
    """

    def __init__(self, window: int = 200, lookahead: int = 50, beam_width: int = 10, blank: int = 0, lm=None,
                 lm_weight: float = 0.0, insertion_bonus: float = 0.0, prune: float = 6.0,
                 max_candidates: int = 40, beam_prune: float = 12.0) -> None:  # fmt: skip
        if not isinstance(window, int) or not isinstance(lookahead, int) or not 0 < lookahead < window:
            raise SlrPoseError(f"streaming needs 0 < lookahead < window, got lookahead={lookahead!r}, window={window!r}")
        if not isinstance(beam_width, int) or beam_width < 1:
            raise SlrPoseError(f"beam_width must be a positive integer, got {beam_width!r}")
        self.window, self.lookahead = window, lookahead
        self.settings = dict(beam_width=beam_width, blank=blank, lm_weight=lm_weight, insertion_bonus=insertion_bonus,
                             prune=prune, beam_prune=beam_prune, max_candidates=max_candidates)  # fmt: skip
        self.lm = lm
        self.reset()

    def reset(self) -> None:
        """Forget the stream: start a new one."""
        self._buffer: np.ndarray | None = None
        self._offset = 0  # absolute frame of _buffer[0]
        self._lm_state: int | None = None
        self._prev, self._in_run = -1, False
        self._n_classes: int | None = None
        self.emitted: list[StreamedGloss] = []

    def push(self, log_probs) -> list[StreamedGloss]:
        """Add ``(n, C)`` frames; returns the glosses committed because of them (possibly none)."""
        lp = check_log_probs(log_probs, self.settings["blank"])
        if self._n_classes is None:
            self._n_classes = lp.shape[1]
            self.lm = check_lm(self.lm, lp.shape[1])
        elif lp.shape[1] != self._n_classes:
            raise SlrPoseError(f"chunk has {lp.shape[1]} classes but the stream started with {self._n_classes}")
        self._buffer = lp if self._buffer is None else np.concatenate([self._buffer, lp])
        out: list[StreamedGloss] = []
        while self._buffer.shape[0] >= self.window:
            out += self._step(self._buffer[: self.window], final=False)
        self.emitted += out
        return out

    def flush(self) -> list[StreamedGloss]:
        """Decode what is buffered as the end of the stream; returns the last glosses."""
        if self._buffer is None or self._buffer.shape[0] == 0:
            return []
        out = self._step(self._buffer, final=True)
        self.emitted += out
        return out

    def _step(self, segment: np.ndarray, final: bool) -> list[StreamedGloss]:
        s = self.settings
        best = decode_segment(segment, s["beam_width"], s["blank"], self.lm, s["lm_weight"], s["insertion_bonus"],
                              s["prune"], s["beam_prune"], s["max_candidates"], self._lm_state, self._prev,
                              self._in_run, final)[0]  # fmt: skip
        cut = segment.shape[0] if final else self.window - self.lookahead
        keep = best.frames[:, 0] < cut
        tokens, frames = best.tokens[keep], best.frames[keep]
        if len(tokens):
            if self.lm is not None:
                self._lm_state = self.lm.state_after(tokens, self._lm_state)
            self._prev, self._in_run = int(tokens[-1]), bool(frames[-1, 1] > cut)
        else:  # nothing new: the previous gloss may still be held across the whole stride
            self._in_run = self._in_run and cut > 0 and int(segment[cut - 1].argmax()) == self._prev
        out = [StreamedGloss(int(t), int(a) + self._offset, int(b) + self._offset) for t, (a, b) in zip(tokens, frames)]
        self._buffer = self._buffer[cut:]
        self._offset += cut
        return out

    def result(self) -> Decoded:
        """Everything emitted so far as one :class:`Decoded` (``score`` is NaN: windows overlap)."""
        tokens = np.asarray([g.token for g in self.emitted], dtype=np.int64)
        frames = np.asarray([(g.start, g.end) for g in self.emitted], dtype=np.int64).reshape(-1, 2)
        return Decoded(tokens, frames, math.nan)


def decode_stream(log_probs, window: int = 200, lookahead: int = 50, chunk: int | None = None, **settings) -> Decoded:
    """Decode a long ``(T, C)`` input with :class:`StreamingDecoder`, fed ``chunk`` frames at a time.

    ``settings`` are :class:`StreamingDecoder`'s (beam_width, lm, lm_weight, ...).
    """
    lp = check_log_probs(log_probs, settings.get("blank", 0))
    dec = StreamingDecoder(window=window, lookahead=lookahead, **settings)
    step = chunk or max(1, lp.shape[0])
    for i in range(0, lp.shape[0], step):
        dec.push(lp[i : i + step])
    dec.flush()
    return dec.result()
