"""Video -> landmarks -> pose store.

- :mod:`.video`: :func:`extract_video`, one video into one sample with the
  options of :class:`ExtractOptions` (all recorded in the store's provenance),
  and :func:`read_or_extract`, the one clip ``predict`` scores;
- :mod:`.run`: :func:`run_extraction`, many inputs into one store, resumable,
  with a failure report;
- :mod:`.workers`: the same in worker processes.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "ExtractOptions": "video", "extract_video": "video", "map_sign_frames": "video",
    "read_or_extract": "video",
    "RunSummary": "run", "FailureReport": "run", "failure_report_path": "run", "run_extraction": "run",
})  # fmt: skip
