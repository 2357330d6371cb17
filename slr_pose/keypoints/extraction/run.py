"""A whole extraction run: many inputs into one store, never losing work.

* a sample already stored from the same file (same id and sha256) is skipped,
  an id stored from a different file is a failure, never an overwrite;
* every finished sample is durable at once (the store's journal), so a run
  killed at any moment keeps all of them and the next run goes on from there;
* the journal is folded into the ``.h5`` when it holds as many frames as the
  store already does (at least :data:`~slr_pose.keypoints.store.writer.COMMIT_MIN_FRAMES`)
  and at the end: a commit copies the store, so doubling keeps the total
  copying under twice the final size however many samples there are;
* a video that cannot be used is one line in the summary and in
  ``STORE.h5.failures.csv`` (id, path, reason); the run goes on.
"""

from __future__ import annotations

import contextlib
import csv
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.extraction.video import ExtractOptions
from slr_pose.keypoints.extraction.workers import parallel, serial
from slr_pose.keypoints.inputs import InputProblem, VideoInput, content_sha256
from slr_pose.keypoints.store import Sample, StoreWriter
from slr_pose.keypoints.store.writer import COMMIT_MIN_FRAMES, CommitSchedule
from slr_pose.keypoints.video import VideoFrames


@dataclass
class RunSummary:
    """What a run did. ``detected[g]`` counts frames where group ``g`` was found."""

    groups: tuple[str, ...]
    extracted_groups: tuple[str, ...]
    done: int = 0
    skipped: int = 0
    frames: int = 0
    failures: list[InputProblem] = field(default_factory=list)
    detected: dict[str, int] = field(default_factory=dict)
    report: Path | None = None
    #: wall seconds inside MediaPipe calls, summed over workers (for benchmarks)
    inference_seconds: float = 0.0

    def add(self, sample: Sample) -> None:
        self.done += 1
        self.frames += len(sample.xyz)
        for j, g in enumerate(self.groups):
            self.detected[g] = self.detected.get(g, 0) + int((~sample.missing[:, j]).sum())

    def lines(self) -> list[str]:
        """The summary, one fact per line (failures first)."""
        out = [f"failed {p.id or '?'}: {p.reason}" for p in self.failures]
        out.append(f"extracted {self.done}, skipped {self.skipped} (already stored), failed {len(self.failures)}")
        if self.frames:
            rates = [
                f"{g} {100 * self.detected.get(g, 0) / self.frames:.1f}%" if g in self.extracted_groups
                else f"{g} not extracted"
                for g in self.groups
            ]
            out.append(f"frames {self.frames}; detected in: " + ", ".join(rates))
        if self.failures and self.report is not None:
            out.append(f"failures listed in {self.report}")
        return out


class FailureReport:
    """``STORE.h5.failures.csv``: one row (id, path, reason) per failed input, written as they happen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None
        path.unlink(missing_ok=True)  # the report describes this run only

    def add(self, problem: InputProblem) -> None:
        if self._fh is None:
            self._fh = open(self.path, "w", newline="", encoding="utf-8")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(["id", "path", "reason"])
        self._csv.writerow([problem.id, problem.path, problem.reason])
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "FailureReport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def failure_report_path(store: str | os.PathLike) -> Path:
    store = Path(store)
    return store.with_name(store.name + ".failures.csv")


def run_extraction(
    items: list[VideoInput],
    store: str | os.PathLike,
    options: ExtractOptions,
    *,
    problems: Iterable[InputProblem] = (),
    workers: int = 1,
    progress: bool | None = None,
    commit_min_frames: int = COMMIT_MIN_FRAMES,
) -> RunSummary:
    """Extract ``items`` into the store at ``store`` (created if needed).

    Args:
        items: videos with unique ids.
        store: the ``.h5`` path; its folder must exist.
        options: extraction settings; an existing store must have been made with equal ones.
        problems: inputs already known to be unusable (reported as failures).
        workers: processes extracting in parallel (1: in this process).
        progress: show a frame progress bar on stderr (None: only on a terminal).
        commit_min_frames: see :data:`COMMIT_MIN_FRAMES`.

    Raises:
        SlrPoseError: the backend cannot be built or the store cannot be written.
    """
    if workers < 1:
        raise SlrPoseError(f"workers {workers} is not a positive number")
    if not Path(store).parent.is_dir():
        raise SlrPoseError(f"output folder {Path(store).parent} does not exist")
    from tqdm import tqdm

    layout = options.layout
    provenance = options.provenance()
    summary = RunSummary(layout.groups, tuple(g for g in layout.groups if g in options.backend.groups))
    with contextlib.ExitStack() as stack:
        # a bad model fails here, before the store is touched
        backend = stack.enter_context(options.backend.create()) if workers == 1 else None
        writer = stack.enter_context(StoreWriter(store, layout, provenance))
        report = stack.enter_context(FailureReport(failure_report_path(store)))
        summary.report = report.path

        def fail(problem: InputProblem) -> None:
            summary.failures.append(problem)
            report.add(problem)

        for p in problems:
            fail(p)
        todo = []
        for item in items:
            reason = _stored_reason(writer, item)
            if reason is None:
                todo.append(item)
            elif reason == "":
                summary.skipped += 1
            else:
                fail(InputProblem(item.id, str(item.path), reason))
        commits = CommitSchedule(writer, commit_min_frames)
        disable = None if progress is None else not progress  # None: tqdm shows it on a terminal only
        bar = stack.enter_context(tqdm(unit="frame", disable=disable, dynamic_ncols=True, smoothing=0.1))
        if not bar.disable:
            _count_frames_in_background(todo, options, bar)
        results = serial(backend, todo, options, bar.update) if backend else parallel(todo, options, workers, bar.update)
        for item, result, seconds in results:
            summary.inference_seconds += seconds
            if isinstance(result, str):
                fail(InputProblem(item.id, str(item.path), result))
                continue
            commits.add(result)
            summary.add(result)
        if not bar.disable:
            with bar.get_lock():
                bar.total = bar.n  # the headers' frame counts are estimates: end at 100%
            bar.refresh()
    return summary


def _stored_reason(writer: StoreWriter, item: VideoInput) -> str | None:
    """None: extract it; "": stored from the same file; else why it fails."""
    known = writer.sha256_of(item.id)
    if known is None:
        return None
    try:
        sha = content_sha256(item.path)
    except OSError as e:
        return f"cannot read {item.path} ({e.strerror})"
    if sha == known:
        return ""
    return f"id {item.id!r} is already stored from a different file (sha256 {known[:12]}..., this file {sha[:12]}...)"


def _count_frames_in_background(todo: list[VideoInput], options: ExtractOptions, bar) -> None:
    """Give the progress bar its total (for the ETA) once every header has been read.

    Opening every video takes a few ms each: for a large dataset, minutes the
    extraction need not wait for, so a thread does it while frames flow.
    """

    def count() -> None:
        total = sum(_expected_frames(i, options) for i in todo)
        with bar.get_lock():
            if bar.total is not None:
                return  # the run has ended and set the true count
            bar.total = total
        bar.refresh()

    threading.Thread(target=count, name="frame-count", daemon=True).start()


def _expected_frames(item: VideoInput, options: ExtractOptions) -> int:
    try:
        frames = VideoFrames(item.path, fps=options.fps, max_side=options.max_side, source_fps=item.fps or None)
    except SlrPoseError:
        return 0
    n = frames.expected_frames()
    frames.close()
    return n
