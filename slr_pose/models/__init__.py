"""Pose encoders, language-gated heads, losses, CTC recognition and ONNX export.

Stage of the pipeline: normalised graph tensors ``x (N, C, T, V)`` with a
``frame_mask (N, T)`` -> logits per sign language (isolated signs) or
per-step gloss log-probabilities (continuous signing).

    from slr_pose.models import create_model, Recognizer
    encoder = create_model(DEFAULT_MODEL, in_channels=3, num_nodes=57,
                           adjacency=skeleton.adjacency("spatial"))
    model = Recognizer(encoder, {"rsl": 1000, "lsm": 150}, boundary=True)
"""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "CTCOutput": "ctc", "CTCRecognizer": "ctc",
    "PoseEncoder": "encoder",
    "MASKED_LOGIT": "heads", "BoundaryHead": "heads", "LanguageGatedHead": "heads", "MaskedPool": "heads",
    "boundary_loss": "losses", "ctc_loss": "losses", "gated_cross_entropy": "losses",
    "gated_soft_cross_entropy": "losses", "recognition_loss": "losses",
    "MixPlan": "mixing", "mix_plan": "mixing", "mix_within_language": "mixing",
    "Recognizer": "recognizer", "RecognizerOutput": "recognizer", "load_encoder_state": "recognizer",
    "DEFAULT_MODEL": "zoo", "DEFAULT_MODELS": "zoo", "create_model": "zoo", "list_models": "zoo", "model_modality": "zoo",
    "register_model": "registry",
    "export_onnx": "export",  # pulls in onnx/onnxruntime only when asked for
})  # fmt: skip
