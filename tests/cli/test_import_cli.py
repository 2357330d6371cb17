"""``slr-pose import``: exact output lines, resume, conflicts and one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli
from slr_pose.keypoints.store import PoseStore

MSL_KEYPOINTS = Path(__file__).resolve().parents[2] / "data" / "msl150" / "keypoints_sample.npz"


def run(*args: str):
    return CliRunner().invoke(cli, ["import", *map(str, args)])


def lines(result) -> list[str]:
    return result.output.splitlines()


def test_numpy_import_then_resume(tmp_path):
    store = tmp_path / "msl.h5"
    r = run("numpy", MSL_KEYPOINTS, "--spec", "msl150", "--language", "mfs", "--fps", "30", "-o", store)
    assert r.exit_code == 0, r.output
    assert lines(r) == [f"added 86, skipped 0 already stored, 0 conflicts; {store} holds 86 samples"]
    s = PoseStore(store)
    info = s.info(s.index_of("doctor_2"))
    assert (info.label, info.language, info.fps) == ("doctor", "mfs", 30.0)
    assert s.provenance["extractor"] == {
        "backend": "import/numpy",
        "version": "1",
        "settings": {"face": "contour", "spec": "pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz",
                     "zero_is_missing": True, "trim": False},
    }
    r = run("numpy", MSL_KEYPOINTS, "--spec", "pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz", "--language", "mfs",
            "--fps", "30", "-o", store)  # the preset written out is the same spec
    assert r.exit_code == 0
    assert lines(r) == [f"added 0, skipped 86 already stored, 0 conflicts; {store} holds 86 samples"]


def test_numpy_conflict_is_reported_and_exits_1(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    store = tmp_path / "s.h5"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    np.save(tmp_path / "a" / "clip.npy", kp[0])
    np.save(tmp_path / "b" / "clip.npy", kp[1])  # same id, other content
    np.save(tmp_path / "b" / "more.npy", kp[2])
    assert run("numpy", tmp_path / "a" / "clip.npy", "--spec", "msl150", "-o", store).exit_code == 0
    r = run("numpy", tmp_path / "b", "--spec", "msl150", "-o", store)
    assert r.exit_code == 1
    assert lines(r) == [
        "conflict: clip is stored from different content; kept the stored sample",
        f"added 1, skipped 0 already stored, 1 conflicts; {store} holds 2 samples",
        "Error: 1 samples conflict with stored ones and were not imported",
    ]
    s = PoseStore(store)
    np.testing.assert_allclose(s.read(s.index_of("clip")).xyz[0, 0], kp[0, 0, :3], rtol=1e-6)  # not overwritten


@pytest.mark.parametrize(
    "args,message",
    [
        (["--spec", "pose:xyzv,lefthand:xyz"], "Error: spec block 'lefthand:xyz': unknown group 'lefthand'; use pose, left_hand, right_hand, face or skip:N"),
        (["--spec", "258"], "covers 258"),
        (["--spec", "msl150", "--width", "640"], "Error: give --width and --height together"),
        (["--spec", "msl150", "--fps", "-3"], "Error: --fps -3.0 is not a positive frame rate"),
        (["--spec", "msl150", "--id-format", "{name}"], "Error: --id-format '{name}': 'name'; use {stem}, {index}, {id}, {label}"),
    ],
)
def test_numpy_bad_input_is_one_line(tmp_path, args, message):
    r = run("numpy", MSL_KEYPOINTS, *args, "-o", tmp_path / "s.h5")
    assert r.exit_code == 1
    assert len(lines(r)) == 1 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s.h5").exists()


def test_numpy_store_of_another_spec_is_refused_and_kept(tmp_path):
    store = tmp_path / "s.h5"
    run("numpy", MSL_KEYPOINTS, "--spec", "msl150", "-o", store)
    before = store.read_bytes()
    r = run("numpy", MSL_KEYPOINTS, "--spec", "msl150", "--trim", "-o", store)
    assert r.exit_code == 1 and lines(r)[0].startswith(f"Error: {store} was made with import/numpy 1 (")
    assert lines(r)[0].endswith("): write to a new store")
    assert store.read_bytes() == before


@pytest.mark.realdata
def test_kaggle_import_filters_and_language(kaggle_dir, tmp_path):
    store = tmp_path / "asl.h5"
    r = run("kaggle", kaggle_dir, "--sign", "hello", "--limit", "4", "--face", "none", "-o", store)
    assert r.exit_code == 0, r.output
    assert lines(r) == [f"added 4, skipped 0 already stored, 0 conflicts; {store} holds 4 samples"]
    s = PoseStore(store)
    assert set(s.column("label").tolist()) == {"hello"} and set(s.column("language").tolist()) == {"ase"}
    assert s.layout.name == "holistic-face-none" and s.layout.groups == ("pose", "left_hand", "right_hand")
    r = run("kaggle", kaggle_dir / "train.csv", "--language", "sgn-US", "--face", "none", "-o", store)
    assert lines(r) == [f"added 38, skipped 4 already stored, 0 conflicts; {store} holds 42 samples"]
    assert PoseStore(store).column("language").tolist().count("sgn-US") == 38


@pytest.mark.realdata
def test_kaggle_missing_files(kaggle_dir, tmp_path):
    root = tmp_path / "k"
    root.mkdir()
    csv = (kaggle_dir / "train.csv").read_text().splitlines()
    shutil.copytree(kaggle_dir / "train_landmark_files", root / "train_landmark_files")
    (root / "train.csv").write_text("\n".join(csv + ["train_landmark_files/1/404.parquet,1,404,hello"]) + "\n")
    r = run("kaggle", root, "-o", tmp_path / "s.h5")
    assert r.exit_code == 1
    assert lines(r) == [f"Error: 1 of 43 files listed in {root / 'train.csv'} do not exist "
                        f"(first: {root / 'train_landmark_files/1/404.parquet'}); use --skip-missing to import the others"]
    r = run("kaggle", root, "--skip-missing", "-o", tmp_path / "s.h5")
    assert lines(r) == [f"added 42, skipped 0 already stored, 0 conflicts; {tmp_path / 's.h5'} holds 42 samples"]


def test_pose_import_of_a_pose_format_file(tmp_path):
    """A .pose written with pose-format's API from real MSL-150 landmarks."""
    holistic = pytest.importorskip("pose_format.utils.holistic", exc_type=ImportError)  # it needs mediapipe<0.10.30
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions

    kp = np.load(MSL_KEYPOINTS)["keypoints"][3]  # (30, 226)
    t = len(kp)
    data = np.zeros((t, 576, 3), np.float32)
    conf = np.zeros((t, 576), np.float32)
    pose = kp[:, :100].reshape(t, 25, 4)
    data[:, :25], conf[:, :25] = pose[..., :3] * [1280, 720, 1], pose[..., 3]
    for start, cols in ((501, slice(100, 163)), (522, slice(163, 226))):  # left hand, right hand
        hand = kp[:, cols].reshape(t, 21, 3)
        found = (hand != 0).any((1, 2))
        data[:, start:start + 21] = hand * [1280, 720, 1]
        conf[found, start:start + 21] = 1.0
    header = PoseHeader(0.2, PoseHeaderDimensions(1280, 720, 0), holistic.holistic_components())
    with open(tmp_path / "hoy.pose", "wb") as fh:
        Pose(header, NumPyPoseBody(30.0, data[:, None], conf[:, None])).write(fh)
    store = tmp_path / "p.h5"
    r = run("pose", tmp_path / "hoy.pose", "--label", "hoy", "--language", "mfs", "-o", store)
    assert r.exit_code == 0, r.output
    assert lines(r) == [f"added 1, skipped 0 already stored, 0 conflicts; {store} holds 1 sample"]
    s = PoseStore(store).read(0)
    assert (s.info.id, s.info.label, s.info.width, s.info.height, s.info.fps) == ("hoy", "hoy", 1280, 720, 30.0)
    np.testing.assert_allclose(s.xyz[:, 0], kp[:, 0:3], rtol=1e-5)  # nose back in image fractions
    assert s.missing[:, 3].all()  # no face in MSL-150
    r = run("pose", tmp_path / "hoy.pose", "--person", "1", "-o", tmp_path / "q.h5")
    assert r.exit_code == 1 and lines(r) == [f"Error: {tmp_path / 'hoy.pose'} has 1 people; there is no person 1"]
    assert not (tmp_path / "q.h5").exists()  # a failed first import leaves no empty store behind


def test_help_lists_formats():
    r = CliRunner().invoke(cli, ["import", "--help"])
    assert r.exit_code == 0
    commands = r.output.split("Commands:")[1].split()
    assert [c for c in commands if c in ("kaggle", "numpy", "pose")] == ["kaggle", "numpy", "pose"]
