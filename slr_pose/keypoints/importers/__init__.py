"""Importers: landmarks made elsewhere, brought into the pose store.

Each importer reads one source format and yields store samples in the same
layout as extracted video (:func:`~slr_pose.keypoints.layout.holistic_layout`),
so a model never needs to know where its landmarks came from:

* ``kaggle``  - :mod:`.kaggle`, the Kaggle "asl-signs" parquet files with their ``train.csv``;
* ``numpy``   - :mod:`.arrays`, ``.npy`` / ``.npz`` arrays with a column-layout spec;
* ``pose``    - :mod:`.pose_format`, pose-format ``.pose`` files (MediaPipe Holistic).

What every importer guarantees (the store's contract, see :mod:`..store`):

* ``xyz`` holds image-normalised x, y (fractions of the frame width and
  height) and z as the source gives it (``0`` where a source has no z);
  NaN where a landmark is missing. ``confidence`` is pose visibility where the
  source has it, 1.0 for other present landmarks, 0 where missing.
* A group counts as missing in a frame when none of its landmarks is
  present there; a group the source lacks entirely is missing in every frame.
  Landmarks of a present group that the source lacks (pose points 25-32 in
  MSL-150) are NaN with confidence 0.
* ``time`` is ``frame / fps`` in seconds. When the frame rate is unknown it is
  NaN and ``SampleInfo.fps`` is NaN; readers then use the stored frame order
  only. An unknown frame size is stored as ``width = height = 0`` and
  :attr:`SampleInfo.aspect` reads as 1.0.
* Every sample carries ``sha256``: the SHA-256 of its source file, or for a
  file holding many samples, of that file's digest and the sample's key.
  Importing again skips ids stored with the same hash, reports ids stored with
  a different one as conflicts, and never overwrites.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Candidate": "core", "Geometry": "core", "ImportReport": "core", "READER_VERSION": "core", "assemble": "core",
    "file_inputs": "core", "import_samples": "core", "member_sha256": "core", "provenance": "core",
    "require": "core", "source_index": "core",
})  # fmt: skip
