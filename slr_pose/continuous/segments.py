"""Long recordings cut into fixed-length windows with the glosses that fall in them.

Continuous corpora made from long recordings (KRSL-OnlineSchool: whole online
lessons, annotated with timed glosses and the ASR text of the spoken
interpretation) are trained on fixed-length clips, 30 seconds of about 30
glosses each. :func:`segment_store` reads a store of whole recordings and a
table of timed glosses and writes a new store of windows.

Tables (CSV, or tab-separated when the header has tabs), times in seconds
since the start of the recording (or milliseconds with ``unit="ms"``)::

    glosses:     video,start,end,gloss        lesson01,12.40,12.95,HELLO
    transcript:  video,start,end,text         lesson01,12.10,15.80,"hello everyone"

``video`` is the recording's sample id in the store. Stored frames are placed
in time by ``/frames/time`` (or ``index / fps`` when the store has no times).

The rules, one by one:

* **Windows** are aligned to the recording's clock: window ``k`` covers
  ``[k * hop, k * hop + length)`` seconds with ``hop = length - overlap``; the
  first window that reaches past the last frame is the last one (it may be
  shorter); windows that end before the first frame are skipped. A frame at
  time ``t`` belongs to the window with ``start <= t < end``; windows with
  fewer than ``min_frames`` frames (a gap in the recording, a short tail) are
  left out.
* **Glosses** (rule ``midpoint``, the default): a gloss belongs to every
  window that holds its midpoint ``(start + end) / 2``, so without overlap each
  gloss lands in exactly one window. A gloss cut by the window edge keeps its
  place in the sequence and its span is clipped to the window; its index is
  listed under ``cut`` in the window's ``meta``. With rule ``inside`` a gloss
  belongs to a window only when it lies wholly inside it; cut glosses are left
  out of the sequence (their frames stay, unlabelled).
* **Spans** (see :mod:`.gloss_spans`): gloss ``[start, end)`` seconds covers
  the window's frames with ``start <= t < end``; a gloss shorter than one frame
  gap still gets the one frame at or after its start.
* **Transcript**: the lines of the transcript table chosen by the same rule,
  joined with spaces, in time order.

Each window is one sample ``<recording>/<k:04d>`` that keeps the recording's
signer, language, split, fps and source; its ``time`` stays on the recording's
clock and ``meta`` gives ``recording``, ``window``, ``start``, ``end`` (seconds) and ``cut``.

With ``WindowSpec(whole=True)`` there are no windows: each annotated
recording becomes one continuous sample with its own id, every frame and
every gloss (one window from 0 s to just past its last frame or annotation).
The annotations may come from ELAN ``.eaf`` files or slan-tool exports as
well as from tables (:mod:`.annotations`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from slr_pose.continuous.gloss_spans import format_spans
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import Sample
from slr_pose.keypoints.store.derive import (
    check_new_store,
    derived_provenance,
    new_store,
    open_source,
)

RULES = ("midpoint", "inside")
UNITS = {"s": 1.0, "ms": 0.001}


@dataclass(frozen=True)
class Timed:
    """One row of a gloss or transcript table: ``value`` from ``start`` to ``end`` seconds."""

    video: str
    start: float
    end: float
    value: str

    @property
    def midpoint(self) -> float:
        return 0.5 * (self.start + self.end)


def read_timed_table(path: str | os.PathLike, column: str, unit: str = "s") -> list[Timed]:
    """Rows of a ``video,start,end,<column>`` table, times converted to seconds.

    Raises:
        SlrPoseError: unreadable file, missing column, a bad time, ``end <= start``,
            an empty value, or (for ``column="gloss"``) a gloss with spaces.
    """
    path = Path(path)
    if unit not in UNITS:
        raise SlrPoseError(f"time unit {unit!r} is not one of {', '.join(UNITS)}")
    scale = UNITS[unit]
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
            fh.seek(0)
            reader = csv.DictReader(fh, delimiter="\t" if "\t" in first else ",")
            wanted = ("video", "start", "end", column)
            lacking = [c for c in wanted if c not in (reader.fieldnames or ())]
            if lacking:
                raise SlrPoseError(f"{path} lacks the column(s) {', '.join(lacking)}; expected {','.join(wanted)}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"cannot read {path} ({e})") from None
    out = []
    for line, row in enumerate(rows, start=2):
        where = f"{path.name} line {line}"
        try:
            start, end = float(row["start"]) * scale, float(row["end"]) * scale
        except (TypeError, ValueError):
            raise SlrPoseError(f"{where}: start {row['start']!r} / end {row['end']!r} are not numbers") from None
        value, video = (row[column] or "").strip(), (row["video"] or "").strip()
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
            raise SlrPoseError(f"{where}: needs 0 <= start < end, got {row['start'].strip()} .. {row['end'].strip()}")
        if not value or not video:
            raise SlrPoseError(f"{where}: empty video or {column}")
        if column == "gloss" and len(value.split()) != 1:
            raise SlrPoseError(f"{where}: gloss {value!r} contains spaces; one gloss per row")
        out.append(Timed(video, start, end, value))
    return out


@dataclass(frozen=True)
class WindowSpec:
    """How to cut: window ``length`` and ``overlap`` in seconds, the gloss ``rule``, ``min_frames`` per window.

    ``whole``: no windows; each recording becomes one sample of all its frames
    and all its glosses (``length`` and ``overlap`` are not used).
    """

    length: float = 30.0
    overlap: float = 0.0
    rule: str = "midpoint"
    min_frames: int = 1
    whole: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.length) and self.length > 0):
            raise SlrPoseError(f"window length {self.length} s must be positive")
        if not 0 <= self.overlap < self.length:
            raise SlrPoseError(f"window overlap {self.overlap} s must be at least 0 and below the length {self.length} s")
        if self.rule not in RULES:
            raise SlrPoseError(f"gloss rule {self.rule!r} is not one of {', '.join(RULES)}")
        if self.min_frames < 1:
            raise SlrPoseError(f"min_frames {self.min_frames} must be at least 1")

    @property
    def hop(self) -> float:
        return self.length - self.overlap


def window_bounds(first_time: float, last_time: float, spec: WindowSpec) -> list[tuple[int, float, float]]:
    """``[(k, start, end), ...]``: the windows of a recording with frames from ``first_time`` to ``last_time`` seconds.

    Windows that end at or before the first frame are not listed.
    """
    k = max(0, math.floor((first_time - spec.length) / spec.hop) + 1)
    out = []
    while True:
        start = k * spec.hop
        out.append((k, start, start + spec.length))
        if start + spec.length > last_time:
            return out
        k += 1


def chosen(events: Sequence[Timed], start: float, end: float, rule: str) -> list[Timed]:
    """The events of a window ``[start, end)`` under ``rule``, in time order."""
    if rule == "midpoint":
        hits = [e for e in events if start <= e.midpoint < end]
    else:
        hits = [e for e in events if start <= e.start and e.end <= end]
    return sorted(hits, key=lambda e: (e.start, e.end))


def frame_spans(times: np.ndarray, events: Sequence[Timed]) -> list[tuple[int, int]]:
    """Stored-frame span of each event among a window's frames at ``times`` (ascending seconds)."""
    n = len(times)
    spans = []
    for e in events:
        a = int(np.searchsorted(times, e.start, side="left"))
        b = int(np.searchsorted(times, e.end, side="left"))
        a = min(a, n - 1)
        spans.append((a, max(b, a + 1)))
    return spans


