"""Long recordings cut into windows: recordings made by concatenating real MSL-150 and Kaggle landmarks."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.continuous.segments import Timed, WindowSpec, read_timed_table, segment_store, window_bounds
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter

REPO = Path(__file__).resolve().parents[2]
MSL_KEYPOINTS = REPO / "data" / "msl150" / "keypoints_sample.npz"
LAYOUT = holistic_layout("contour")
FPS = 30.0
N_A = 12  # signs in lesson_a: 12 x 30 frames = 12 s


def _concat(samples: list[Sample], rid: str, t0: float) -> Sample:
    xyz = np.concatenate([s.xyz for s in samples])
    t = len(xyz)
    info = SampleInfo(id=rid, fps=FPS, width=1280, height=720, source=f"{rid}.mp4", sha256=rid * 2,
                      signer="msl-signer", language="lsm", split="train")
    return Sample(info, xyz, np.concatenate([s.confidence for s in samples]), np.concatenate([s.missing for s in samples]),
                  (t0 + np.arange(t) / FPS).astype(np.float32))


@pytest.fixture(scope="module")
def msl(tmp_path_factory) -> PoseStore:
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    spec = ColumnSpec.parse("msl150")
    cands = array_candidates([MSL_KEYPOINTS], spec, LAYOUT, geometry=Geometry(FPS, 1280, 720), language="lsm")
    import_samples(path, LAYOUT, provenance("numpy", {"spec": str(spec)}), cands)
    return PoseStore(path)


@pytest.fixture(scope="module")
def lessons(msl, tmp_path_factory) -> tuple[Path, dict[str, Sample], list[str]]:
    """Three long recordings of real landmarks: lesson_a (12 signs from 0 s), lesson_b (5 signs from 100 s), lesson_c."""
    picks = [msl.read(i) for i in range(0, 86, 4)]  # 22 real sequences of all five signs, 30 frames each
    recs = {
        "lesson_a": _concat(picks[:N_A], "lesson_a", 0.0),
        "lesson_b": _concat(picks[N_A:N_A + 5], "lesson_b", 100.0),
        "lesson_c": _concat(picks[N_A + 5:], "lesson_c", 0.0),
    }
    path = tmp_path_factory.mktemp("lessons") / "lessons.h5"
    with StoreWriter(path, LAYOUT, msl.provenance) as w:
        for s in recs.values():
            w.add(s)
    return path, recs, [p.info.label for p in picks]


def gloss_rows(labels: list[str]) -> list[Timed]:
    """Sign k of lesson_a signed during [k + 0.11, k + 0.89) s; lesson_b's from 100 s on."""
    rows = [Timed("lesson_a", k + 0.11, k + 0.89, labels[k]) for k in range(N_A)]
    rows += [Timed("lesson_b", 100 + k + 0.11, 100 + k + 0.89, labels[N_A + k]) for k in range(5)]
    return rows


def write_table(path: Path, rows: list[Timed], column: str, scale: float = 1.0) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["video", "start", "end", column])
        w.writerows([(r.video, r.start * scale, r.end * scale, r.value) for r in rows])
    return path


def cut(lessons, tmp_path, spec: WindowSpec, texts=(), name="win.h5"):
    path, _, labels = lessons
    report = segment_store(path, tmp_path / name, gloss_rows(labels), list(texts), spec)
    return PoseStore(tmp_path / name), report


# --------------------------------------------------------------------------- windows and their glosses


def test_window_bounds():
    assert window_bounds(0.0, 11.97, WindowSpec(5.0)) == [(0, 0, 5), (1, 5, 10), (2, 10, 15)]
    assert window_bounds(0.0, 11.97, WindowSpec(6.0, 2.0)) == [(0, 0, 6), (1, 4, 10), (2, 8, 14)]
    assert window_bounds(0.0, 10.0, WindowSpec(5.0)) == [(0, 0, 5), (1, 5, 10), (2, 10, 15)]  # a frame at 10 s needs a third
    assert window_bounds(100.0, 104.97, WindowSpec(6.0, 2.0)) == [(24, 96, 102), (25, 100, 106)]  # from the first frame on
    with pytest.raises(SlrPoseError, match="overlap"):
        WindowSpec(5.0, 5.0)


