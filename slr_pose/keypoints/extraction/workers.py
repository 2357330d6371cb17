"""Running extraction in this process or in worker processes (spawn), each loading the backend once.

Only the main process writes the store; workers return samples (or the reason
a video failed). A worker that dies inside MediaPipe takes the videos in
flight with it: those run again alone, so only the video that crashes on its
own is reported.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_mod
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterator

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.backends import Backend
from slr_pose.keypoints.extraction.video import ExtractOptions, extract_or_reason
from slr_pose.keypoints.inputs import VideoInput
from slr_pose.keypoints.store import Sample


def serial(backend: Backend, todo: list[VideoInput], options: ExtractOptions, advance) -> Iterator[tuple]:
    """Yield ``(item, Sample | reason, MediaPipe seconds)`` for each item, in this process."""
    for item in todo:
        before = backend.inference_seconds
        result = extract_or_reason(backend, item, options, advance)
        yield item, result, backend.inference_seconds - before


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

    result = extract_or_reason(backend, item, options, on_frame)
    if count[0]:
        q.put(count[0])
    return result, backend.inference_seconds - before


def parallel(todo: list[VideoInput], options: ExtractOptions, workers: int, advance) -> Iterator[tuple]:
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
