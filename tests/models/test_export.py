import numpy as np
import pytest
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.models import DEFAULT_MODEL, CTCRecognizer, Recognizer

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _run_onnx(path, x, lang, mask):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.numpy(), "language": lang.numpy(), "frame_mask": mask.numpy()})


@pytest.mark.slow
@pytest.mark.parametrize("name", [DEFAULT_MODEL, "stgcn_small"])
def test_one_graph_with_a_language_input_matches_torch(name, tmp_path, graph57, msl, make_encoder):
    from slr_pose.models import export_onnx

    torch.manual_seed(0)
    model = Recognizer(make_encoder(name, graph57), {"lsm": 5, "ase": 2}, boundary=True).eval()
    report = export_onnx(model, tmp_path / "model.onnx", num_frames=32)
    assert report.path.is_file() and report.max_abs_diff <= 1e-4
    assert report.inputs == ("x", "language", "frame_mask") and report.outputs == ("logits", "boundary")
    assert report.dynamic_axes["x"] == ("batch", "time")
    # real clips, another batch size and length than traced, padded, both languages
    x, _ = msl
    x = torch.cat([x[[0, 30, 60]], torch.zeros(3, 3, 6, 57)], dim=2)  # 36 frames
    lang = torch.tensor([0, 1, 1])
    mask = torch.arange(36)[None] < torch.tensor([[30], [30], [21]])
    logits, boundary = _run_onnx(report.path, x, lang, mask)
    with torch.no_grad():
        want = model(x, lang, mask)
    np.testing.assert_allclose(logits, want.logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(boundary, want.boundary.numpy(), atol=1e-4)
    assert (logits[1:, 2:] == -1e4).all() and logits[1:].argmax(1).max() < 2


def test_the_default_graph_gives_the_same_numbers_on_every_run_with_threads(tmp_path, graph57, make_encoder):
    """onnxruntime's CPU ScatterND(add) races on repeated rows; the default encoder's graph has none."""
    import onnx
    import onnxruntime as ort

    from slr_pose.models import export_onnx

    torch.manual_seed(0)
    model = Recognizer(make_encoder(DEFAULT_MODEL, graph57), {"lsm": 5}).eval()
    path = export_onnx(model, tmp_path / "model.onnx", num_frames=32).path
    assert not {n.op_type for n in onnx.load(str(path)).graph.node} & {"ScatterND", "ScatterElements"}
    options = ort.SessionOptions()
    options.intra_op_num_threads = 4
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    feed = {"x": rng.standard_normal((16, 3, 64, 57)).astype(np.float32), "language": np.zeros(16, np.int64),
            "frame_mask": np.ones((16, 64), bool)}
    first = session.run(None, feed)[0]
    for _ in range(40):
        np.testing.assert_array_equal(session.run(None, feed)[0], first)


@pytest.mark.slow
@pytest.mark.parametrize("seq", ["bilstm", "transformer"])
def test_ctc_model_exports(seq, tmp_path, graph57, msl, make_encoder):
    from slr_pose.models import export_onnx

    torch.manual_seed(0)
    enc = make_encoder("pose_transformer_small", graph57, depth=1)
    model = CTCRecognizer(enc, {"lsm": 5, "ase": 3}, sequence_model=seq, hidden=32, layers=2, downsample=2).eval()
    report = export_onnx(model, tmp_path / "ctc.onnx", num_frames=40)
    assert report.outputs == ("log_probs", "out_lengths") and report.max_abs_diff <= 1e-4
    # the BiLSTM graph keeps the traced length (torch's LSTM export); the transformer's time is dynamic
    frames = 40 if seq == "bilstm" else 47
    assert ("time" in report.dynamic_axes["x"]) == (seq == "transformer")
    x = msl[0][:2, :, :, :].repeat(1, 1, 2, 1)[:, :, :frames]
    lang = torch.tensor([1, 0])
    mask = torch.arange(frames)[None] < torch.tensor([[frames], [33]])
    log_probs, lengths = _run_onnx(report.path, x, lang, mask)
    with torch.no_grad():
        want = model(x, lang, mask)
    assert lengths.tolist() == want.out_lengths.tolist() == [(frames + 1) // 2, 17]
    np.testing.assert_allclose(log_probs, want.log_probs.numpy(), atol=1e-4)


def test_missing_onnx_packages_give_an_install_hint(monkeypatch, tmp_path, graph57, make_encoder):
    import importlib

    from slr_pose.models import export as export_module

    real = importlib.import_module

    def no_onnxscript(name, *args):
        if name == "onnxscript":
            raise ImportError("No module named 'onnxscript'")
        return real(name, *args)

    monkeypatch.setattr(export_module.importlib, "import_module", no_onnxscript)
    model = Recognizer(make_encoder("pose_transformer_small", graph57), {"lsm": 5})
    with pytest.raises(SlrPoseError, match=r'pip install "slr-pose\[onnx\]"'):
        export_module.export_onnx(model, tmp_path / "m.onnx")
    with pytest.raises(SlrPoseError, match="Recognizer or CTCRecognizer"):
        export_module.export_onnx(model.encoder, tmp_path / "m.onnx")
