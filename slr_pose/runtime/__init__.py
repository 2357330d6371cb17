"""A torch-free runtime: exported models in onnxruntime, MediaPipe landmarks, live sign spotting.

- :mod:`.card`: :class:`ModelCard`, what a model needs besides its weights (an exported graph's sidecar);
- :mod:`.onnx_model`: :class:`OnnxModel`, an exported graph run by onnxruntime;
- :mod:`.recogniser`: :class:`Recogniser` (one clip -> class probabilities) and :func:`recognise` (a video's top-k);
- :mod:`.window`, :mod:`.spotting`: the sliding window of landmarks and the rule that spots signs in it;
- :mod:`.sources`: cameras, stream URLs and video files, offline or as if live (frames dropped when late);
- :mod:`.live`: :class:`LiveRecogniser`, frames in, signs out; :mod:`.overlay`: what ``--show`` draws.

Nothing here imports torch; a run directory's torch model fits the same
interface through :class:`slr_pose.inference.torch_model.TorchModel`.
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "ModelCard": "card",
    "OnnxModel": "onnx_model", "sidecar_path": "onnx_model",
    "Recogniser": "recogniser", "Recognition": "recogniser", "recognise": "recogniser", "softmax": "recogniser",
    "LandmarkWindow": "window",
    "SpottingRule": "spotting", "SignSpotter": "spotting", "Spotted": "spotting", "spot": "spotting",
    "open_source": "sources", "FrameSource": "sources", "StreamFrame": "sources",
    "LiveRecogniser": "live", "LiveSettings": "live", "LiveSummary": "live",
})  # fmt: skip
