"""The pose store: landmarks of many samples in one versioned, checksummed HDF5 file.

- :mod:`.schema`: the file layout (version 2), its constants and the parsing
  every reader and writer shares;
- :mod:`.sample`: :class:`SampleInfo` (one column each) and :class:`Sample` (arrays);
- :mod:`.reader`: :class:`PoseStore`, checked when it opens;
- :mod:`.journal`, :mod:`.writer`: :class:`StoreWriter`, which never modifies a
  store in place (a journal of finished samples, then a copy that replaces it);
- :mod:`.verify`: a full check and salvage; :mod:`.merge`: shards into one;
  :mod:`.derive`: stores made from other stores.

    store = PoseStore("poses.h5")
    sample = store.read(store.index_of("doctor_001"))   # sample.xyz: (T, V, 3)
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "COLUMNS": "sample", "Sample": "sample", "SampleInfo": "sample", "landmarks_sha256": "sample",
    "SCHEMA_VERSION": "schema", "FORMAT": "schema", "StoreHeader": "schema", "error_reason": "schema",
    "PoseStore": "reader", "read_header": "reader",
    "StoreWriter": "writer", "CommitSchedule": "writer", "describe_extractor": "writer",
    "VerifyReport": "verify", "verify_store": "verify", "salvage": "verify",
    "MergeSummary": "merge", "merge_stores": "merge",
})  # fmt: skip