def test_windows_hold_the_frames_glosses_and_spans_of_their_time(lessons, tmp_path):
    _, recs, labels = lessons
    store, report = cut(lessons, tmp_path, WindowSpec(5.0))
    a = recs["lesson_a"]
    assert report.recordings == ["lesson_a", "lesson_b"] and report.unannotated == ["lesson_c"]
    ids = [i for i in store.ids if i.startswith("lesson_a/")]
    assert ids == ["lesson_a/0000", "lesson_a/0001", "lesson_a/0002"]
    for k, (lo, hi, signs) in enumerate([(0, 150, range(0, 5)), (150, 300, range(5, 10)), (300, 360, range(10, 12))]):
        w = store.read(store.index_of(f"lesson_a/{k:04d}"))
        np.testing.assert_array_equal(w.xyz, a.xyz[lo:hi])
        np.testing.assert_array_equal(w.missing, a.missing[lo:hi])
        np.testing.assert_array_equal(w.time, a.time[lo:hi])  # the recording's clock is kept
        assert w.info.glosses == " ".join(labels[j] for j in signs)
        # frames j / 30 in [j + 0.11, j + 0.89) s are 30 j + 4 .. 30 j + 26, relative to the window
        assert parse_spans(w.info.gloss_spans) == [(30 * j + 4 - lo, 30 * j + 27 - lo) for j in signs]
        m = json.loads(w.info.meta)
        assert m == {"recording": "lesson_a", "window": k, "start": 5.0 * k, "end": 5.0 * k + 5, "cut": []}
        assert (w.info.signer, w.info.language, w.info.split, w.info.fps, w.info.label) == ("msl-signer", "lsm", "train", FPS, "")
    assert report.glosses == 17 and report.cut == 0


def test_windows_follow_the_recording_clock(lessons, tmp_path):
    _, recs, labels = lessons
    store, _ = cut(lessons, tmp_path, WindowSpec(3.0))
    b = [i for i in store.ids if i.startswith("lesson_b/")]
    assert b == ["lesson_b/0033", "lesson_b/0034"]  # 100 s .. 105 s on a 3 s grid: [99, 102), [102, 105)
    w = store.read(store.index_of("lesson_b/0033"))
    assert w.info.length == 60 and abs(w.time[0] - 100.0) < 1e-4
    assert w.info.gloss_list == labels[N_A:N_A + 2]
    assert store.read(store.index_of("lesson_b/0034")).info.gloss_list == labels[N_A + 2:N_A + 5]


def test_a_gloss_cut_by_the_edge_goes_to_the_window_of_its_midpoint(lessons, tmp_path):
    _, recs, labels = lessons
    store, report = cut(lessons, tmp_path, WindowSpec(4.5))
    w0, w1 = (store.read(store.index_of(f"lesson_a/{k:04d}")) for k in (0, 1))
    assert w0.info.gloss_list == labels[0:4]  # sign 4 spans 4.11 .. 4.89 s: midpoint 4.5 is in window 1
    assert w1.info.gloss_list == labels[4:9]
    spans = parse_spans(w1.info.gloss_spans)
    assert spans[0] == (0, 12)  # clipped: window frames from 4.5 s (frame 135) to before 4.89 s (frame 146)
    assert spans[1] == (30 * 5 + 4 - 135, 30 * 5 + 27 - 135)
    assert json.loads(w1.info.meta)["cut"] == [0]
    assert sum(len(json.loads(i.meta)["cut"]) for i in store.infos() if i.id.startswith("lesson_a/")) == 1
    assert report.cut == 2 and report.dropped == 0  # lesson_b's sign at 103.11 .. 103.89 s is cut by 103.5 s
    inside, _ = cut(lessons, tmp_path, WindowSpec(4.5, rule="inside"), name="inside.h5")
    assert inside.read(inside.index_of("lesson_a/0001")).info.gloss_list == labels[5:9]  # the cut sign is left out
    assert inside.read(inside.index_of("lesson_a/0000")).info.gloss_list == labels[0:4]


def test_overlapping_windows_share_the_glosses_of_their_overlap(lessons, tmp_path):
    _, recs, labels = lessons
    store, report = cut(lessons, tmp_path, WindowSpec(6.0, 2.0))
    got = [store.read(store.index_of(f"lesson_a/{k:04d}")).info.gloss_list for k in range(3)]
    assert got == [labels[0:6], labels[4:10], labels[8:12]]
    w1 = store.read(store.index_of("lesson_a/0001"))
    np.testing.assert_array_equal(w1.xyz, recs["lesson_a"].xyz[120:300])
    assert parse_spans(w1.info.gloss_spans)[0] == (4, 27)


