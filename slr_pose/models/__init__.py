"""Pose encoders, language-gated heads, losses, CTC recognition and ONNX export.

Stage of the pipeline: normalised graph tensors ``x (N, C, T, V)`` with a
``frame_mask (N, T)`` -> logits per sign language (isolated signs) or
per-step gloss log-probabilities (continuous signing).

    from slr_pose.models import create_model, Recognizer
    encoder = create_model(DEFAULT_MODEL, in_channels=3, num_nodes=57,
                           adjacency=skeleton.adjacency("spatial"))
    model = Recognizer(encoder, {"rsl": 1000, "lsm": 150}, boundary=True)
"""

from slr_pose.models.ctc import CTCOutput, CTCRecognizer
from slr_pose.models.encoder import PoseEncoder
from slr_pose.models.heads import MASKED_LOGIT, BoundaryHead, LanguageGatedHead, MaskedPool
from slr_pose.models.losses import (
    boundary_loss,
    ctc_loss,
    gated_cross_entropy,
    gated_soft_cross_entropy,
    recognition_loss,
)
from slr_pose.models.mixing import MixPlan, mix_plan, mix_within_language
from slr_pose.models.recognizer import Recognizer, RecognizerOutput, load_encoder_state
from slr_pose.models.registry import DEFAULT_MODEL, create_model, list_models, register_model

__all__ = [
    "BoundaryHead",
    "CTCOutput",
    "CTCRecognizer",
    "DEFAULT_MODEL",
    "LanguageGatedHead",
    "MASKED_LOGIT",
    "MaskedPool",
    "MixPlan",
    "PoseEncoder",
    "Recognizer",
    "RecognizerOutput",
    "boundary_loss",
    "create_model",
    "ctc_loss",
    "export_onnx",
    "gated_cross_entropy",
    "gated_soft_cross_entropy",
    "list_models",
    "load_encoder_state",
    "mix_plan",
    "mix_within_language",
    "recognition_loss",
    "register_model",
]


def __getattr__(name: str):
    # export pulls in onnx/onnxruntime only when asked for
    if name == "export_onnx":
        from slr_pose.models.export import export_onnx

        return export_onnx
    raise AttributeError(f"module 'slr_pose.models' has no attribute {name!r}")
