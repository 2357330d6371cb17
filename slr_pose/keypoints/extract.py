"""Video -> landmarks -> pose store: one video at a time, or many in worker processes.

:func:`extract_video` turns one video into a :class:`~slr_pose.keypoints.store.Sample`;
:func:`run_extraction` does a whole list of inputs into a store without ever
losing work:

* a sample already stored from the same file (same id and sha256) is skipped,
  an id stored from a different file is a failure, never an overwrite;
* every finished sample is durable at once (the store's journal), so a run
  killed at any moment keeps all of them and the next run goes on from there;
* the journal is folded into the ``.h5`` when it holds as many frames as the
  store already does (at least :data:`COMMIT_MIN_FRAMES`) and at the end: a
  commit copies the store, so doubling keeps the total copying under twice
  the final size however many samples there are;
* a video that cannot be used is one line in the summary and in
  ``STORE.h5.failures.csv`` (id, path, reason); the run goes on.

Workers are processes (spawn), each loading the backend once; only the main
process writes the store.
"""

from __future__ import annotations

import contextlib
import csv
import multiprocessing
import os
import queue as queue_mod
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.backends import Backend, BackendSpec, FrameLandmarks, mediapipe_version
from slr_pose.keypoints.inputs import InputProblem, VideoInput, content_sha256, meta_json
from slr_pose.keypoints.layout import Layout, face_mesh_indices, holistic_layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter
from slr_pose.keypoints.video import VideoError, VideoFrames

#: Fold the journal into the store once it holds this many frames (or as many
#: as the store, whichever is more): ~65 MB of journal at the contour layout.
COMMIT_MIN_FRAMES = 20_000
#: Decode the next frames in a thread while MediaPipe works on this one
#: (see benchmarks/extraction.py for what it saves).
PREFETCH = True
#: Groups whose presence in some frame means "a person is in the video".
BODY_GROUPS = ("pose", "left_hand", "right_hand")


@dataclass(frozen=True)
class ExtractOptions:
    """How landmarks are made; everything here is recorded in the store's provenance.

    Args:
        backend: a backend spec (:func:`slr_pose.keypoints.backends.create_spec`).
        face: face detail stored, ``none``, ``contour`` or ``full``.
        fps: decimate to about this many frames per second (None: every frame).
        max_side: downscale frames so the longer side is at most this (None: as decoded).
    """

    backend: BackendSpec
    face: str = "contour"
    fps: float | None = None
    max_side: int | None = None

    @property
    def layout(self) -> Layout:
        return holistic_layout(self.face)

    def provenance(self) -> dict[str, Any]:
        """The store's provenance block (validates the backend's models)."""
        settings = {**self.backend.settings(), "face": self.face, "fps": self.fps, "max_side": self.max_side}
        return {"extractor": {"backend": self.backend.name, "version": mediapipe_version(), "settings": settings}}


class _Filler:
    """Writes :class:`FrameLandmarks` into layout-ordered rows."""

    def __init__(self, layout: Layout, groups: Iterable[str]) -> None:
        self.layout = layout
        self.slices = layout.group_slices
        self.extracted = set(groups)
        face = self.slices.get("face")
        self.face_idx = np.array(face_mesh_indices(_face_detail(layout)), dtype=np.int64) if face else None

    def fill(self, lm: FrameLandmarks, xyz: np.ndarray, conf: np.ndarray, missing: np.ndarray) -> None:
        """Fill one frame: ``xyz (V, 3)``, ``conf (V,)``, ``missing (G,)``, all pre-set to missing."""
        for j, group in enumerate(self.layout.groups):
            points = getattr(lm, group) if group in self.extracted else None
            if points is None:
                continue
            sl = self.slices[group]
            if group == "face":
                points = points[self.face_idx]
            xyz[sl] = points[:, :3]
            conf[sl] = np.clip(points[:, 3], 0, 1) if group == "pose" else 1.0
            missing[j] = False


def _face_detail(layout: Layout) -> str:
    n = layout.group_slices["face"].stop - layout.group_slices["face"].start
    return "full" if n == len(face_mesh_indices("full")) else "contour"