def frame_times(sample: Sample, fps: float | None) -> np.ndarray:
    """``(T,)`` float64 seconds of a recording's frames: stored times, else ``index / fps``.

    Raises:
        SlrPoseError: no stored times and no ``fps``, or times that go backwards.
    """
    t = sample.time.astype(np.float64)
    if not np.isfinite(t).all():
        if fps is None or not fps > 0:
            raise SlrPoseError(f"recording {sample.info.id!r} has no frame times (unknown frame rate): give its fps")
        t = np.arange(len(t)) / fps
    if len(t) > 1 and (np.diff(t) <= 0).any():
        raise SlrPoseError(f"recording {sample.info.id!r}: frame times do not increase")
    return t


def cut_recording(
    sample: Sample, glosses: Sequence[Timed], texts: Sequence[Timed], spec: WindowSpec, fps: float | None = None
) -> tuple[list[Sample], int]:
    """The windows of one recording, and how many windows were left out for having too few frames."""
    times = frame_times(sample, fps)
    rid = sample.info.id
    late = [g for g in glosses if g.start > times[-1]]
    if late:
        g = late[0]
        raise SlrPoseError(
            f"gloss {g.value} at {g.start:g} s starts after recording {rid!r} ends ({times[-1]:g} s): "
            "are the times in another unit?"
        )
    windows, dropped = [], 0
    if spec.whole:  # one window from 0 to just past the last frame and the last annotation
        last = max([float(times[-1])] + [g.end for g in glosses] + [t.end for t in texts])
        bounds = [(0, 0.0, float(np.nextafter(last, math.inf)))]
    else:
        bounds = window_bounds(float(times[0]), float(times[-1]), spec)
    for k, s, e in bounds:
        lo, hi = np.searchsorted(times, s, side="left"), np.searchsorted(times, e, side="left")
        if hi - lo < spec.min_frames:
            dropped += 1
            continue
        picked = chosen(glosses, s, e, spec.rule)
        lines = chosen(texts, s, e, spec.rule)
        cut = [i for i, g in enumerate(picked) if g.start < s or g.end > e]
        spans = frame_spans(times[lo:hi], picked)
        gloss_text = " ".join(g.value for g in picked)
        digest = hashlib.sha256(f"{sample.info.sha256}\0{rid}\0{s!r}\0{e!r}\0{gloss_text}".encode()).hexdigest()
        meta = {"recording": rid, "window": k, "start": s, "end": e, "cut": cut}
        info = replace(
            sample.info, id=rid if spec.whole else f"{rid}/{k:04d}", length=int(hi - lo), sha256=digest, label="",
            sign_start=-1, sign_end=-1, glosses=gloss_text, gloss_spans=format_spans(spans),
            transcript=" ".join(t.value for t in lines), meta=json.dumps(meta),
        )
        sl = slice(int(lo), int(hi))
        windows.append(
            Sample(info, sample.xyz[sl], sample.confidence[sl], sample.missing[sl], times[sl].astype(np.float32),
                   layout=sample.layout)
        )
    return windows, dropped