def test_transcript_lines_land_in_the_window_of_their_midpoint(lessons, tmp_path):
    lines = [Timed("lesson_a", 0.0, 2.0, "first"), Timed("lesson_a", 2.0, 6.0, "second line"),
             Timed("lesson_a", 6.5, 7.5, "third"), Timed("lesson_a", 9.0, 11.0, "fourth")]
    store, _ = cut(lessons, tmp_path, WindowSpec(5.0), texts=lines)
    got = [store.info(store.index_of(f"lesson_a/{k:04d}")).transcript for k in range(3)]
    assert got == ["first second line", "third", "fourth"]
    assert store.info(store.index_of("lesson_b/0020")).transcript == ""


def test_tables_in_milliseconds_and_tabs(lessons, tmp_path):
    _, _, labels = lessons
    rows = gloss_rows(labels)
    ms = write_table(tmp_path / "g.csv", rows, "gloss", 1000.0)
    got = read_timed_table(ms, "gloss", unit="ms")
    assert [(r.video, r.value) for r in got] == [(r.video, r.value) for r in rows]
    np.testing.assert_allclose([r.start for r in got], [r.start for r in rows])
    tsv = tmp_path / "t.tsv"
    tsv.write_text("video\tstart\tend\ttext\nlesson_a\t1.5\t2.5\thello there\n")
    assert read_timed_table(tsv, "text") == [Timed("lesson_a", 1.5, 2.5, "hello there")]


def test_source_store_is_untouched(lessons, tmp_path):
    path = lessons[0]
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store, _ = cut(lessons, tmp_path, WindowSpec(5.0))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    derived = store.provenance["derived"]
    assert derived["operation"] == "segment" and derived["settings"]["length"] == 5.0
    assert store.provenance["extractor"] == PoseStore(path).provenance["extractor"]


@pytest.mark.realdata
def test_recordings_without_frame_times_need_a_frame_rate(kaggle_dir, tmp_path):
    asl = tmp_path / "asl.h5"
    import_samples(asl, LAYOUT, provenance("kaggle", {"face": "contour"}), kaggle_candidates(kaggle_dir, LAYOUT, limit=6))
    src = PoseStore(asl)
    parts = [src.read(i) for i in range(6)]
    rec = Sample(SampleInfo(id="chat", language="ase"), *(np.concatenate([getattr(p, f) for p in parts]) for f in ("xyz", "confidence", "missing", "time")))
    assert np.isnan(rec.time).all()  # the Kaggle files give no frame rate
    long = tmp_path / "long.h5"
    with StoreWriter(long, LAYOUT, src.provenance) as w:
        w.add(rec)
    rows = [Timed("chat", 0.2, 0.6, "hello"), Timed("chat", 2.0, 2.5, "thankyou")]
    with pytest.raises(SlrPoseError, match="has no frame times"):
        segment_store(long, tmp_path / "w.h5", rows, spec=WindowSpec(2.0))
    segment_store(long, tmp_path / "w.h5", rows, spec=WindowSpec(2.0), fps=25.0)
    out = PoseStore(tmp_path / "w.h5")
    w0 = out.read(0)
    np.testing.assert_allclose(w0.time, np.arange(50) / 25.0, atol=1e-6)
    assert w0.info.gloss_list == ["hello"] and parse_spans(w0.info.gloss_spans) == [(5, 15)]
    np.testing.assert_array_equal(w0.xyz, rec.xyz[:50])


# --------------------------------------------------------------------------- bad input