def extract_video(
    backend: Backend,
    item: VideoInput,
    options: ExtractOptions,
    *,
    on_frame: Callable[[int], None] | None = None,
) -> Sample:
    """Landmarks of every kept frame of one video.

    Args:
        backend: a loaded backend made from ``options.backend``.
        item: the video and its metadata.
        options: decimation, downscaling, face detail.
        on_frame: called with 1 after each frame (progress).

    Returns:
        A sample of ``T`` kept frames; ``info.width``/``height`` are the source
        frame size (before downscaling), ``info.fps`` the rate of the kept frames,
        ``sign_start``/``sign_end`` index kept frames.

    Raises:
        SlrPoseError: the video cannot be decoded, has no frames, is cut short,
            shows no person, or its sign frames lie outside it.
    """
    layout = options.layout
    filler = _Filler(layout, options.backend.groups)
    frames = VideoFrames(item.path, fps=options.fps, max_side=options.max_side, prefetch=PREFETCH,
                         source_fps=item.fps or None)
    sha = content_sha256(item.path)
    backend.start_video()
    v, g = layout.num_landmarks, len(layout.groups)
    rows_xyz, rows_conf, rows_missing, times, indices = [], [], [], [], []
    decoded = iter(frames)
    try:
        for frame in decoded:
            xyz = np.full((v, 3), np.nan, np.float32)
            conf = np.zeros(v, np.float32)
            missing = np.ones(g, bool)
            filler.fill(backend.process(frame.image, frame.time), xyz, conf, missing)
            rows_xyz.append(xyz)
            rows_conf.append(conf)
            rows_missing.append(missing)
            times.append(frame.time)
            indices.append(frame.index)
            if on_frame is not None:
                on_frame(1)
    finally:
        decoded.close()  # stops the decoding thread before the capture is released
        frames.close()
    missing = np.stack(rows_missing)
    _check_person(item, missing, layout, options.backend.groups)
    start, end = map_sign_frames(np.asarray(indices), item.start, item.end, frames.decoded)
    meta = {**item.meta, "source_fps": round(frames.source_fps, 6), "source_frames": frames.decoded}
    info = SampleInfo(
        id=item.id, length=len(times), fps=frames.fps, width=frames.width, height=frames.height,
        source=str(item.path), sha256=sha, label=item.label, signer=item.signer, language=item.language,
        split=item.split, sign_start=start, sign_end=end, glosses=item.glosses, gloss_spans=item.gloss_spans,
        transcript=item.transcript, meta=meta_json(meta),
    )
    return Sample(info, np.stack(rows_xyz), np.stack(rows_conf), missing, np.asarray(times, np.float32))


def _check_person(item: VideoInput, missing: np.ndarray, layout: Layout, extracted: Iterable[str]) -> None:
    looked = [g for g in layout.groups if g in set(extracted)]
    body = [g for g in looked if g in BODY_GROUPS] or looked
    if missing[:, [layout.groups.index(g) for g in body]].all():
        what = " or ".join(dict.fromkeys(g.replace("left_", "").replace("right_", "") for g in body))
        raise VideoError(f"{item.path}: no person found (no {what} in any of {len(missing)} frames)")


def map_sign_frames(kept: np.ndarray, start: int, end: int, decoded: int) -> tuple[int, int]:
    """Source frame numbers of a sign -> indices of kept frames (-1 stays -1).

    Args:
        kept: ``(T,)`` increasing source frame index of each kept frame.
        start, end: first and last source frame of the sign (inclusive), -1 if unknown.
        decoded: frames in the source video.

    The sign starts at the first kept frame at or after ``start`` and ends at
    the last kept frame at or before ``end``; a sign shorter than the kept-frame
    spacing becomes the kept frame nearest to its start.
    """
    for name, n in (("start", start), ("end", end)):
        if n >= decoded:
            raise VideoError(f"sign {name} frame {n} is beyond the video's {decoded} frames")
    s = int(np.searchsorted(kept, start, "left")) if start >= 0 else -1
    e = int(np.searchsorted(kept, end, "right")) - 1 if end >= 0 else -1
    if s >= len(kept):
        s = len(kept) - 1
    if s >= 0 and e >= 0 and e < s:
        s = e = int(np.argmin(np.abs(kept - start)))
    return s, e


