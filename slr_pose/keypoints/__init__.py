"""Stage 1: video -> MediaPipe landmarks -> the pose store.

- :mod:`.backends`: MediaPipe Holistic (legacy) and the Tasks landmarkers;
- :mod:`.video`, :mod:`.inputs`: decoding videos, collecting inputs and manifests;
- :mod:`.layout`, :mod:`.mediapipe_names`: named landmarks and connections, as data;
- :mod:`.extraction`: one video, a whole run, worker processes;
- :mod:`.store`: the versioned HDF5 store (reading, the journal, writing, verify, merge);
- :mod:`.importers`: landmarks made elsewhere (Kaggle parquet, NumPy arrays, pose-format);
- :mod:`.summary`, :mod:`.plot`: what ``slr-pose inspect`` shows.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Layout": "layout",
    "holistic_layout": "layout",
    "PoseStore": "store",
    "StoreWriter": "store",
    "Sample": "store",
    "SampleInfo": "store",
    "run_extraction": "extraction",
    "extract_video": "extraction",
    "ExtractOptions": "extraction",
    "collect_inputs": "inputs",
    "VideoFrames": "video",
})
