"""An exported recogniser (``slr-pose export``) run by onnxruntime: no torch anywhere.

The graph takes ``x`` ``(N, C, T, V)`` float32, ``language`` ``(N,)`` int64
and ``frame_mask`` ``(N, T)`` bool and gives ``logits`` ``(N, K_max)``: every
head padded to the largest one (padding logits are -1e4), so a language's
scores are the first ``len(card.classes[language])`` columns.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.runtime.card import ModelCard

INSTALL_HINT = 'the runtime needs onnxruntime: pip install "slr-pose[onnx]"'


def sidecar_path(graph: str | Path) -> Path:
    """Where ``slr-pose export`` writes the JSON beside a graph: ``m.onnx`` -> ``m.onnx.json``."""
    return Path(str(graph) + ".json")


def session_options(threads: int):
    """onnxruntime options for ``threads`` intra-op threads beside MediaPipe."""
    ort = _onnxruntime()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # idle worker threads spin by default; beside MediaPipe on a small CPU that spinning steals its time
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


def _onnxruntime():
    try:
        return importlib.import_module("onnxruntime")
    except ImportError:
        raise SlrPoseError(INSTALL_HINT) from None


class OnnxModel:
    """A ``.onnx`` graph and its sidecar, ready to score windows.

    Args:
        path: the ``.onnx`` file; ``path + ".json"`` is its sidecar.
        threads: onnxruntime's intra-op threads (1: one core, beside MediaPipe).
        card: the sidecar already read (an int8 graph shares its float graph's sidecar).

    Raises:
        SlrPoseError: a missing file or sidecar, a file onnxruntime cannot load,
            or a graph without the inputs ``slr-pose export`` writes.
    """

    def __init__(self, path: str | Path, *, threads: int = 1, card: ModelCard | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SlrPoseError(f"no such model file: {self.path}")
        self.card = card or ModelCard.read(sidecar_path(self.path))
        ort = _onnxruntime()
        try:
            self.session = ort.InferenceSession(str(self.path), session_options(threads), providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own kinds for a bad or foreign file
            first = " ".join(str(e).split())[:160]
            raise SlrPoseError(f"{self.path} is not a graph onnxruntime can load ({first})") from None
        names = {i.name for i in self.session.get_inputs()}
        if names != {"x", "language", "frame_mask"}:
            raise SlrPoseError(f"{self.path} takes inputs {sorted(names)}, not the x, language, frame_mask of 'slr-pose export'")
        self._outputs = ["logits"] + [o.name for o in self.session.get_outputs() if o.name == "boundary"]
        #: whether :meth:`outputs` gives sign boundaries
        self.has_boundary = len(self._outputs) == 2

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r})"

    def outputs(self, x: np.ndarray, language: np.ndarray,
                frame_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(N, K_max)`` float32 logits of ``x`` ``(N, C, T, V)``, ``language`` ``(N,)``, ``frame_mask`` ``(N, T)``,
        and the ``(N, 2)`` sign start/end in clip units when the graph has a ``boundary`` output (else None)."""
        feed = {"x": np.ascontiguousarray(x, np.float32), "language": np.asarray(language, np.int64),
                "frame_mask": np.asarray(frame_mask, bool)}
        out = self.session.run(self._outputs, feed)
        return out[0], out[1] if len(out) > 1 else None

    def logits(self, x: np.ndarray, language: np.ndarray, frame_mask: np.ndarray) -> np.ndarray:
        """The logits of :meth:`outputs`."""
        return self.outputs(x, language, frame_mask)[0]