# --------------------------------------------------------------------------- a run


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
        results = _serial(backend, todo, options, bar.update) if backend else _parallel(todo, options, workers, bar.update)
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


class CommitSchedule:
    """Adds samples to a writer and folds its journal in when it has doubled the store.

    A commit copies the whole store, so committing whenever the journal holds
    as many frames as the store (and at least ``min_frames``) bounds the total
    copying by about twice the final store size, while the journal keeps every
    sample durable in between.
    """

    def __init__(self, writer: StoreWriter, min_frames: int = COMMIT_MIN_FRAMES) -> None:
        self.writer = writer
        self.min_frames = min_frames
        self.stored = int(PoseStore(writer.path).column("length").sum()) if writer.path.exists() else 0
        self.journaled = 0

    def add(self, sample: Sample) -> None:
        self.writer.add(sample)
        self.journaled += len(sample.xyz)
        if self.journaled >= max(self.min_frames, self.stored):
            self.writer.commit()
            self.stored, self.journaled = self.stored + self.journaled, 0


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


def _extract_or_reason(backend: Backend, item: VideoInput, options: ExtractOptions, on_frame) -> Sample | str:
    try:
        return extract_video(backend, item, options, on_frame=on_frame)
    except SlrPoseError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - one odd video must not end a long run; the reason is reported
        return f"extraction failed ({type(e).__name__}: {e})"


def _serial(backend: Backend, todo: list[VideoInput], options: ExtractOptions, advance) -> Iterator[tuple]:
    """Yield ``(item, Sample | reason, MediaPipe seconds)`` for each item, in this process."""
    for item in todo:
        before = backend.inference_seconds
        result = _extract_or_reason(backend, item, options, advance)
        yield item, result, backend.inference_seconds - before


# --------------------------------------------------------------------------- worker processes

_WORKER: dict[str, Any] = {}
#: frames a worker counts before telling the progress bar
_PROGRESS_BATCH = 8


def _init_worker(options: ExtractOptions, progress: Any) -> None:
    _WORKER["progress"] = progress
    try:
        _WORKER["backend"] = options.backend.create()
    except SlrPoseError as e:
        _WORKER["error"] = str(e)


def _work(item: VideoInput, options: ExtractOptions) -> tuple[Sample | str, float]:
    if "error" in _WORKER:
        return _WORKER["error"], 0.0
    q = _WORKER["progress"]
    backend = _WORKER["backend"]
    before = backend.inference_seconds
    count = [0]

    def on_frame(n: int) -> None:
        count[0] += n
        if count[0] >= _PROGRESS_BATCH:
            q.put(count[0])
            count[0] = 0

    result = _extract_or_reason(backend, item, options, on_frame)
    if count[0]:
        q.put(count[0])
    return result, backend.inference_seconds - before


def _parallel(todo: list[VideoInput], options: ExtractOptions, workers: int, advance) -> Iterator[tuple]:
    """Yield ``(item, Sample | reason, MediaPipe seconds)`` as worker processes finish them.

    A worker that dies (a crash inside MediaPipe) breaks the pool and every
    video in flight with it. Those become suspects: each runs again alone in a
    fresh pool, so only the video that crashes on its own is reported.
    """
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(options, progress))

    pending = deque((item, False) for item in todo)  # (item, suspect)
    pool = new_pool()
    inflight: dict = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < 2 * workers:
                item, suspect = pending[0]
                if suspect and inflight:
                    break  # a suspect runs alone
                pending.popleft()
                inflight[pool.submit(_work, item, options)] = (item, suspect)
                if suspect:
                    break
            done, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(progress, advance)
            suspects, broken = [], False
            for fut in done:
                item, suspect = inflight.pop(fut)
                try:
                    yield (item, *fut.result())
                except BrokenProcessPool:
                    broken = True
                    if suspect:
                        yield item, "the extraction process died on this video (a crash inside MediaPipe)", 0.0
                    else:
                        suspects.append(item)
            if broken:
                suspects += [item for item, _ in inflight.values()]
                inflight.clear()
                pending.extendleft((item, True) for item in reversed(suspects))
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
        _drain(progress, advance)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(progress: Any, advance) -> None:
    while True:
        try:
            advance(progress.get_nowait())
        except queue_mod.Empty:
            return
