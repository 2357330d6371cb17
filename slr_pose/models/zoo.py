"""Every encoder family, registered: :func:`create_model` and :func:`list_models` as users call them.

The registry itself (:mod:`.registry`) imports no model; each family module
registers its variants when imported, and this module imports them all, so
the registry never depends on the models and the models only on the registry.
"""

from slr_pose.models import conv_transformer, ctrgcn, pose_transformer, pyg_gcn, stgcn, video_encoders  # noqa: F401
from slr_pose.models.registry import DEFAULT_MODEL, DEFAULT_MODELS, create_model, list_models, model_modality

__all__ = ["DEFAULT_MODEL", "DEFAULT_MODELS", "create_model", "list_models", "model_modality"]
