"""Stage 2a: a stored sample -> normalised, resampled, gap-filled ``(C, T, V)`` model input.

- :mod:`.pipeline`: :class:`Preprocessor`, the one call from a stored sample to model input;
- :mod:`.body_frame` (centring and scaling), :mod:`.timing` (which frames), :mod:`.mirror`,
  :mod:`.face_mirror`, :mod:`.augment` (training only): its steps;
- :mod:`.kernels` (numba) and :mod:`.twins` (their plain NumPy twins, for tests and benchmarks).
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Preprocessor": "pipeline",
    "PreprocessConfig": "pipeline",
    "Processed": "pipeline",
    "Augment": "augment",
})