@dataclass
class SegmentReport:
    """What :func:`segment_store` wrote."""

    windows: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    unannotated: list[str] = field(default_factory=list)  # recordings in the store with no gloss row: not cut
    glosses: int = 0  # gloss tokens written over all windows
    cut: int = 0  # of which cut by a window edge
    dropped: int = 0  # windows left out for holding fewer than min_frames frames


def segment_store(
    store: str | os.PathLike,
    out: str | os.PathLike,
    glosses: Sequence[Timed],
    texts: Sequence[Timed] = (),
    spec: WindowSpec = WindowSpec(),
    *,
    fps: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> SegmentReport:
    """Cut every annotated recording of ``store`` into windows, written to the new store ``out``.

    Args:
        glosses: timed glosses (:func:`read_timed_table` with ``"gloss"``).
        texts: timed transcript lines (with ``"text"``), optional.
        fps: frame rate for recordings stored without frame times.

    Raises:
        SlrPoseError: ``out`` exists, a table names a recording the store lacks,
            a gloss starts after its recording ends, or there is nothing to cut.
    """
    out = check_new_store(out, store)
    source = open_source(store)
    by_video: dict[str, list[Timed]] = defaultdict(list)
    text_by_video: dict[str, list[Timed]] = defaultdict(list)
    for g in glosses:
        by_video[g.video].append(g)
    for t in texts:
        text_by_video[t.video].append(t)
    for table in (by_video, text_by_video):
        unknown = sorted(v for v in table if v not in source)
        if unknown:
            raise SlrPoseError(f"the annotations name recording {unknown[0]!r}, which is not in {store}")
    if not by_video:
        raise SlrPoseError("the gloss table has no rows")
    settings = {"length": spec.length, "overlap": spec.overlap, "rule": spec.rule, "min_frames": spec.min_frames,
                "fps": fps, "glosses": len(glosses), "transcript_lines": len(texts), "whole": spec.whole}
    report = SegmentReport()
    with new_store(out, source.layout, derived_provenance(source, "segment", settings)) as writer:
        for i, rid in enumerate(source.ids):
            if rid not in by_video:
                report.unannotated.append(rid)
                continue
            windows, dropped = cut_recording(source.read(i), by_video[rid], text_by_video.get(rid, []), spec, fps)
            report.recordings.append(rid)
            report.dropped += dropped
            for w in windows:
                writer.add(w)
                report.windows.append(w.info.id)
                report.glosses += len(w.info.gloss_list)
                report.cut += len(json.loads(w.info.meta)["cut"])
            if progress is not None:
                progress(rid)
    return report
