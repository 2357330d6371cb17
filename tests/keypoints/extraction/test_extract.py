"""Extraction into the pose store on the real clips: what MediaPipe finds, metadata,
resuming, a SIGKILL mid-run, workers, bad inputs, and input collection."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.backends import create_spec
from slr_pose.keypoints.backends.holistic import HolisticSpec
from slr_pose.keypoints.extraction import ExtractOptions, failure_report_path, map_sign_frames, run_extraction
from slr_pose.keypoints.inputs import collect_inputs, content_sha256, file_sha256, in_shard, parse_shard
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.video import VideoError, VideoFrames
from tests.conftest import ASL_VIDEO, MSL_VIDEOS, REPO, needs_holistic

# 15 fps (every other frame) and 320 px keep the tests cheap; detection rates
# at these settings match those of every frame at full size (checked by hand).
pytestmark = needs_holistic  # its runs extract with legacy Holistic (the Python 3.13 leg has the Tasks API only)
OPTIONS = ExtractOptions(HolisticSpec(), face="contour", fps=15, max_side=320)
MSL_DIR = MSL_VIDEOS[0].parent
#: frames kept at 15 fps from each clip (66, 62, 61, 64, 55 and 58 decoded)
KEPT_FRAMES = {"ambulancia_001": 33, "doctor_001": 31, "dolor_001": 31, "hoy_001": 32, "yo_001": 28, "asl": 29}


def write_manifest(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """All six real clips at 15 fps, 320 px: the MSL folder plus a manifest for the ASL clip."""
    tmp = tmp_path_factory.mktemp("extracted")
    shutil.copy(ASL_VIDEO, tmp / "asl_clip.mp4")
    manifest = write_manifest(tmp / "asl.csv", [{
        "path": "asl_clip.mp4", "id": "asl", "label": "demo", "signer": "s1", "language": "asl", "split": "test",
        "start": "10", "end": "40", "glosses": "HELLO WORLD", "transcript": "hello world", "camera": "front",
    }])
    items, problems = collect_inputs([MSL_DIR, manifest], defaults={"language": "lsm"})
    assert problems == []
    store = tmp / "poses.h5"
    summary = run_extraction(items, store, OPTIONS, progress=False)
    return store, summary, items


def test_summary_of_a_clean_run(extracted):
    store, summary, _ = extracted
    assert (summary.done, summary.skipped, summary.failures) == (6, 0, [])
    assert summary.frames == sum(KEPT_FRAMES.values())
    assert summary.detected["pose"] == summary.frames
    assert not failure_report_path(store).exists()
    assert not store.with_name("poses.h5.journal").exists()  # committed and tidied at the end


def test_store_round_trip(extracted):
    store_path, _, items = extracted
    store = PoseStore(store_path)
    layout = holistic_layout("contour")
    assert store.layout == layout and sorted(store.ids) == sorted(KEPT_FRAMES)
    paths = {i.id: i.path for i in items}
    for sid, n in KEPT_FRAMES.items():
        s = store.read(store.index_of(sid))
        assert s.xyz.shape == (n, layout.num_landmarks, 3) and s.info.length == n
        assert s.info.sha256 == file_sha256(paths[sid]) and s.info.source == str(paths[sid])
        frames = VideoFrames(paths[sid], fps=15)
        times = np.array([f.time for f in frames], np.float32)
        np.testing.assert_allclose(s.time, times, atol=1e-6)
        assert (s.info.width, s.info.height) == ((540, 720) if sid == "asl" else (1280, 720))
        assert s.info.fps == 15.0 and frames.source_fps == pytest.approx(29.95, abs=0.04)
        # NaN exactly where a group is missing; confidences follow
        gi = layout.group_index
        lost = s.missing[:, gi]
        assert np.isnan(s.xyz[lost]).all() and np.isfinite(s.xyz[~lost]).all()
        assert (s.confidence[lost] == 0).all()
        pose = layout.group_slices["pose"]
        vis = s.confidence[:, pose][~s.missing[:, 0]]
        assert (vis >= 0).all() and (vis <= 1).all() and 0 < vis.mean() < 1  # visibility, not a constant
        for hand in ("left_hand", "right_hand", "face"):
            found = ~s.missing[:, layout.groups.index(hand)]
            assert (s.confidence[found][:, layout.group_slices[hand]] == 1).all()
        xy = s.xyz[..., :2][~lost]
        assert np.nanmedian(xy) > 0.1 and np.nanmedian(xy) < 0.9  # image-normalised, not pixels


def test_what_mediapipe_finds_in_the_real_clips(extracted):
    store = PoseStore(extracted[0])
    g = {name: j for j, name in enumerate(store.layout.groups)}
    for sid in KEPT_FRAMES:
        found = ~store.read(store.index_of(sid)).missing
        rate = {name: found[:, j].mean() for name, j in g.items()}
        assert rate["pose"] == 1.0, sid
        if sid == "asl":
            assert rate["face"] == 1.0 and rate["right_hand"] >= 0.3 and rate["left_hand"] == 0.0
        else:
            assert rate["right_hand"] >= 0.85, sid  # the dominant hand signs in every MSL clip
            assert rate["face"] <= 0.05, sid  # pixelated faces: recorded as missing, not hidden
    for sid in ("ambulancia_001", "doctor_001"):  # the two-handed signs
        assert (~store.read(store.index_of(sid)).missing[:, g["left_hand"]]).mean() >= 0.95


def test_metadata_from_manifest_and_options(extracted):
    store = PoseStore(extracted[0])
    asl = store.info(store.index_of("asl"))
    assert (asl.label, asl.signer, asl.language, asl.split) == ("demo", "s1", "asl", "test")
    assert asl.gloss_list == ["HELLO", "WORLD"] and asl.transcript == "hello world"
    assert (asl.sign_start, asl.sign_end) == (5, 20)  # source frames 10 and 40: every other frame kept
    assert '"camera": "front"' in asl.meta and '"source_frames": 58' in asl.meta
    doctor = store.info(store.index_of("doctor_001"))
    assert doctor.language == "lsm" and doctor.label == "" and doctor.sign_start == -1


def test_provenance_records_the_settings(extracted):
    ex = PoseStore(extracted[0]).provenance["extractor"]
    assert ex["backend"] == "holistic" and ex["version"] == "mediapipe 0.10.21"
    s = ex["settings"]
    assert (s["model_complexity"], s["face"], s["max_side"], s["fps"]) == (1, "contour", 320, 15)
    assert "workers" not in s and "shard" not in s


def test_rerun_skips_what_is_stored(extracted, tmp_path):
    store_path, _, items = extracted
    copy = tmp_path / "poses.h5"
    shutil.copy(store_path, copy)
    before = copy.read_bytes()
    summary = run_extraction(items, copy, OPTIONS, progress=False)
    assert (summary.done, summary.skipped, summary.failures, summary.frames) == (0, 6, [], 0)
    assert copy.read_bytes() == before  # nothing to commit: the file is not even rewritten


def test_same_id_from_other_content_is_a_failure_not_an_overwrite(extracted, tmp_path):
    store_path = tmp_path / "poses.h5"
    shutil.copy(extracted[0], store_path)
    impostor = tmp_path / "doctor_001.mp4"
    shutil.copy(ASL_VIDEO, impostor)
    summary = run_extraction([*collect_inputs([impostor])[0]], store_path, OPTIONS, progress=False)
    assert summary.done == 0 and len(summary.failures) == 1
    assert "id 'doctor_001' is already stored from a different file" in summary.failures[0].reason
    store, ref = PoseStore(store_path), PoseStore(extracted[0])
    np.testing.assert_array_equal(store.read(store.index_of("doctor_001")).xyz, ref.read(ref.index_of("doctor_001")).xyz)


def test_other_settings_need_another_store(extracted, tmp_path):
    store_path = tmp_path / "poses.h5"
    shutil.copy(extracted[0], store_path)
    other = ExtractOptions(create_spec("holistic"), face="contour", max_side=640)
    with pytest.raises(SlrPoseError, match="was made with holistic .*max_side=320.*not holistic .*max_side=640"):
        run_extraction(collect_inputs([ASL_VIDEO])[0], store_path, other, progress=False)


def _no_person_clip(path: Path) -> Path:
    """A real clip cropped to the empty wall beside the signer."""
    import cv2

    cap = cv2.VideoCapture(str(MSL_VIDEOS[1]))
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (240, 240))
    for _ in range(15):
        ok, frame = cap.read()
        out.write(frame[:240, :240].copy())
    out.release()
    cap.release()
    return path


@pytest.mark.slow
def test_bad_inputs_are_reported_and_the_run_goes_on(tmp_path):
    asl = ASL_VIDEO.read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(asl[: len(asl) // 2])
    (tmp_path / "zero.mp4").write_bytes(asl[:1555])  # header, no frames
    (tmp_path / "text.mp4").write_text("hello\n")
    _no_person_clip(tmp_path / "wall.mp4")
    shutil.copy(ASL_VIDEO, tmp_path / "good.mp4")
    manifest = write_manifest(tmp_path / "list.csv", [
        {"path": "gone.mp4", "id": "", "start": ""},
        {"path": "good.mp4", "id": "late_sign", "start": "70"},  # beyond the clip's 58 frames
        {"path": "good.mp4", "id": "bad_start", "start": "x"},
    ])
    items, problems = collect_inputs([tmp_path / "good.mp4", tmp_path, manifest])
    options = ExtractOptions(create_spec("holistic"), max_side=160, fps=5)
    store = tmp_path / "out.h5"
    summary = run_extraction(items, store, options, problems=problems, progress=False)
    reasons = {p.id: p.reason for p in summary.failures}
    assert summary.done == 1 and PoseStore(store).ids == ["good"]
    assert re.fullmatch(f"{re.escape(str(tmp_path))}/truncated.mp4 is truncated or damaged: decoded [12][0-9] of 58 frames",
                        reasons.pop("truncated"))
    assert reasons == {
        "gone": "list.csv line 2: video " + str(tmp_path / "gone.mp4") + " does not exist",
        "bad_start": "list.csv line 4: start 'x' is not a frame number",
        "good": f"duplicate id, already given by {tmp_path / 'good.mp4'}",
        "zero": f"{tmp_path / 'zero.mp4'} has no decodable frames",
        "text": f"{tmp_path / 'text.mp4'} is not a readable video (unknown format, damaged or cut short)",
        "wall": f"{tmp_path / 'wall.mp4'}: no person found (no pose or hand in any of 3 frames)",
        "late_sign": "sign start frame 70 is beyond the video's 58 frames",
    }
    with open(failure_report_path(store), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"]: r["reason"] for r in rows if r["id"] != "truncated"} == reasons
    assert {r["id"]: r["path"] for r in rows}["wall"] == str(tmp_path / "wall.mp4")
    lines = summary.lines()
    assert lines[-3] == "extracted 1, skipped 0 (already stored), failed 8"
    assert lines[-1] == f"failures listed in {failure_report_path(store)}"


def test_sign_frames_follow_decimation():
    kept = np.arange(0, 60, 3)  # every third source frame kept
    assert map_sign_frames(kept, 10, 40, 60) == (4, 13)  # frames 12 .. 39
    assert map_sign_frames(kept, -1, -1, 60) == (-1, -1)
    assert map_sign_frames(kept, 13, 14, 60) == (4, 4)  # shorter than the spacing: nearest kept frame
    assert map_sign_frames(kept, 59, -1, 60) == (19, -1)  # after the last kept frame
    with pytest.raises(VideoError, match="sign end frame 60 is beyond the video's 60 frames"):
        map_sign_frames(kept, 5, 60, 60)


def test_decimated_extraction_maps_the_sign(tmp_path):
    manifest = write_manifest(tmp_path / "m.csv", [{"path": str(ASL_VIDEO), "id": "a", "start": "10", "end": "40"}])
    options = ExtractOptions(create_spec("holistic"), max_side=160, fps=10, face="none")
    run_extraction(collect_inputs([manifest])[0], tmp_path / "s.h5", options, progress=False)
    s = PoseStore(tmp_path / "s.h5").read(0)
    assert s.info.length == 20 and s.info.fps == 10.0 and s.xyz.shape == (20, 75, 3)
    assert (s.info.sign_start, s.info.sign_end) == (4, 13)  # source frames 12 and 39
    assert s.time[4] == pytest.approx(12 / 29.9167, abs=2e-3)


@pytest.mark.slow
def test_killed_run_keeps_finished_samples_and_resumes(extracted, tmp_path):
    """SIGKILL right after the first sample lands; the store opens with it; a rerun completes it."""
    videos = [str(p) for p in MSL_VIDEOS[:3]]
    store = tmp_path / "kill.h5"
    journal = tmp_path / "kill.h5.journal"
    cmd = [sys.executable, "-m", "slr_pose", "extract", *videos, "-o", str(store), "--fps", "15", "--max-side", "320",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(journal.glob("*.npz")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert proc.returncode == -9, "the run ended before it could be killed"
    killed = PoseStore(store)
    assert 1 <= len(killed) < 3 and killed.pending == len(killed)  # journal only: no commit happened yet
    ref = PoseStore(extracted[0])
    for i, sid in enumerate(killed.ids):
        a, b = killed.read(i), ref.read(ref.index_of(sid))
        for name in ("xyz", "confidence", "missing", "time"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    summary = run_extraction(collect_inputs(videos)[0], store, OPTIONS, progress=False)
    assert summary.skipped == len(killed.ids) and summary.done == 3 - len(killed.ids) and not summary.failures
    done = PoseStore(store)
    assert done.pending == 0 and sorted(done.ids) == sorted(p.stem for p in MSL_VIDEOS[:3])
    for sid in done.ids:
        a, b = done.read(done.index_of(sid)), ref.read(ref.index_of(sid))
        np.testing.assert_array_equal(a.xyz, b.xyz)
        assert a.info.sha256 == b.info.sha256 and a.info.length == b.info.length


CHEAP = ExtractOptions(HolisticSpec(), max_side=160, fps=5)
KILL_VIDEOS = [str(p) for p in MSL_VIDEOS[:4]]
# commit_min_frames=1: a commit whenever the journal holds as many frames as the store (after the 1st and the 2nd
# sample, then about every doubling), each one rewriting the store from the 2nd on.
_TINY_COMMITS = """
import sys
from slr_pose.keypoints.backends import create_spec
from slr_pose.keypoints.extraction import ExtractOptions, run_extraction
from slr_pose.keypoints.inputs import collect_inputs
store, workers, *videos = sys.argv[1:]
options = ExtractOptions(create_spec("holistic"), max_side=160, fps=5)
run_extraction(collect_inputs(videos)[0], store, options, workers=int(workers), progress=False, commit_min_frames=1)
"""


@pytest.fixture(scope="module")
def cheap_reference(tmp_path_factory):
    """The four kill-test clips extracted in one uninterrupted run."""
    store = tmp_path_factory.mktemp("reference") / "ref.h5"
    summary = run_extraction(collect_inputs(KILL_VIDEOS)[0], store, CHEAP, progress=False)
    assert summary.done == 4
    return PoseStore(store)


def _same_samples(store: PoseStore, ref: PoseStore) -> None:
    for i, sid in enumerate(store.ids):
        a, b = store.read(i), ref.read(ref.index_of(sid))
        for name in ("xyz", "confidence", "missing", "time"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{sid} {name}")
        assert (a.info.sha256, a.info.length) == (b.info.sha256, b.info.length)


def _kill_during_a_commit(store: Path, workers: int) -> Path | None:
    """Run the extraction in a subprocess and SIGKILL it while a commit rewrites the existing store.

    Returns the commit's temporary copy left by the kill, or None when the
    kill came too late (the commit lasts ~50 ms; a loaded machine may not
    wake this process in time) or the run ended first.
    """
    proc = subprocess.Popen([sys.executable, "-c", _TINY_COMMITS, str(store), str(workers), *KILL_VIDEOS], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    commit_tmp = store.with_name(f".{store.name}.{proc.pid}.tmp")  # written before it replaces the store
    try:
        deadline = time.monotonic() + 120
        while not (store.exists() and commit_tmp.exists()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only: it alone writes the store
        proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # worker processes left behind
    return commit_tmp if proc.returncode == -9 and commit_tmp.exists() else None


def _journaled_ids(journal: Path) -> set[str]:
    ids = set()
    for p in journal.glob("*.npz"):
        with np.load(p) as z:
            ids.add(json.loads(str(z["info"]))["id"])
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_killed_during_a_commit(cheap_reference, tmp_path, workers):
    """SIGKILL while a commit rewrites the store: it opens with every journaled sample; a rerun completes it."""
    import h5py

    store = tmp_path / "kill.h5"
    for _ in range(3):  # a kill that comes too late still keeps everything; try again on the next commit
        commit_tmp = _kill_during_a_commit(store, workers)
        if commit_tmp is not None:
            break
    assert commit_tmp is not None, "no kill landed inside a commit"
    with h5py.File(store, "r") as f:
        committed = set(f["samples/id"].asstr()[()])
    journaled = _journaled_ids(tmp_path / "kill.h5.journal")
    assert committed and journaled and not committed & journaled  # the commit in flight had not landed
    killed = PoseStore(store)
    assert set(killed.ids) == committed | journaled and killed.pending == len(journaled)
    _same_samples(killed, cheap_reference)
    summary = run_extraction(collect_inputs(KILL_VIDEOS)[0], store, CHEAP, workers=workers, progress=False)
    assert (summary.skipped, summary.done, summary.failures) == (len(killed), 4 - len(killed), [])
    done = PoseStore(store)
    assert done.pending == 0 and sorted(done.ids) == sorted(Path(v).stem for v in KILL_VIDEOS)
    assert not commit_tmp.exists() and not (tmp_path / "kill.h5.journal").exists()
    _same_samples(done, cheap_reference)


@pytest.mark.slow
def test_two_workers_store_what_one_does(tmp_path):
    items = collect_inputs([str(p) for p in MSL_VIDEOS[:3]])[0]
    options = ExtractOptions(create_spec("holistic"), max_side=160, fps=5)
    one = run_extraction(items, tmp_path / "one.h5", options, progress=False)
    two = run_extraction(items, tmp_path / "two.h5", options, workers=2, progress=False)
    assert (one.done, two.done, one.frames) == (3, 3, two.frames)
    a, b = PoseStore(tmp_path / "one.h5"), PoseStore(tmp_path / "two.h5")
    assert a.provenance["extractor"] == b.provenance["extractor"]
    for sid in a.ids:
        np.testing.assert_array_equal(a.read(a.index_of(sid)).xyz, b.read(b.index_of(sid)).xyz)


class _CrashingBackend:
    """Holistic that kills its process on 64x64 frames, standing in for a crash inside MediaPipe."""

    def __init__(self, inner):
        self.inner = inner
        self.inference_seconds = 0.0

    def start_video(self):
        self.inner.start_video()

    def process(self, image, time_s):
        if image.shape[:2] == (64, 64):
            os._exit(3)
        return self.inner.process(image, time_s)

    def close(self):
        self.inner.close()


@dataclass(frozen=True)
class CrashingSpec(HolisticSpec):
    def create(self):
        return _CrashingBackend(super().create())


@pytest.mark.slow
def test_a_worker_dying_fails_only_its_video(tmp_path):
    import cv2

    cap = cv2.VideoCapture(str(ASL_VIDEO))
    out = cv2.VideoWriter(str(tmp_path / "crash.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    for _ in range(5):
        out.write(cv2.resize(cap.read()[1], (64, 64)))
    out.release()
    items = collect_inputs([MSL_VIDEOS[0], tmp_path / "crash.mp4", MSL_VIDEOS[1]])[0]
    options = ExtractOptions(CrashingSpec(), max_side=160, fps=5)
    summary = run_extraction(items, tmp_path / "s.h5", options, workers=2, progress=False)
    assert summary.done == 2 and sorted(PoseStore(tmp_path / "s.h5").ids) == sorted(p.stem for p in MSL_VIDEOS[:2])
    assert [(p.id, p.reason) for p in summary.failures] == [
        ("crash", "the extraction process died on this video (a crash inside MediaPipe)")]


def test_frequent_commits_keep_the_store_whole(tmp_path):
    items = collect_inputs([str(p) for p in MSL_VIDEOS[:2]])[0]
    options = ExtractOptions(create_spec("holistic"), max_side=160, fps=5)
    summary = run_extraction(items, tmp_path / "s.h5", options, progress=False, commit_min_frames=1)
    store = PoseStore(tmp_path / "s.h5")
    assert summary.done == 2 and store.pending == 0 and len(store) == 2
    assert store.column("length").sum() == summary.frames


# --------------------------------------------------------------------------- inputs


def test_folder_ids_labels_and_defaults(tmp_path):
    for rel in ("hello/a.mp4", "hello/b.MOV", "thanks/x/c.mp4", "thanks/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    items, problems = collect_inputs([tmp_path], label_from_folder=True, defaults={"signer": "s3", "split": ""})
    assert problems == []
    assert [(i.id, i.label, i.signer) for i in items] == [
        ("hello/a", "hello", "s3"), ("hello/b", "hello", "s3"), ("thanks/x/c", "x", "s3"),
    ]
    items, _ = collect_inputs([tmp_path / "hello" / "a.mp4"], defaults={"label": "hi"})
    assert (items[0].id, items[0].label) == ("a", "hi")


def test_manifest_rules(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "a.mp4").write_bytes(b"")
    m = write_manifest(tmp_path / "m.csv", [
        {"path": "v/a.mp4", "id": "", "label": "", "end": "7", "notes": "ok"},
        {"path": "v/a.mp4", "id": "two", "label": "given", "end": "", "notes": ""},
        {"path": "v/a.mp4", "id": "three", "label": "", "end": "-2", "notes": ""},
    ])
    items, problems = collect_inputs([m], defaults={"label": "fallback"})
    assert [(i.id, i.label, i.end, i.meta) for i in items] == [
        ("v/a", "fallback", 7, {"notes": "ok"}), ("two", "given", -1, {}),
    ]
    assert items[0].path == tmp_path / "v" / "a.mp4"  # relative to the manifest's folder
    assert [(p.id, p.reason) for p in problems] == [("three", "m.csv line 4: end -2 is negative")]


def test_request_errors_are_one_line(tmp_path):
    (tmp_path / "bad.csv").write_text("file,label\na.mp4,x\n")
    with pytest.raises(SlrPoseError, match="^manifest .*bad.csv needs a 'path' column; its header has file, label$"):
        collect_inputs([tmp_path / "bad.csv"])
    (tmp_path / "twice.csv").write_text("path,id,id\n")
    with pytest.raises(SlrPoseError, match="names column 'id' twice"):
        collect_inputs([tmp_path / "twice.csv"])
    with pytest.raises(SlrPoseError, match="^no inputs given"):
        collect_inputs([])
    with pytest.raises(SlrPoseError, match="input .*nothing does not exist"):
        collect_inputs([tmp_path / "nothing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SlrPoseError, match="folder .*empty holds no video files"):
        collect_inputs([tmp_path / "empty"])
    with pytest.raises(SlrPoseError, match="either a label for all inputs or --label-from-folder"):
        collect_inputs([ASL_VIDEO], defaults={"label": "x"}, label_from_folder=True)
    with pytest.raises(SlrPoseError, match="output folder .*missing does not exist"):
        run_extraction([], tmp_path / "missing" / "s.h5", OPTIONS)


def test_manifest_rows_that_name_no_file_are_problems(tmp_path):
    (tmp_path / "m.csv").write_text('path,id\n/,\n.,\n"a\nb.mp4",x\n')  # was Path("/").with_suffix(""): ValueError
    items, problems = collect_inputs([tmp_path / "m.csv"])
    assert items == [] and [p.reason for p in problems] == [
        "m.csv line 2: path '/' names no file or folder",
        "m.csv line 3: path '.' names no file or folder",
        "m.csv line 4: path 'a\\nb.mp4' has a line break",
    ]
    (tmp_path / "h.csv").write_text('"vid\neo",label\n')
    with pytest.raises(SlrPoseError, match="^manifest .*h.csv needs a 'path' column; its header has vid eo, label$"):
        collect_inputs([tmp_path / "h.csv"])


def test_shards_split_ids_stably():
    assert parse_shard("1/4") == (1, 4)
    for bad in ("1", "a/b", "4/4", "-1/2", "1/0"):
        with pytest.raises(SlrPoseError, match="shard"):
            parse_shard(bad)
    ids = [f"clip{i}" for i in range(400)]
    shards = [[s for s in ids if in_shard(s, k, 4)] for k in range(4)]
    assert sorted(sum(shards, [])) == sorted(ids)  # each id in exactly one shard
    assert all(60 < len(s) < 140 for s in shards)  # and roughly even
    assert [s for s in ids[:50] if in_shard(s, 2, 4)] == [s for s in shards[2] if s in ids[:50]]


def test_manifest_row_with_a_folder_of_frames(tmp_path):
    from tests.keypoints.test_video import write_frame_folder

    write_frame_folder(tmp_path / "frames")
    manifest = write_manifest(tmp_path / "m.csv", [{"path": "frames", "id": "sentence", "fps": "25", "glosses": "A B"}])
    items, problems = collect_inputs([manifest])
    assert problems == [] and items[0].fps == 25.0 and items[0].path.is_dir()
    options = ExtractOptions(create_spec("holistic"), face="none")
    summary = run_extraction(items, tmp_path / "s.h5", options, progress=False)
    assert summary.done == 1 and summary.detected["pose"] == 12
    s = PoseStore(tmp_path / "s.h5").read(0)
    assert (s.info.length, s.info.fps, s.info.width, s.info.height) == (12, 25.0, 120, 160)
    assert s.info.sha256 == content_sha256(tmp_path / "frames") and s.info.gloss_list == ["A", "B"]
    again = run_extraction(items, tmp_path / "s.h5", options, progress=False)
    assert (again.done, again.skipped) == (0, 1)
    bad = write_manifest(tmp_path / "bad.csv", [{"path": "frames", "id": "x", "fps": "fast"}])
    assert [p.reason for p in collect_inputs([bad])[1]] == ["bad.csv line 2: fps 'fast' is not a positive number"]
