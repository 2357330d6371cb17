"""The RGB stream end to end on real videos: a co-trained run with torchvision's real MViTv2, its evaluation,
prediction and export, its fusion with a pose run by sample id, fusion of score files alone, and ``ablate``.

The data: the five bundled MSL-150 clips (mfs, training only) and 18 real WLASL clips of three glosses (ase, six
per gloss, WLASL's own split: 4 train, 1 val, 1 test each) read from ``../shared/data`` (never copied into the
repository), extracted with ``slr-pose extract`` and cropped with ``slr-pose frames``. Runs are two epochs of
8 x 32 px clips: they test that every part works together on real data, not accuracy.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

pytest.importorskip("torchvision")

from slr_pose.cli.main import cli  # noqa: E402
from slr_pose.evaluation.fusion import file_stream  # noqa: E402
from slr_pose.inference.runs import load_run  # noqa: E402
from slr_pose.keypoints.store import PoseStore  # noqa: E402
from slr_pose.rgb.cache import FrameCache  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.rgb, pytest.mark.usefixtures("one_torch_thread")]

REPO = Path(__file__).resolve().parents[2]
GLOSSES = ("candy", "chair", "cousin")
SMALL = {"frames": 8, "stride": 2, "side": 32}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def study(shared_data, tmp_path_factory) -> dict:
    """A store of both languages, its frame cache, and the config every run here starts from."""
    d = tmp_path_factory.mktemp("rgb_runs")
    wlasl = shared_data / "wlasl20_rgb"
    rows = []
    with open(wlasl / "manifest.csv", newline="") as fh:
        for gloss in GLOSSES:
            fh.seek(0)
            picked = {"train": 4, "val": 1, "test": 1}
            for r in csv.DictReader(fh):
                if r["label"] == gloss and picked.get(r["split"], 0) > 0:
                    picked[r["split"]] -= 1
                    rows.append({**r, "path": str(wlasl / r["path"])})
    for v in sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4")):
        rows.append({"path": str(v), "id": v.stem, "label": v.stem.split("_")[0], "signer": "msl", "language": "mfs",
                     "split": "train"})
    manifest = d / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "id", "label", "signer", "language", "split"])
        w.writeheader()
        w.writerows({k: r[k] for k in w.fieldnames} for r in rows)
    store = d / "both.h5"
    r = subprocess.run([sys.executable, "-m", "slr_pose", "extract", str(manifest), "-o", str(store), "--fps", "12",
                        "--max-side", "256"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("frames", store, "--side", 64)
    assert r.exit_code == 0, r.output
    cfg = {"task": "islr",
           "data": {"stores": [{"path": str(store)}], "split": {"mode": "column"},
                    "preprocess": {"subset": "upper_body_hands", "length": 16, "streams": ["joint"]}, "clip": SMALL},
           "model": {"kwargs": {}}, "train": {"epochs": 2, "batch_size": 4, "lr": 0.001, "warmup_epochs": 0}}
    config = d / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    return {"dir": d, "store": store, "config": config, "rows": rows}


def test_the_frame_cache_holds_every_sample_at_the_stores_frames(study):
    store, cache = PoseStore(study["store"]), FrameCache(study["store"].with_name("both.frames.h5"))
    assert sorted(cache.ids) == sorted(store.ids) and len(store) == len(study["rows"])
    for sid in store.ids[:4]:
        assert cache.length(sid) == store.info(store.index_of(sid)).length
        assert cache.frames(sid).shape[1:] == (64, 64, 3)


@pytest.fixture(scope="module")
def rgb_run(study) -> Path:
    out = study["dir"] / "rgb"
    r = run("train", study["config"], "-o", out, "--set", "data.modality=rgb", "--no-progress")
    assert r.exit_code == 0, r.output
    return out


def test_a_co_trained_rgb_run_with_the_real_mvit(rgb_run):
    loaded = load_run(rgb_run)
    assert loaded.modality == "rgb" and loaded.config.model.name == "mvit_v2_s"
    assert type(loaded.model.encoder.backbone).__name__ == "MViT"  # torchvision's own
    assert sorted(loaded.meta["labels"]) == ["ase", "mfs"]  # two heads, one shared encoder
    assert loaded.meta["labels"]["ase"] == list(GLOSSES) and len(loaded.meta["labels"]["mfs"]) == 5
    summary = json.loads((rgb_run / "summary.json").read_text())
    assert summary["test"]["samples"] == 3 and np.isfinite(summary["test"]["top1"])
    rows = list(csv.DictReader(open(rgb_run / "metrics.csv")))
    assert len(rows) == 2 and all(np.isfinite(float(r["train_loss"])) for r in rows)


def test_evaluate_and_predict_an_rgb_run(study, rgb_run, tmp_path):
    r = run("evaluate", rgb_run, study["store"], "--split", "test", "--json", "-o", tmp_path / "ev")
    assert r.exit_code == 0, r.output
    ev = json.loads(r.output)
    summary = json.loads((rgb_run / "summary.json").read_text())
    assert ev["samples"] == 3 and ev["top1"] == pytest.approx(summary["test"]["top1"])  # the run's own split, again
    video = REPO / "data" / "msl150" / "videos" / "doctor_001.mp4"
    r = run("predict", rgb_run, video, "--language", "mfs", "--json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    probs = [t["probability"] for t in p["top"]]
    assert len(probs) == 5 and sum(probs) == pytest.approx(1.0, abs=1e-5) and probs == sorted(probs, reverse=True)
    stored = run("predict", rgb_run, study["store"], "--id", "doctor_001", "--language", "mfs", "--json")
    assert stored.exit_code == 0, stored.output
    # the same clip, cropped now from the video or read from the cache (JPEG): the same ranking
    assert json.loads(stored.output)["top"][0]["label"] == p["top"][0]["label"]


def test_rgb_and_pose_fuse_by_sample_id_and_score_files_fuse_alone(study, rgb_run, tmp_path):
    pose = study["dir"] / "pose_joint"
    r = run("train", study["config"], "-o", pose, "--no-progress")
    assert r.exit_code == 0, r.output
    scores = tmp_path / "scores"
    r = run("fuse", pose, rgb_run, "--store", study["store"], "-o", tmp_path / "f.md", "--save-scores", scores)
    assert r.exit_code == 0, r.output
    result = json.loads((tmp_path / "f.json").read_text())
    assert result["val_samples"] == 3 and result["test_samples"] == 3
    assert [row["streams"] for row in result["rows"]][:3] == ["pose_joint", "rgb", "pose_joint+rgb"]
    a, b = file_stream(scores / "pose_joint.npz"), file_stream(scores / "rgb.npz")
    assert sorted(a.ids) == sorted(b.ids) and (a.target >= 0).all()  # self-contained: each row's true class
    alone = run("fuse", "--scores", scores / "pose_joint.npz", "--scores", scores / "rgb.npz", "-o", tmp_path / "g.md")
    assert alone.exit_code == 0, alone.output
    again = json.loads((tmp_path / "g.json").read_text())
    assert [(x["streams"].replace(".npz", ""), x["test_top1"]) for x in again["rows"]] == \
        [(x["streams"], x["test_top1"]) for x in result["rows"]]


def test_ablate_trains_one_run_per_stream_fuses_them_and_resumes(study, tmp_path):
    out = tmp_path / "ablation"
    args = ("ablate", study["config"], "-o", out, "--streams", "joint,bone,rgb", "--set", "train.epochs=1")
    r = run(*args)
    assert r.exit_code == 0, r.output
    result = json.loads((out / "ablation.json").read_text())
    assert result["streams"] == ["joint", "bone", "rgb"]
    assert len(result["rows"]) == 7 + 1  # every non-empty subset, then the searched weights
    assert (out / "ablation.png").stat().st_size > 1000 and (out / "ablation.md").read_text().startswith("Validation: 3")
    assert load_run(out / "bone").config.data.preprocess.streams == ("bone",) and load_run(out / "rgb").modality == "rgb"
    # a study killed after its first run: the rerun trains only what is missing and gives the same table
    shutil.rmtree(out / "rgb")
    (out / "bone" / "scores.npz").unlink()
    before = {p: p.stat().st_mtime_ns for p in (out / "joint" / "checkpoints").iterdir()}
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "joint: training" not in r.output and "rgb: training" in r.output and "bone: training" not in r.output
    assert {p: p.stat().st_mtime_ns for p in (out / "joint" / "checkpoints").iterdir()} == before
    rerun = json.loads((out / "ablation.json").read_text())
    assert [x["streams"] for x in rerun["rows"]] == [x["streams"] for x in result["rows"]]
    other = run("ablate", study["config"], "-o", out, "--streams", "joint,rgb", "--set", "train.epochs=1")
    assert other.exit_code == 1 and "holds another ablation study (differs in streams)" in other.stderr


def test_export_of_the_rgb_run_is_tried(rgb_run, tmp_path):
    """ONNX export of MViTv2 through torch's exporter: it works, or it fails in one clear line."""
    r = run("export", rgb_run, "-o", tmp_path / "rgb.onnx")
    assert "Traceback" not in r.output
    if r.exit_code == 0:
        sidecar = json.loads((tmp_path / "rgb.onnx.json").read_text())
        assert sidecar["modality"] == "rgb" and sidecar["clip"] == SMALL
    else:
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("Error: ")


def test_rgb_input_errors_are_one_line(study, tmp_path):
    cfg = yaml.safe_load(study["config"].read_text())
    cfg["data"]["stores"] = [{"path": str(study["store"]), "frames": str(tmp_path / "none.frames.h5")}]
    cfg["data"]["modality"] = "rgb"
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    r = run("train", tmp_path / "c.yaml", "-o", tmp_path / "run")
    assert r.exit_code == 1 and r.stderr.startswith("Error: no frame cache at") and not (tmp_path / "run").exists()
    r = run("train", study["config"], "-o", tmp_path / "run2", "--set", "data.modality=rgb", "--set", "model.name=stgcn")
    assert r.exit_code == 1 and "model 'stgcn' reads pose input, but data.modality is rgb" in r.stderr
    r = run("frames", study["store"], "-o", study["store"])
    assert r.exit_code == 1 and "holds a pose store, not a frame cache" in r.stderr
