"""Continuous-signing data: long recordings, their annotations, and sentences built from isolated signs.

- :mod:`.segments`: long recordings cut into fixed windows with the glosses and transcripts in each;
- :mod:`.phoenix`: RWTH-PHOENIX-Weather annotations as manifests or attached to a store;
- :mod:`.stitch`, :mod:`.sentences`: stitched sentences from isolated signs (a benchmark, not natural signing);
- :mod:`.gloss_spans`: per-gloss frame spans as stored (``start:end``).
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "segment_store": "segments",
    "WindowSpec": "segments",
    "read_timed_table": "segments",
    "stitch_store": "stitch",
    "StitchSpec": "stitch",
    "load_corpus": "phoenix",
    "attach_records": "phoenix",
    "write_manifest": "phoenix",
    "parse_spans": "gloss_spans",
    "format_spans": "gloss_spans",
})
