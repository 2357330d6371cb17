"""Export a recognizer to ONE ONNX graph that takes a language id, checked in onnxruntime.

Inputs of the graph: ``x`` ``(N, C, T, V)`` float32, ``language`` ``(N,)``
int64 and ``frame_mask`` ``(N, T)`` bool. Outputs: ``logits`` ``(N, C_max)``
(and ``boundary`` ``(N, 2)`` with a boundary head) for a
:class:`~slr_pose.models.recognizer.Recognizer`; ``log_probs`` ``(N, T'', 1 +
K_max)`` and ``out_lengths`` ``(N,)`` for a
:class:`~slr_pose.models.ctc.CTCRecognizer`. With ``dynamic=True`` (the
default) batch and time are dynamic axes, except the time of a CTC model with
a BiLSTM: torch's exporter writes the ONNX LSTM with the traced length, so
that graph takes clips of exactly ``num_frames`` frames (pad shorter ones and
mark them in ``frame_mask``).

Needs ``onnx``, ``onnxruntime`` and ``onnxscript`` (torch's exporter):
``pip install "slr-pose[onnx]"``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from slr_pose.errors import SlrPoseError
from slr_pose.models.ctc import CTCRecognizer
from slr_pose.models.recognizer import Recognizer
from slr_pose.outputs import atomic_path

INSTALL_HINT = 'ONNX export needs onnx, onnxruntime and onnxscript: pip install "slr-pose[onnx]"'


@dataclass(frozen=True)
class ExportReport:
    """What was written and how closely onnxruntime matched torch.

    Attributes:
        path: the ``.onnx`` file.
        inputs, outputs: names of the graph's inputs and outputs.
        dynamic_axes: ``{input name: names of its dynamic axes}``.
        max_abs_diff: largest |onnxruntime - torch| over the outputs on the check batch.
    """

    path: Path
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dynamic_axes: dict[str, tuple[str, ...]]
    max_abs_diff: float


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SlrPoseError(INSTALL_HINT) from None


class _Graph(nn.Module):
    """Plain-tensor outputs for the exporter."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, language: torch.Tensor, frame_mask: torch.Tensor):
        out = self.model(x, language, frame_mask)
        if isinstance(self.model, CTCRecognizer):
            return out.log_probs, out.out_lengths
        return out.logits if out.boundary is None else (out.logits, out.boundary)


def _output_names(model: nn.Module) -> tuple[str, ...]:
    if isinstance(model, CTCRecognizer):
        return ("log_probs", "out_lengths")
    if isinstance(model, Recognizer):
        return ("logits",) if model.boundary_head is None else ("logits", "boundary")
    raise SlrPoseError(f"can only export a Recognizer or CTCRecognizer, not {type(model).__name__}")


