"""Annotation tiers: choosing them by name or pattern, checking them, and merging them into one timed sequence.

Annotation tools (ELAN, the KRSL slan-tool) keep a recording's annotations
on named *tiers*: one tier of glosses, or one per hand (``RH-gloss``,
``LH-gloss``), a tier of the spoken translation, tiers of handshapes. The
readers in :mod:`.elan` and :mod:`.krsl` turn each tier into
:class:`~slr_pose.continuous.segments.Timed` events (seconds) and use this
module to pick the tiers asked for and to make one sequence of them, the
same events :func:`~slr_pose.continuous.segments.read_timed_table` reads
from a CSV gloss table.

* **Choosing.** Each selector names a tier exactly or, failing that, is a
  regular expression that must match a whole tier name (``RH-gloss|LH-gloss``,
  ``(?i).*gloss.*``). A selector that matches no tier is an error naming the
  file and the tiers it has.
* **Checking.** On one tier, annotations may touch but not overlap: an
  overlap is an error naming the tier and the time. Empty annotations are
  placeholders and are skipped. A gloss must be one token (no spaces).
* **Merging.** Tiers are united in time order. Where a corpus splits the
  hands, a two-handed sign is often annotated on both tiers: annotations of
  the *same* value on different tiers that overlap in time are one sign and
  become one event spanning both. Different values that overlap (one gloss
  per hand at once) are kept, ordered by start, then end.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from slr_pose.continuous.segments import Timed
from slr_pose.errors import SlrPoseError


def select_tiers(names: Sequence[str], selectors: Iterable[str], where: str) -> list[str]:
    """The tiers ``selectors`` choose among ``names``, in the document's order, each once.

    Raises:
        SlrPoseError: a selector that is neither a tier name nor a pattern matching one.
    """
    chosen: set[str] = set()
    for sel in selectors:
        if sel in names:
            chosen.add(sel)
            continue
        try:
            pattern = re.compile(sel)
        except re.error as e:
            raise SlrPoseError(f"{where}: no tier {sel!r}, and it is not a valid pattern ({e})") from None
        hits = [n for n in names if pattern.fullmatch(n)]
        if not hits:
            listed = ", ".join(repr(n) for n in names) or "none"
            raise SlrPoseError(f"{where}: no tier matches {sel!r} (tiers: {listed})")
        chosen.update(hits)
    return [n for n in names if n in chosen]


def tier_events(
    rows: Iterable[tuple[float, float, str]], video: str, tier: str, where: str, *, gloss: bool
) -> list[Timed]:
    """One tier's ``(start, end, value)`` rows (seconds) as events, checked, in time order.

    Raises:
        SlrPoseError: a bad time, overlapping annotations, or (``gloss``) a value with spaces.
    """
    events = []
    for start, end, value in rows:
        value = (value or "").strip()
        if not value:
            continue
        if not 0 <= start < end:
            raise SlrPoseError(f"{where} tier {tier!r}: annotation {value!r} needs 0 <= start < end, got {start:g} .. {end:g} s")
        if gloss and len(value.split()) != 1:
            raise SlrPoseError(f"{where} tier {tier!r}: gloss {value!r} at {start:g} s contains spaces; one gloss per annotation")
        events.append(Timed(video, float(start), float(end), value))
    events.sort(key=lambda e: (e.start, e.end))
    for a, b in zip(events, events[1:]):
        if b.start < a.end:
            raise SlrPoseError(
                f"{where} tier {tier!r}: annotations {a.value!r} ({a.start:g}-{a.end:g} s) and "
                f"{b.value!r} ({b.start:g}-{b.end:g} s) overlap"
            )
    return events


def chosen_events(
    tiers: Mapping[str, Sequence[tuple[float, float, str]]],
    recording: str,
    where: str,
    gloss_tiers: Sequence[str],
    text_tiers: Sequence[str] = (),
) -> tuple[list[Timed], list[Timed]]:
    """The merged glosses and transcript lines of one document's tiers (rows in seconds).

    Raises:
        SlrPoseError: a selector matching no tier, a tier chosen as both,
            overlapping annotations on a tier, a gloss with spaces.
    """
    names = list(tiers)
    glosses = select_tiers(names, gloss_tiers, where)
    texts = select_tiers(names, text_tiers, where) if text_tiers else []
    both = sorted(set(glosses) & set(texts))
    if both:
        raise SlrPoseError(f"{where}: tier {both[0]!r} is chosen both as glosses and as transcript")
    g = {t: tier_events(tiers[t], recording, t, where, gloss=True) for t in glosses}
    x = {t: tier_events(tiers[t], recording, t, where, gloss=False) for t in texts}
    return merge_tiers(g), merge_tiers(x)


def merge_tiers(tiers: Mapping[str, Sequence[Timed]]) -> list[Timed]:
    """The events of several tiers as one sequence; overlapping events of the same value become one."""
    events = sorted((e for es in tiers.values() for e in es), key=lambda e: (e.start, e.end))
    merged: list[Timed] = []
    latest: dict[str, int] = {}  # value -> index of its latest merged event
    for e in events:
        twin = latest.get(e.value)
        if twin is not None and e.start < merged[twin].end:
            m = merged[twin]
            merged[twin] = Timed(m.video, m.start, max(m.end, e.end), m.value)
        else:
            latest[e.value] = len(merged)
            merged.append(e)
    return merged
