"""Gloss spans: where each gloss of a continuous sample lies, in stored frames.

A continuous sample (a sentence, a 30-second window of a lesson) carries its
gloss sequence in ``SampleInfo.glosses`` (space-separated) and, when the
frames of each gloss are known, ``SampleInfo.gloss_spans``: one ``start:end``
pair per gloss, in the same order, separated by single spaces::

    glosses     = "HELLO THANKYOU HELLO"
    gloss_spans = "0:14 19:40 44:61"

``start`` and ``end`` count the sample's stored frames from 0; ``end`` is
exclusive, so gloss ``i`` owns frames ``start_i <= t < end_i``. Frames outside
every span belong to no gloss (the movement between two signs, rest). Spans
are in gloss order; they may touch but, in what slr-pose writes, never
overlap. An empty ``gloss_spans`` means "sequence known, alignment not".
"""

from __future__ import annotations

from typing import Sequence

from slr_pose.errors import SlrPoseError

Span = tuple[int, int]


def format_spans(spans: Sequence[Span]) -> str:
    """``[(0, 14), (19, 40)]`` -> ``"0:14 19:40"``."""
    return " ".join(f"{int(s)}:{int(e)}" for s, e in spans)


def parse_spans(text: str, length: int | None = None, count: int | None = None) -> list[Span]:
    """``"0:14 19:40"`` -> ``[(0, 14), (19, 40)]``, checked.

    Args:
        text: a ``gloss_spans`` value.
        length: the sample's frame count; every span must lie in ``0..length``.
        count: the number of glosses; there must be one span per gloss.

    Raises:
        SlrPoseError: naming the first malformed or out-of-range span.
    """
    spans: list[Span] = []
    for part in text.split():
        try:
            a, b = part.split(":")
            s, e = int(a), int(b)
        except ValueError:
            raise SlrPoseError(f"gloss span {part!r} is not START:END (stored frame numbers)") from None
        if not 0 <= s < e:
            raise SlrPoseError(f"gloss span {part!r} needs 0 <= START < END")
        if length is not None and e > length:
            raise SlrPoseError(f"gloss span {part!r} ends after the sample's {length} frames")
        spans.append((s, e))
    if count is not None and len(spans) != count:
        raise SlrPoseError(f"{len(spans)} gloss spans for {count} glosses")
    return spans
