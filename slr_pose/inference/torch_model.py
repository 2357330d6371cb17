"""A run directory's torch model behind the runtime's model interface, for ``live`` on runs not exported.

The runtime (:mod:`slr_pose.runtime`) scores windows through any object with
a ``card`` and ``logits(x, language, frame_mask)`` on NumPy arrays; this is
that object for a trained run. An exported graph
(:class:`slr_pose.runtime.onnx_model.OnnxModel`) needs no torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from slr_pose.inference.runs import load_run
from slr_pose.runtime.card import ModelCard


class TorchModel:
    """The ``best`` (or ``last``) weights of a run, in eval mode.

    Raises:
        SlrPoseError: not a run, a damaged checkpoint, or a run the runtime cannot use
            (continuous signing, RGB).
    """

    def __init__(self, run_dir: str | Path, *, which: str = "best") -> None:
        self.run = load_run(run_dir, which=which)
        self.card = ModelCard.from_mapping({**self.run.meta, "modality": self.run.modality}, str(run_dir))
        #: whether :meth:`outputs` gives sign boundaries
        self.has_boundary = getattr(self.run.model, "boundary_head", None) is not None

    def __repr__(self) -> str:
        return f"TorchModel({self.card.source!r})"

    def outputs(self, x: np.ndarray, language: np.ndarray,
                frame_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(N, K_max)`` float32 logits of ``x`` ``(N, C, T, V)``, ``language`` ``(N,)``, ``frame_mask`` ``(N, T)``,
        and the ``(N, 2)`` sign start/end in clip units when the model has a boundary head (else None)."""
        with torch.no_grad():
            out = self.run.model(torch.from_numpy(np.ascontiguousarray(x, np.float32)),
                                 torch.from_numpy(np.asarray(language, np.int64)),
                                 torch.from_numpy(np.asarray(frame_mask, bool)))
        return out.logits.numpy(), None if out.boundary is None else out.boundary.numpy()

    def logits(self, x: np.ndarray, language: np.ndarray, frame_mask: np.ndarray) -> np.ndarray:
        """The logits of :meth:`outputs`."""
        return self.outputs(x, language, frame_mask)[0]
