"""Using a trained run: loading it, predicting on a video or a stored sample, and its model for ``live``."""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "LoadedRun": "runs",
    "load_run": "runs",
    "predict": "prediction",
    "Prediction": "prediction",
    "TorchModel": "torch_model",
})