def example_inputs(model: nn.Module, batch_size: int, num_frames: int, seed: int = 0,
                   lengths: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random ``x``, cycling language ids and a frame mask (real frames first) that fit ``model``."""
    enc = model.encoder
    g = torch.Generator().manual_seed(seed)
    side = getattr(enc, "side", None)  # a video encoder reads (N, 3, T, H, W)
    tail = (side, side) if side else (enc.num_nodes,)
    x = torch.randn(batch_size, enc.in_channels, num_frames, *tail, generator=g)
    language = torch.arange(batch_size) % len(model.languages)
    if lengths is None:
        lengths = [num_frames] * batch_size
    mask = torch.arange(num_frames)[None] < torch.tensor(lengths)[:, None]
    return x, language, mask


@contextlib.contextmanager
def _quiet_exporter():
    """Keep the exporter's progress lines and optional-operator warnings off the user's console."""
    # the symbolic-shape solver logs the shapes it cannot simplify: noise for a user, not a failure
    loggers = [logging.getLogger(n) for n in ("torch.onnx._internal.exporter._registration", "torch.utils._sympy",
                                              "torch.fx.experimental.symbolic_shapes")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch-internal deprecations
            warnings.filterwarnings("ignore", message="The tensor attributes .* were assigned during export")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def export_onnx(model: nn.Module, path: str | Path, num_frames: int = 64, batch_size: int = 2,
                dynamic: bool = True, opset: int = 18, verify: bool = True, atol: float = 1e-4) -> ExportReport:
    """Write ``model`` as one ONNX graph and check it in onnxruntime against torch.

    Args:
        model: a :class:`Recognizer` or :class:`CTCRecognizer` (exported in eval mode; not modified).
        path: output ``.onnx`` file.
        num_frames: T of the example used for tracing.
        batch_size: N of that example.
        dynamic: make batch and (where the model allows) time dynamic axes.
        opset: ONNX opset.
        verify: run the graph in onnxruntime on a padded batch of another size
            (when dynamic) and compare with torch.
        atol: largest absolute difference accepted by the check.

    Raises:
        SlrPoseError: missing packages, an unsupported model, or a check that fails.
    """
    outputs = _output_names(model)
    for module in ("onnx", "onnxscript", "onnxruntime"):
        _require(module)
    path = Path(path)
    graph = _Graph(copy.deepcopy(model)).eval()
    args = example_inputs(model, batch_size, num_frames)
    dynamic_shapes, axes = None, {}
    if dynamic:
        time_dynamic = not (isinstance(model, CTCRecognizer) and model.sequence_model == "bilstm")
        batch, time = torch.export.Dim.DYNAMIC, torch.export.Dim.DYNAMIC
        dynamic_shapes = ({0: batch, 2: time}, {0: batch}, {0: batch, 1: time}) if time_dynamic else (
            {0: batch}, {0: batch}, {0: batch})
        axes = {"x": ("batch", "time"), "language": ("batch",), "frame_mask": ("batch", "time")}
        if not time_dynamic:
            axes = {"x": ("batch",), "language": ("batch",), "frame_mask": ("batch",)}
    try:
        program = _export(graph, args, outputs, dynamic_shapes, opset)
    except Exception as e:  # noqa: BLE001 - the exporter's failures are many kinds; each is one line for the user
        if not dynamic:
            raise SlrPoseError(f"torch's ONNX exporter cannot export this model ({_first_line(e)})") from None
        # some models (MViT's relative positions) export only with fixed shapes: batch and time as traced
        program, dynamic, axes = _export(graph, args, outputs, None, opset, what=e), False, {}
    diff = float("nan")
    with atomic_path(path) as tmp:  # only a graph that passed its check replaces the file
        program.save(str(tmp))
        if verify:
            check_n = batch_size + 1 if dynamic else batch_size
            check_t = num_frames + 7 if "time" in axes.get("x", ()) else num_frames
            lengths = [max(1, check_t - 5 * i) for i in range(check_n)]
            diff = compare_with_torch(graph, tmp, example_inputs(model, check_n, check_t, seed=1, lengths=lengths))
            if not diff <= atol:
                raise SlrPoseError(f"onnxruntime differs from torch by {diff:.3g} (> {atol}) for {path}")
    return ExportReport(path, ("x", "language", "frame_mask"), outputs, axes, diff)


def _export(graph: nn.Module, args, outputs, dynamic_shapes, opset: int, what: BaseException | None = None):
    """``torch.onnx.export`` (dynamo) of ``graph``; ``what``: the failure of a first, dynamic try."""
    try:
        with torch.no_grad(), _quiet_exporter():
            return torch.onnx.export(graph, args, dynamo=True, input_names=["x", "language", "frame_mask"],
                                     output_names=list(outputs), dynamic_shapes=dynamic_shapes,
                                     opset_version=opset, verbose=False)
    except Exception as e:  # noqa: BLE001
        if dynamic_shapes is not None:
            raise
        first = f"with dynamic shapes: {_first_line(what)}; " if what is not None else ""
        raise SlrPoseError(f"torch's ONNX exporter cannot export this model ({first}with fixed shapes: {_first_line(e)})") from None


def _first_line(e: BaseException | None) -> str:
    text = " ".join(str(e).split()) if e is not None else ""
    text = text.replace("\x1b[96m", "").replace("\x1b[0m", "")
    return f"{type(e).__name__}: {text[:200]}"


def compare_with_torch(graph: nn.Module, path: Path, inputs: tuple[torch.Tensor, ...]) -> float:
    """Largest absolute difference between onnxruntime on ``path`` and ``graph`` in torch."""
    ort = _require("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = dict(zip(("x", "language", "frame_mask"), (t.numpy() for t in inputs)))
    got = session.run(None, feed)
    with torch.no_grad():
        want = graph(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    return max(float(np.max(np.abs(g.astype(np.float64) - w.numpy().astype(np.float64)))) for g, w in zip(got, want))


# --------------------------------------------------------------------------- int8


#: Operators whose weights int8 quantisation stores as int8. Convolutions stay float32: onnxruntime's dynamic
#: ConvInteger was slower than the float convolution on the default encoder (1.28 vs 0.85 ms per clip, one thread).
INT8_OPS = ("MatMul", "Gemm")


@dataclass(frozen=True)
class Int8Report:
    """An int8 graph against its float32 graph on the same clips.

    Attributes:
        float_bytes, int8_bytes: file sizes.
        float_ms, int8_ms: onnxruntime latency per clip (batch 1, one thread; the fastest of several passes), ms.
        samples: clips compared.
        agreement: share of clips whose top-1 class is the same in both.
        float_top1, int8_top1: accuracy of each against the true classes.
        max_abs_diff: largest |int8 - float32| logit over the clips (padding columns excluded).
    """

    float_bytes: int
    int8_bytes: int
    float_ms: float
    int8_ms: float
    samples: int
    agreement: float
    float_top1: float
    int8_top1: float
    max_abs_diff: float

    def to_json(self) -> dict:
        return {"float32_bytes": self.float_bytes, "int8_bytes": self.int8_bytes,
                "float32_ms": round(self.float_ms, 4), "int8_ms": round(self.int8_ms, 4), "samples": self.samples,
                "top1_agreement": round(self.agreement, 4), "float32_top1": round(self.float_top1, 4),
                "int8_top1": round(self.int8_top1, 4), "max_abs_logit_diff": round(self.max_abs_diff, 5)}


def quantize_int8(src: str | Path, dst: str | Path) -> Path:
    """Write ``dst``: ``src`` with the weights of :data:`INT8_OPS` stored as int8 (onnxruntime's dynamic quantisation).

    Activations are quantised on the fly per batch, so no calibration data is needed.
    """
    quantization = _require("onnxruntime.quantization")
    dst = Path(dst)
    logger = logging.getLogger()  # the quantiser asks for its optional pre-processing on the root logger
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with atomic_path(dst) as tmp:
            quantization.quantize_dynamic(str(src), str(tmp), weight_type=quantization.QuantType.QInt8,
                                          op_types_to_quantize=list(INT8_OPS))
    except SlrPoseError:
        raise
    except Exception as e:  # noqa: BLE001 - the quantiser's failures are many kinds; each is one line for the user
        raise SlrPoseError(f"onnxruntime cannot quantise {src} ({_first_line(e)})") from None
    finally:
        logger.setLevel(level)
    return dst


def compare_int8(float_path: str | Path, int8_path: str | Path, x: np.ndarray, language: np.ndarray,
                 frame_mask: np.ndarray, target: np.ndarray, classes: np.ndarray, repeats: int = 5) -> Int8Report:
    """Score the same clips with both graphs on one thread, one clip at a time (as the runtime scores windows).

    One at a time matters: dynamic quantisation scales activations per batch, so in a batch a clip's int8
    logits depend on the clips beside it.

    Args:
        x: ``(N, C, T, V)`` float32 clips; language: ``(N,)`` int64 head ids; frame_mask: ``(N, T)`` bool.
        target: ``(N,)`` true class index within each clip's language.
        classes: ``(N,)`` number of classes of each clip's language (logits beyond it are padding).
        repeats: timing passes over the clips; the fastest counts.
    """
    ort = _require("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = 1, 1
    sessions = [ort.InferenceSession(str(p), so, providers=["CPUExecutionProvider"]) for p in (float_path, int8_path)]
    feeds = [{"x": x[i : i + 1], "language": language[i : i + 1], "frame_mask": frame_mask[i : i + 1]} for i in range(len(x))]
    logits, ms = [], []
    for session in sessions:
        out = np.concatenate([session.run(["logits"], f)[0] for f in feeds])  # also the warm-up pass
        logits.append(np.where(np.arange(out.shape[1])[None] < classes[:, None], out, -np.inf))
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            for f in feeds:
                session.run(["logits"], f)
            best = min(best, (time.perf_counter() - t0) / len(feeds))
        ms.append(1000 * best)
    top = [lg.argmax(1) for lg in logits]
    real = np.isfinite(logits[0])
    diff = float(np.max(np.abs(logits[1][real] - logits[0][real]))) if real.any() else 0.0
    return Int8Report(Path(float_path).stat().st_size, Path(int8_path).stat().st_size, ms[0], ms[1], len(x),
                      float(np.mean(top[0] == top[1])), float(np.mean(top[0] == target)),
                      float(np.mean(top[1] == target)), diff)
