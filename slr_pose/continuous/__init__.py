"""Continuous-signing data: long recordings, their annotations, real sentences, and sentences built from isolated signs.

- :mod:`.segments`: long recordings cut into fixed windows (or kept whole) with the glosses and transcripts in each;
- :mod:`.annotations`: timed annotations from CSV tables, ELAN ``.eaf`` (:mod:`.elan`) and slan-tool exports
  (:mod:`.krsl`), their tiers chosen and merged by :mod:`.tiers`;
- :mod:`.phoenix`: RWTH-PHOENIX-Weather annotations as manifests or attached to a store;
- :mod:`.boston104`: RWTH-BOSTON-104 sentences and words (tracked hands and nose) into the store;
- :mod:`.stitch`, :mod:`.sentences`: stitched sentences from isolated signs (a benchmark, not natural signing);
- :mod:`.gloss_spans`: per-gloss frame spans as stored (``start:end``).
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "segment_store": "segments",
    "WindowSpec": "segments",
    "Timed": "segments",
    "read_timed_table": "segments",
    "read_annotations": "annotations",
    "read_eaf": "elan",
    "eaf_events": "elan",
    "read_slan": "krsl",
    "sentence_candidates": "boston104",
    "word_candidates": "boston104",
    "boston_provenance": "boston104",
    "stitch_store": "stitch",
    "StitchSpec": "stitch",
    "load_corpus": "phoenix",
    "attach_records": "phoenix",
    "write_manifest": "phoenix",
    "parse_spans": "gloss_spans",
    "format_spans": "gloss_spans",
})
