"""Training on real keypoints: learning, resume after SIGKILL, DDP, boundaries, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.training.config import load_config
from slr_pose.training.data import relative_boundary
from slr_pose.evaluation.islr import evaluate_run
from slr_pose.training.trainer import train
from tests.conftest import MSL_KEYPOINTS

FAST = {
    "preprocess": {"subset": "upper_body_hands", "length": 24, "streams": ["joint", "bone"]},
    "split": {"mode": "random", "val_fraction": 0.2, "test_fraction": 0.2, "seed": 0},
}


def write_config(tmp_path: Path, stores: list[dict], name: str = "c.yaml", **sections) -> Path:
    cfg = {
        "task": "islr",
        "data": {"stores": stores, **FAST, **sections.pop("data", {})},
        "train": {"epochs": 5, "batch_size": 16, "lr": 0.003, "warmup_epochs": 1, **sections.pop("train", {})},
        **sections,
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def quiet(*a, **k):
    pass


@pytest.mark.slow
def test_short_run_on_real_msl_beats_chance(msl_store, tmp_path):
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}], train={"epochs": 12}))
    result = train(cfg, tmp_path / "run", progress=False, log=quiet)
    # 5 signs: chance is 20%; 17 held-out real sequences
    assert result.test["top1"] >= 0.7, result.test
    assert result.test["languages"]["mfs"]["chance"] == pytest.approx(0.2)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.7 * losses[0]
    run = tmp_path / "run"
    for f in ("config.yaml", "labels.json", "metrics.csv", "curves.png", "summary.json", "checkpoints/best.pt", "checkpoints/last.pt"):
        assert (run / f).exists(), f
    assert json.loads((run / "labels.json").read_text()) == {"mfs": ["ambulancia", "doctor", "dolor", "hoy", "yo"]}
    # evaluating the saved run reproduces the test accuracy the run reported
    ev = evaluate_run(run, msl_store, split="all")
    assert ev["samples"] == 86 and ev["top1"] >= 0.7
    assert (run / "eval" / "msl" / "confusion_mfs.csv").read_text().startswith("true \\ predicted,ambulancia,doctor")


def _final_state(run: Path) -> tuple[list, dict]:
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    weights = {**state["model"], **{f"ema.{k}": v for k, v in state.get("ema", {}).items()}}
    return [(r["epoch"], r["train_loss"], r.get("val_top1")) for r in state["history"]], weights


@pytest.mark.slow
@pytest.mark.parametrize("regularised", [False, True], ids=["default", "ema-balanced-late-dropout-awp"])
def test_resume_after_sigkill_equals_uninterrupted(msl_store, tmp_path, one_torch_thread, regularised):
    # one thread in both processes: with two, the order of float sums can change with the machine's load
    extra = {"ema": 0.9, "sampler": "balanced", "late_dropout": 0.3, "awp": 0.05, "late_start": 0.34} if regularised else {}
    path = write_config(tmp_path, [{"path": str(msl_store)}], train={"epochs": 3, **extra}, augment={"rotation": 20})
    cfg = load_config(path)
    train(cfg, tmp_path / "whole", progress=False, log=quiet)

    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "slr_pose", "train", str(path), "-o", str(run), "--no-progress", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    metrics = run / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 2:  # header + epoch 1
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = [int(line.split(",")[0]) for line in metrics.read_text().splitlines()[1:]]
    assert done and max(done) < 3
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"resuming {run} after epoch {max(done)}" in out.stdout
    history_a, weights_a = _final_state(tmp_path / "whole")
    history_b, weights_b = _final_state(run)
    assert history_a == history_b
    assert any(k.startswith("ema.") for k in weights_a) == regularised
    for k in weights_a:
        torch.testing.assert_close(weights_a[k], weights_b[k], rtol=0, atol=0)


@pytest.mark.slow
def test_two_process_ddp_on_cpu(msl_store, tmp_path):
    path = write_config(tmp_path, [{"path": str(msl_store)}], train={"epochs": 2})
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29531",
           "-m", "slr_pose", "train", str(path), "-o", str(tmp_path / "ddp"), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["test"]["samples"] == 17
    lines = (tmp_path / "ddp" / "metrics.csv").read_text().splitlines()
    assert len(lines) == 3  # written once (by rank 0), one row per epoch
    assert out.stdout.count("best epoch") == 1


def test_relative_boundary_maps_through_resampling():
    source = np.array([10, 12, 14, 16, 18, 20, -1, -1], dtype=np.float32)
    mask = source >= 0
    start, end = relative_boundary(source, mask, 12, 18)
    assert start == pytest.approx(0.2) and end == pytest.approx(0.8)
    # a boundary cut away by cropping is clamped to the clip
    assert relative_boundary(source, mask, 2, 30).tolist() == [0.0, 1.0]


@pytest.mark.slow
def test_boundary_head_trains_on_samples_with_sign_spans(msl_store, tmp_path):
    # real landmarks; the sign spans are those of the trimmed clips (the whole clip minus one frame each side)
    src = PoseStore(msl_store)
    path = tmp_path / "bounded.h5"
    from dataclasses import replace

    with StoreWriter(path, src.layout, src.provenance) as w:
        for i in range(len(src)):
            s = src.read(i)
            w.add(replace(s, info=replace(s.info, sign_start=1, sign_end=max(2, s.info.length - 2))))
    cfg = load_config(write_config(tmp_path, [{"path": str(path)}], model={"boundary": True}, train={"epochs": 3}))
    result = train(cfg, tmp_path / "run", progress=False, log=quiet)
    first, last = result.history[0], result.history[-1]
    assert "train_boundary_loss" in first and np.isfinite(last["train_boundary_loss"])
    assert last["train_boundary_loss"] < first["train_boundary_loss"]


def test_bad_inputs_are_clear(msl_store, tmp_path):
    # the stored split column is empty: 'column' mode cannot split
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}], data={"split": {"mode": "column"}}))
    with pytest.raises(SlrPoseError, match="found ''"):
        train(cfg, tmp_path / "r1", progress=False, log=quiet)
    cfg = load_config(write_config(tmp_path, [{"path": str(tmp_path / "absent.h5")}]))
    with pytest.raises(SlrPoseError, match="no pose store at"):
        train(cfg, tmp_path / "r2", progress=False, log=quiet)
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}], data={"split": {"mode": "signer"}}))
    with pytest.raises(SlrPoseError, match="needs a signer for every sample"):
        train(cfg, tmp_path / "r3", progress=False, log=quiet)
    # a store extracted without the face cannot feed a face subset
    from slr_pose.keypoints.importers import import_samples, provenance
    from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
    from slr_pose.keypoints.layout import holistic_layout

    no_face = tmp_path / "noface.h5"
    spec, layout = ColumnSpec.parse("msl150"), holistic_layout("none")
    import_samples(no_face, layout, provenance("numpy", {}), array_candidates([MSL_KEYPOINTS], spec, layout, language="mfs"))
    cfg = load_config(write_config(tmp_path, [{"path": str(no_face)}], data={"preprocess": {"subset": "upper_body_hands_face"}}))
    with pytest.raises(SlrPoseError, match="subset 'upper_body_hands_face' needs landmarks the data lacks"):
        train(cfg, tmp_path / "r4", progress=False, log=quiet)
    # a face subset on a store whose faces were never detected trains, but says so
    lines = []
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}], data={"preprocess": {"subset": "upper_body_hands_face"}},
                                   train={"epochs": 1}))
    train(cfg, tmp_path / "r5", progress=False, log=lines.append)
    assert any("face landmarks are missing in every frame" in line for line in lines), lines


#: The metadata of a checkpoint, as a run writes it, small enough to edit in a test.
META = {"task": "islr", "config": {}, "preprocess": {"subset": "hands", "length": 8, "streams": ["joint"]},
        "landmarks": ["left_hand/WRIST"], "labels": {"mfs": ["a", "b"]}}


@pytest.mark.parametrize(
    "state, message",
    [
        ([1, 2], "is not an slr-pose checkpoint"),  # was state.get: AttributeError
        ({"meta": META}, "is not an slr-pose checkpoint"),  # was state["model"]: KeyError
        ({"model": {}, "meta": {**META, "labels": None}}, r"metadata is damaged \(labels is not a mapping"),  # AttributeError
        ({"model": {}, "meta": {**META, "landmarks": 7}}, r"metadata is damaged \(landmarks is not a list"),  # TypeError
        ({"model": {}, "meta": {**META, "preprocess": {"subset": []}}}, "unknown landmark subset"),  # TypeError: unhashable
    ],
)
def test_damaged_checkpoints_are_one_clear_error(tmp_path, state, message):
    from slr_pose.inference.runs import load_run

    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    torch.save(state, tmp_path / "run" / "checkpoints" / "best.pt")
    with pytest.raises(SlrPoseError, match=message):
        load_run(tmp_path / "run")


def test_an_encoder_with_extra_tensors_does_not_initialise_a_model(tmp_path):
    from slr_pose.graphs.normalisation.pipeline import PreprocessConfig, Preprocessor
    from slr_pose.keypoints.layout import holistic_layout
    from slr_pose.training.config import ModelConfig
    from slr_pose.training.modeling import build_recognizer, load_encoder_init

    pre = Preprocessor(holistic_layout("contour"), PreprocessConfig(subset="hands", length=8, streams=("joint",)))
    model = build_recognizer(ModelConfig(name="ctrgcn_tiny"), {"mfs": 2}, pre)
    weights = {f"encoder.{k}": v for k, v in model.encoder.state_dict().items()} | {"encoder.extra": torch.zeros(1)}
    torch.save({"model": weights}, tmp_path / "other.pt")
    with pytest.raises(SlrPoseError, match=r"does not fit this model \(1 tensors differ, e.g. extra\)"):  # was RuntimeError
        load_encoder_init(model, tmp_path / "other.pt")