def test_bad_input_gives_one_clear_line(lessons, tmp_path):
    path, _, labels = lessons

    def error(rows, spec=WindowSpec(5.0), out="bad.h5") -> str:
        with pytest.raises(SlrPoseError) as e:
            segment_store(path, tmp_path / out, rows, spec=spec)
        assert "\n" not in str(e.value)
        return str(e.value)

    assert "recording 'lesson_z', which is not in" in error([Timed("lesson_z", 0, 1, "yo")])
    ms_as_s = [Timed("lesson_a", 4110.0, 4890.0, "yo")]
    assert "starts after recording 'lesson_a' ends" in error(ms_as_s) and "another unit" in error(ms_as_s)
    assert not (tmp_path / "bad.h5").exists() and not (tmp_path / "bad.h5.journal").exists()  # nothing half-made left
    assert "has no rows" in error([])
    (tmp_path / "exists.h5").touch()
    assert "already exists" in error(gloss_rows(labels), out="exists.h5")
    assert "is the input store" in error(gloss_rows(labels), out=str(path))
    bad = tmp_path / "bad.csv"
    bad.write_text("video,start,end,gloss\nlesson_a,3.0,2.0,yo\n")
    with pytest.raises(SlrPoseError, match=r"bad.csv line 2: needs 0 <= start < end"):
        read_timed_table(bad, "gloss")
    bad.write_text("video,start,end,gloss\nlesson_a,1.0,2.0,two words\n")
    with pytest.raises(SlrPoseError, match="contains spaces"):
        read_timed_table(bad, "gloss")
    bad.write_text("video,start,end,gloss\n ,1.0,2.0,yo\n")  # was a row of recording ''
    with pytest.raises(SlrPoseError, match="bad.csv line 2: empty video or gloss"):
        read_timed_table(bad, "gloss")
    bad.write_text("video,begin,end,gloss\n")
    with pytest.raises(SlrPoseError, match="lacks the column"):
        read_timed_table(bad, "gloss")
    with pytest.raises(SlrPoseError, match="time unit"):
        read_timed_table(bad, "gloss", unit="min")


# --------------------------------------------------------------------------- a real video, really extracted


@pytest.mark.slow
def test_a_real_video_recording_extracted_and_cut(tmp_path):
    """The five MSL-150 clips joined into one video, run through MediaPipe, cut into 3-second windows."""
    extract = pytest.importorskip("slr_pose.keypoints.extraction")
    from slr_pose.keypoints.backends import create_spec, native_logs_silenced
    from slr_pose.keypoints.inputs import collect_inputs

    cv2 = pytest.importorskip("cv2")
    video = tmp_path / "lesson.mp4"
    writer, bounds, labels, fps = None, [], [], None
    for clip in sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4")):
        cap = cv2.VideoCapture(str(clip))
        fps = fps or cap.get(cv2.CAP_PROP_FPS)
        start = n = bounds[-1][1] if bounds else 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if writer is None:
                writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), fps, (480, 270))
            writer.write(cv2.resize(frame, (480, 270)))
            n += 1
        cap.release()
        bounds.append((start, n))
        labels.append(clip.stem.split("_")[0])
    writer.release()
    store = tmp_path / "lesson.h5"
    items, problems = collect_inputs([video], defaults={"language": "mfs"})
    with native_logs_silenced():
        summary = extract.run_extraction(items, store, extract.ExtractOptions(create_spec("holistic", model_complexity=1)),
                                         problems=problems, progress=False)
    assert not summary.failures
    rec = PoseStore(store).read(0)
    times = rec.time.astype(np.float64)
    assert len(times) == bounds[-1][1]  # every frame of the five clips
    # each sign annotated from its clip's 5th frame to 5 frames before its end
    rows = [Timed("lesson", (a + 5) / fps, (b - 5) / fps, g) for (a, b), g in zip(bounds, labels)]
    segment_store(store, tmp_path / "w.h5", rows, spec=WindowSpec(3.0))
    out = PoseStore(tmp_path / "w.h5")
    for i in range(len(out)):
        w = out.read(i)
        k = json.loads(w.info.meta)["window"]
        inside = (times >= 3.0 * k) & (times < 3.0 * k + 3)
        np.testing.assert_array_equal(w.xyz, rec.xyz[inside])
        first = int(np.argmax(inside))
        mine = [r for r in rows if 3.0 * k <= r.midpoint < 3.0 * k + 3]
        assert w.info.gloss_list == [r.value for r in mine]
        want = [(max(0, int(np.searchsorted(times, r.start)) - first),
                 min(int(inside.sum()), int(np.searchsorted(times, r.end)) - first)) for r in mine]
        assert parse_spans(w.info.gloss_spans) == want
    assert sum(len(i.gloss_list) for i in out.infos()) == 5
    assert out.info(0).language == "mfs"
