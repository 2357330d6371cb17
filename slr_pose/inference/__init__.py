"""Using a trained run: loading it, and predicting on a video or a stored sample."""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "LoadedRun": "runs",
    "load_run": "runs",
    "predict": "prediction",
    "Prediction": "prediction",
})
