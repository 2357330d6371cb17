"""Importers on real data: Kaggle asl-signs parquet, MSL-150 arrays, pose-format files."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError, StoreError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.importers import Geometry, file_inputs, import_samples, provenance
from slr_pose.keypoints.importers.arrays import PRESETS, ArrayOptions, ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates, kaggle_names, read_parquet
from slr_pose.keypoints.importers.pose_format import point_names, pose_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore
from tests.conftest import HAS_HOLISTIC

REPO = Path(__file__).resolve().parents[2]
MSL_KEYPOINTS = REPO / "data" / "msl150" / "keypoints_sample.npz"  # bundled real data, as in conftest.py
ASL_VIDEO = REPO / "data" / "clips" / "asl_test_video.mp4"
FULL = holistic_layout("full")
CONTOUR = holistic_layout("contour")
GROUPS = ("pose", "left_hand", "right_hand", "face")


def kaggle_store(kaggle_dir: Path, path: Path, layout=FULL, **kwargs) -> PoseStore:
    cands = kaggle_candidates(kaggle_dir, layout, **kwargs)
    import_samples(path, layout, provenance("kaggle", {"face": layout.name}), cands)
    return PoseStore(path)


def msl_store(path: Path, layout=CONTOUR, options=ArrayOptions(), **kwargs) -> PoseStore:
    spec = ColumnSpec.parse("msl150")
    cands = array_candidates([MSL_KEYPOINTS], spec, layout, options=options, **kwargs)
    import_samples(path, layout, provenance("numpy", {"spec": str(spec), "trim": options.trim}), cands)
    return PoseStore(path)


# --------------------------------------------------------------------------- Kaggle


@pytest.fixture(scope="module")
def kaggle_rows(kaggle_dir) -> list[dict]:
    with open(kaggle_dir / "train.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_kaggle_every_parquet_row_lands_in_its_cell(kaggle_dir, kaggle_rows, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    store = kaggle_store(kaggle_dir, tmp_path / "asl.h5")
    row = kaggle_rows[0]
    sample = store.read(store.index_of(row["sequence_id"]))
    table = pq.read_table(kaggle_dir / row["path"]).to_pylist()  # row by row, independently of the importer
    frames = sorted({r["frame"] for r in table})
    assert sample.info.length == len(frames) == len(table) // 543
    nan_rows = {}
    for r in table:
        t = frames.index(r["frame"])
        if r["type"] == "pose":
            name = "pose/" + mpn.POSE_NAMES[r["landmark_index"]]
        elif r["type"] == "face":
            name = f"face/{r['landmark_index']}"
        else:
            name = f"{r['type']}/{mpn.HAND_NAMES[r['landmark_index']]}"
        v = FULL.index([name])[0]
        absent = r["x"] is None or np.isnan(r["x"])  # the files store "not detected" as null or NaN
        want = np.full(3, np.nan, np.float32) if absent else np.array([r["x"], r["y"], r["z"]], dtype=np.float32)
        np.testing.assert_array_equal(sample.xyz[t, v], want)  # NaN == NaN here
        assert sample.confidence[t, v] == (0.0 if absent else 1.0)
        nan_rows.setdefault((t, r["type"]), []).append(absent)
    for (t, group), nans in nan_rows.items():
        assert sample.missing[t, GROUPS.index(group)] == all(nans)
    # this sequence really lacks its left hand everywhere and its right hand in 8 of 14 frames
    assert sample.missing[:, 1].all() and sample.missing[:, 2].sum() == 8


@pytest.mark.realdata
def test_kaggle_metadata_counts_and_frames(kaggle_dir, kaggle_rows, tmp_path):
    store = kaggle_store(kaggle_dir, tmp_path / "asl.h5", layout=CONTOUR, geometry=Geometry(30.0, 720, 1280))
    assert len(store) == 42 and sorted(store.ids) == sorted(r["sequence_id"] for r in kaggle_rows)
    by_id = {r["sequence_id"]: r for r in kaggle_rows}
    labels = store.column("label").tolist()
    assert labels.count("hello") == 21 and labels.count("thankyou") == 21
    assert len(set(store.column("signer").tolist())) == 21
    for info in store.infos():
        assert info.label == by_id[info.id]["sign"] and info.signer == by_id[info.id]["participant_id"]
        assert info.language == "ase" and info.source == by_id[info.id]["path"]
        assert (info.fps, info.width, info.height) == (30.0, 720, 1280)
    frames, _ = read_parquet(kaggle_dir / kaggle_rows[2]["path"])
    s = store.read(store.index_of(kaggle_rows[2]["sequence_id"]))
    np.testing.assert_allclose(s.time, frames / 30.0, rtol=1e-6)  # seconds from frame 0 of the recording
    assert json.loads(s.info.meta) == {"first_frame": int(frames[0]), "last_frame": int(frames[-1])}
    assert s.xyz.shape[1] == CONTOUR.num_landmarks == 203


@pytest.mark.realdata
def test_kaggle_unknown_fps_gives_nan_time(kaggle_dir, tmp_path):
    store = kaggle_store(kaggle_dir, tmp_path / "asl.h5", signs=["thankyou"], limit=3)
    assert len(store) == 3 and set(store.column("label").tolist()) == {"thankyou"}
    s = store.read(0)
    assert np.isnan(s.info.fps) and np.isnan(s.time).all() and s.info.aspect == 1.0


@pytest.mark.realdata
def test_kaggle_resume_skips_and_conflicts_never_overwrite(kaggle_dir, kaggle_rows, tmp_path):
    path = tmp_path / "asl.h5"
    kaggle_store(kaggle_dir, path, limit=5)
    cands = kaggle_candidates(kaggle_dir, FULL)
    report = import_samples(path, FULL, provenance("kaggle", {"face": FULL.name}), cands)
    assert report.skipped == [r["sequence_id"] for r in kaggle_rows[:5]]
    assert report.added == [r["sequence_id"] for r in kaggle_rows[5:]] and report.total == 42
    # a different file under an id already stored: reported, stored one kept
    fake = tmp_path / "other"
    (fake / "x").mkdir(parents=True)
    shutil.copy(kaggle_dir / kaggle_rows[1]["path"], fake / "x" / "a.parquet")
    (fake / "train.csv").write_text(f"path,participant_id,sequence_id,sign\nx/a.parquet,1,{kaggle_rows[0]['sequence_id']},hello\n")
    before = PoseStore(path).read(0)
    report = import_samples(path, FULL, provenance("kaggle", {"face": FULL.name}), kaggle_candidates(fake, FULL))
    assert report.conflicts == [kaggle_rows[0]["sequence_id"]] and not report.added
    after = PoseStore(path).read(0)
    np.testing.assert_array_equal(after.xyz, before.xyz)
    assert (after.info.sha256, after.info.label, after.info.signer) == (before.info.sha256, before.info.label, before.info.signer)


@pytest.mark.realdata
def test_kaggle_bad_input(kaggle_dir, kaggle_rows, tmp_path):
    with pytest.raises(SlrPoseError, match="747 of 747 files listed in .* do not exist"):
        kaggle_candidates(kaggle_dir.parent / "train_all_747.csv", FULL)
    with pytest.raises(SlrPoseError, match="lists no sign goodbye"):
        kaggle_candidates(kaggle_dir, FULL, signs=["goodbye"])
    (tmp_path / "bad.csv").write_text("path,sign\nx.parquet,hello\n")
    with pytest.raises(SlrPoseError, match="lacks the column"):
        kaggle_candidates(tmp_path / "bad.csv", FULL)
    # a damaged parquet after two good ones: the good ones are kept, the error names the file
    root = tmp_path / "mixed"
    root.mkdir()
    lines = ["path,participant_id,sequence_id,sign"]
    for r in kaggle_rows[:2]:
        shutil.copy(kaggle_dir / r["path"], root / f"{r['sequence_id']}.parquet")
        lines.append(f"{r['sequence_id']}.parquet,{r['participant_id']},{r['sequence_id']},{r['sign']}")
    (root / "broken.parquet").write_bytes((kaggle_dir / kaggle_rows[3]["path"]).read_bytes()[:500])
    lines.append("broken.parquet,1,999,hello")
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(SlrPoseError, match="broken.parquet: not a Kaggle asl-signs parquet file"):
        kaggle_store(root, tmp_path / "s.h5")
    assert PoseStore(tmp_path / "s.h5").ids == [r["sequence_id"] for r in kaggle_rows[:2]]


def test_missing_pyarrow_gives_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import now raises ImportError
    with pytest.raises(SlrPoseError, match=r'pip install "slr-pose\[kaggle\]"'):
        kaggle_candidates(tmp_path, FULL)


def test_kaggle_names_follow_the_competition_order():
    names = kaggle_names()
    assert len(names) == 543
    assert names[0] == "face/0" and names[468] == "left_hand/WRIST" and names[489] == "pose/NOSE"
    assert names[522] == "right_hand/WRIST" and names[-1] == "right_hand/PINKY_TIP"


# --------------------------------------------------------------------------- NumPy arrays


@pytest.mark.parametrize("name,width", [("msl150", 226), ("1662", 1662), ("258", 258), ("kaggle543", 1629)])
def test_presets_cover_their_widths(name, width):
    spec = ColumnSpec.parse(name)
    assert spec.width == width
    assert ColumnSpec.parse(str(spec)) == spec  # the canonical text parses back
    assert str(spec) == PRESETS[name]


def test_spec_grammar_ranges_skips_and_ignored_values():
    spec = ColumnSpec.parse("pose[11:13]:xy_v, skip:2, right_hand[8]:xyz")
    assert spec.width == 2 * 4 + 2 + 3
    assert spec.names == ("pose/LEFT_SHOULDER", "pose/RIGHT_SHOULDER", "right_hand/INDEX_FINGER_TIP")
    row = np.array([[0.1, 0.2, 9, 0.8, 0.3, 0.4, 9, 0.7, 5, 5, 0.5, 0.6, 0.05]], dtype=np.float32)
    xyz, vis = spec.split(row)
    np.testing.assert_allclose(xyz[0], [[0.1, 0.2, 0], [0.3, 0.4, 0], [0.5, 0.6, 0.05]])  # no z: 0
    np.testing.assert_allclose(vis[0], [0.8, 0.7, 1.0])


@pytest.mark.parametrize(
    "text,named",
    [
        ("pose[0:25]:xyzv,lefthand:xyz", "'lefthand:xyz': unknown group 'lefthand'"),
        ("pose[0:40]:xyz", "'pose[0:40]:xyz': range [0:40] is not within 0..33"),
        ("pose:xyq", "'pose:xyq': channels 'xyq'"),
        ("pose:xz", "'pose:xz': channels 'xz' must name x and y once"),
        ("pose:xyz,pose[3]:xyz", "'pose[3]:xyz' repeats pose/LEFT_EYE_OUTER"),
        ("skip:0,pose:xy", "'skip:0': skip needs a positive column count"),
        ("pose[a]:xyz", "'pose[a]:xyz': range [a] is not"),
        ("pose", "'pose' is not GROUP[START:STOP]:CHANNELS"),
    ],
)
def test_spec_errors_name_the_bad_token(text, named):
    with pytest.raises(SlrPoseError) as e:
        ColumnSpec.parse(text)
    assert named in str(e.value)


def test_msl_npz_values_masks_and_ids(tmp_path):
    z = np.load(MSL_KEYPOINTS)
    kp, labels, ids = z["keypoints"], z["label"], z["sample_id"]
    store = msl_store(tmp_path / "msl.h5")
    assert len(store) == 86
    # sample_id repeats across signs, so ids are label_id
    assert store.ids == [f"{l}_{i}" for l, i in zip(labels, ids)]
    assert store.column("label").tolist() == labels.tolist()
    lay = store.layout
    nose, lwrist, rtip = lay.index(["pose/NOSE", "left_hand/WRIST", "right_hand/INDEX_FINGER_TIP"])
    legs = lay.index(["pose/" + n for n in mpn.POSE_NAMES[25:]])
    for i in (0, 7, 40, 85):
        s = store.read(i)
        assert json.loads(s.info.meta) == {"index": i, "source_id": str(ids[i])}
        lh_zero = (kp[i, :, 100:163] == 0).all(1)
        rh_zero = (kp[i, :, 163:226] == 0).all(1)
        pose_zero = (kp[i, :, :100] == 0).all(1)
        np.testing.assert_array_equal(s.missing[:, 0], pose_zero)
        np.testing.assert_array_equal(s.missing[:, 1], lh_zero)
        np.testing.assert_array_equal(s.missing[:, 2], rh_zero)
        assert s.missing[:, 3].all()  # MSL-150 has no face
        t = int(np.argmin(pose_zero))  # a frame with a pose
        np.testing.assert_allclose(s.xyz[t, nose], kp[i, t, 0:3], rtol=1e-6)
        np.testing.assert_allclose(s.confidence[t, nose], kp[i, t, 3], rtol=1e-6)  # visibility
        assert np.isnan(s.xyz[t, legs]).all() and (s.confidence[t, legs] == 0).all()  # points 25-32 absent
        for frame in range(30):
            if lh_zero[frame]:
                assert np.isnan(s.xyz[frame, lwrist]).all() and s.confidence[frame, lwrist] == 0
            else:
                np.testing.assert_allclose(s.xyz[frame, lwrist], kp[i, frame, 100:103], rtol=1e-6)
                assert s.confidence[frame, lwrist] == 1.0
            if not rh_zero[frame]:
                np.testing.assert_allclose(s.xyz[frame, rtip], kp[i, frame, 163 + 24:163 + 27], rtol=1e-6)


def test_msl_trim_drops_padding_frames(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    store = msl_store(tmp_path / "msl.h5", options=ArrayOptions(trim=True), geometry=Geometry(fps=30.0))
    empty = (kp == 0).all(-1)  # (N, T) frames with nothing detected
    for i in (0, 7, 8, 15):
        keep = np.flatnonzero(~empty[i])
        s = store.read(i)
        assert s.info.length == keep[-1] - keep[0] + 1
        np.testing.assert_allclose(s.time, np.arange(keep[0], keep[-1] + 1) / 30.0, rtol=1e-6)
    assert store.read(7).info.length == 25  # frames 25-29 of sample 7 are padding


def test_zero_is_data_keeps_zero_blocks(tmp_path):
    store = msl_store(tmp_path / "msl.h5", options=ArrayOptions(zero_is_missing=False))
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    i, t = np.argwhere((kp[:, :, 100:163] == 0).all(-1))[0]  # a frame whose left hand is all zero
    s = store.read(int(i))
    assert not s.missing[:, :3].any()  # every block counts as present
    lwrist = store.layout.index(["left_hand/WRIST"])[0]
    np.testing.assert_array_equal(s.xyz[t, lwrist], [0, 0, 0])
    assert s.confidence[t, lwrist] == 1.0


@pytest.mark.realdata
def test_1662_and_kaggle543_arrays_match_the_parquet_import(kaggle_dir, kaggle_rows, tmp_path):
    """Real Kaggle landmarks written as the tutorial 1662 vector and as (T, 543, 3) import as the parquet does."""
    frames, src = read_parquet(kaggle_dir / kaggle_rows[4]["path"])  # (T, 543, 3) face, lh, pose, rh
    face, lh, pose, rh = src[:, :468], src[:, 468:489], src[:, 489:522], src[:, 522:]
    pose_v = np.concatenate([pose, np.ones_like(pose[..., :1])], -1)
    flat = np.concatenate([a.reshape(len(a), -1) for a in (pose_v, face, lh, rh)], axis=1)
    np.save(tmp_path / "seq.npy", np.nan_to_num(flat, nan=0.0))  # tutorials write zeros for "not found"
    np.save(tmp_path / "seq543.npy", src)  # keeps NaN
    ref = kaggle_store(kaggle_dir, tmp_path / "k.h5").read(kaggle_rows.index(kaggle_rows[4]))
    for name, spec in (("seq.npy", "1662"), ("seq543.npy", "kaggle543")):
        cands = array_candidates([tmp_path / name], ColumnSpec.parse(spec), FULL)
        s = cands[0].load()
        assert s.info.id == name[:-4]
        np.testing.assert_array_equal(s.xyz, ref.xyz)
        np.testing.assert_array_equal(s.missing, ref.missing)
        np.testing.assert_array_equal(s.confidence, ref.confidence)


def test_npz_one_array_per_sample_and_id_format(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    np.savez(tmp_path / "per.npz", first=kp[0], second=kp[1].reshape(30, -1))
    cands = array_candidates([tmp_path / "per.npz"], ColumnSpec.parse("msl150"), CONTOUR)
    assert [c.id for c in cands] == ["first", "second"]
    assert cands[0].digest() != cands[1].digest()
    np.testing.assert_allclose(cands[1].load().xyz[0, 0], kp[1, 0, :3], rtol=1e-6)
    cands = array_candidates([MSL_KEYPOINTS], ColumnSpec.parse("msl150"), CONTOUR,
                             options=ArrayOptions(id_format="msl-{index:03d}-{label}"))
    assert cands[3].id == "msl-003-ambulancia"


def test_npy_folder_ids_and_labels_from_folders(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    for label, i in (("doctor", 20), ("hoy", 50)):
        (tmp_path / "signs" / label).mkdir(parents=True)
        np.save(tmp_path / "signs" / label / "001.npy", kp[i])
    cands = array_candidates([tmp_path / "signs"], ColumnSpec.parse("msl150"), CONTOUR,
                             options=ArrayOptions(label_from_folder=True), language="mfs")
    assert [c.id for c in cands] == ["doctor/001", "hoy/001"]
    s = cands[1].load()
    assert s.info.label == "hoy" and s.info.language == "mfs"
    np.testing.assert_allclose(s.xyz[0, 0], kp[50, 0, :3], rtol=1e-6)


def test_array_errors_come_before_anything_is_written(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    np.save(tmp_path / "short.npy", kp[0, :, :225])
    with pytest.raises(SlrPoseError, match=r"short.npy: frames have 225 values, spec .* covers 226"):
        array_candidates([tmp_path / "short.npy"], ColumnSpec.parse("msl150"), CONTOUR)
    np.savez(tmp_path / "obj.npz", keypoints=kp[:2], label=np.array(["a", None], dtype=object))
    with pytest.raises(SlrPoseError, match="obj.npz 'label' holds objects"):
        array_candidates([tmp_path / "obj.npz"], ColumnSpec.parse("msl150"), CONTOUR)
    np.savez(tmp_path / "two.npz", a=kp[:2], b=kp[2:4])
    with pytest.raises(SlrPoseError, match=r"several stacked arrays \(a, b\); choose one with --array-key"):
        array_candidates([tmp_path / "two.npz"], ColumnSpec.parse("msl150"), CONTOUR)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(SlrPoseError, match="junk.npy is not a readable NumPy array"):
        array_candidates([tmp_path / "junk.npy"], ColumnSpec.parse("msl150"), CONTOUR)
    with pytest.raises(SlrPoseError, match="no such file or folder"):
        file_inputs([tmp_path / "nope.npy"], (".npy",))
    assert not list(tmp_path.glob("*.h5"))


def _npy_bytes(header: bytes, data: bytes = b"") -> bytes:
    """A version-1 ``.npy`` with ``header`` as its header text."""
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


@pytest.mark.parametrize(
    "content, message",
    [
        # numpy's fallback header parser raised tokenize.TokenError
        (_npy_bytes(b"{(\n"), "is not a readable NumPy array"),
        # numpy allocated the 180 GB the header promises (MemoryError) before finding 64 bytes of data
        (_npy_bytes(b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000, 226), }\n", b"\0" * 64),
         r"the header promises float64 \(100000000, 226\) \(180800000000 bytes\) but the file holds 64"),
        (_npy_bytes(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 226), }\n"), "negative size"),
    ],
)
def test_damaged_npy_headers_are_one_clear_error(tmp_path, content, message):
    (tmp_path / "x.npy").write_bytes(content)
    with pytest.raises(SlrPoseError, match=message):
        array_candidates([tmp_path / "x.npy"], ColumnSpec.parse("msl150"), CONTOUR)


def test_npz_member_names_with_line_breaks_are_refused(tmp_path):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    np.savez(tmp_path / "s.npz", **{"hoy\n001": kp[0]})  # one array per sample: the name is the sample's id
    with pytest.raises(SlrPoseError, match=r"s.npz: member 'hoy\\n001.npy' has a line break in its name"):
        array_candidates([tmp_path / "s.npz"], ColumnSpec.parse("msl150"), CONTOUR)


@pytest.mark.parametrize(
    "ids, id_format, message",
    [
        ([7], "{id[0]}", "'int' object is not subscriptable"),  # was a TypeError
        ([7], "{label.x}", "'str' object has no attribute 'x'"),  # was an AttributeError
        ([""], None, "gets an empty id"),  # was a sample with the id ""
    ],
)
def test_ids_that_cannot_name_a_sample(tmp_path, ids, id_format, message):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    np.savez(tmp_path / "s.npz", keypoints=kp[:1], label=np.array(["hoy"]), sample_id=np.array(ids))
    with pytest.raises(SlrPoseError, match=message):
        array_candidates([tmp_path / "s.npz"], ColumnSpec.parse("msl150"), CONTOUR, options=ArrayOptions(id_format=id_format))


@pytest.mark.parametrize("text", ["pose[²]:xyz", "skip:²,pose:xy"])
def test_spec_numbers_in_other_scripts_are_refused(text):
    with pytest.raises(SlrPoseError, match="spec block"):  # was int("²"): ValueError
        ColumnSpec.parse(text)


@pytest.mark.realdata
def test_kaggle_parquet_of_wrong_column_types_is_one_clear_error(kaggle_dir, kaggle_rows, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(kaggle_dir / kaggle_rows[0]["path"]).slice(0, 1086)
    x = table.column("x").cast(pa.string())  # read_parquet stored strings into a float array: ValueError
    pq.write_table(table.set_column(table.column_names.index("x"), "x", x), tmp_path / "text.parquet")
    with pytest.raises(SlrPoseError, match="text.parquet: column x holds string; expected numbers"):
        read_parquet(tmp_path / "text.parquet")
    kind = pa.array([None] + table.column("type").to_pylist()[1:])  # a null type indexed with garbage: IndexError
    pq.write_table(table.set_column(table.column_names.index("type"), "type", kind), tmp_path / "null.parquet")
    with pytest.raises(SlrPoseError, match="null.parquet: column type has 1 empty cells"):
        read_parquet(tmp_path / "null.parquet")
    names = table.column("type").combine_chunks().cast(pa.binary()).to_pylist()
    latin1 = pa.array([b"fa\xefce"] + names[1:], pa.binary()).view(pa.string())  # parquet does not check UTF-8
    pq.write_table(table.set_column(table.column_names.index("type"), "type", latin1), tmp_path / "latin1.parquet")
    with pytest.raises(SlrPoseError, match="latin1.parquet: column type is not UTF-8 text"):  # was UnicodeDecodeError
        read_parquet(tmp_path / "latin1.parquet")


@pytest.mark.realdata
def test_kaggle_index_row_without_a_path_is_one_clear_error(kaggle_dir, tmp_path):
    (tmp_path / "train.csv").write_text("path,participant_id,sequence_id,sign\n1,2\n")  # root / None: TypeError
    with pytest.raises(SlrPoseError, match=r"train.csv line 2: a row needs path, participant_id, sequence_id, sign"):
        kaggle_candidates(tmp_path, CONTOUR)


def test_store_made_by_another_reader_refuses_the_import(tmp_path):
    msl_store(tmp_path / "msl.h5")
    with pytest.raises(StoreError, match="write to a new store"):
        msl_store(tmp_path / "msl.h5", options=ArrayOptions(trim=True))
    assert len(PoseStore(tmp_path / "msl.h5")) == 86


# --------------------------------------------------------------------------- pose-format


@pytest.fixture(scope="module")
def asl_pose(tmp_path_factory) -> Path:
    """A .pose made by pose-format's own MediaPipe path from the real ASL clip."""
    pytest.importorskip("pose_format")
    if not HAS_HOLISTIC:
        pytest.skip("pose-format's MediaPipe path needs mediapipe 0.10.21 (legacy Holistic)")
    from pose_format.bin.pose_estimation import pose_video

    out = tmp_path_factory.mktemp("pose") / "asl.pose"
    pose_video(str(ASL_VIDEO), str(out), "mediapipe", {"model_complexity": 1}, progress=False)
    return out


@pytest.mark.slow
def test_pose_file_from_mediapipe_round_trips(asl_pose, tmp_path):
    from pose_format import Pose

    pose = Pose.read(asl_pose.read_bytes())
    data, conf = np.ma.getdata(pose.body.data)[:, 0], pose.body.confidence[:, 0]  # (T, 576, 3), (T, 576)
    w, h = pose.header.dimensions.width, pose.header.dimensions.height
    cands = pose_candidates([asl_pose], FULL, label="test", language="ase")
    import_samples(tmp_path / "p.h5", FULL, provenance("pose", {"face": "full"}), cands)
    s = PoseStore(tmp_path / "p.h5").read(0)
    assert len(data) == 58
    assert (s.info.id, s.info.width, s.info.height, s.info.length, s.info.label) == ("asl", w, h, 58, "test")
    assert s.info.fps == pytest.approx(pose.body.fps)
    # header order: pose 33, face 468, left hand 21, right hand 21, world pose 33 (ignored)
    parts = {"pose": slice(0, 33), "face": slice(33, 501), "left_hand": slice(501, 522), "right_hand": slice(522, 543)}
    for group, src in parts.items():
        dst = FULL.group_slices[group]
        present = conf[:, src] > 0
        got = s.xyz[:, dst]
        np.testing.assert_allclose(got[present][:, 0] * w, data[:, src][present][:, 0], rtol=1e-5)
        np.testing.assert_allclose(got[present][:, 1] * h, data[:, src][present][:, 1], rtol=1e-5)
        np.testing.assert_array_equal(got[present][:, 2], data[:, src][present][:, 2])
        assert np.isnan(got[~present]).all()
        np.testing.assert_array_equal(s.confidence[:, dst], conf[:, src])  # pose visibility kept
        np.testing.assert_array_equal(s.missing[:, GROUPS.index(group)], ~present.any(1))
    # what this clip shows: face and pose throughout, no left hand, the right hand sometimes
    assert not s.missing[:, 0].any() and not s.missing[:, 3].any() and s.missing[:, 1].all()
    assert 0 < (~s.missing[:, 2]).sum() < 58
    np.testing.assert_allclose(s.time[1], 1 / pose.body.fps, rtol=1e-6)


@pytest.mark.realdata
def test_pose_file_built_from_kaggle_landmarks_with_reduced_face(kaggle_dir, kaggle_rows, tmp_path):
    """pose-format's API, fed real Kaggle landmarks and cut to the face contours, imports to the parquet values."""
    holistic = pytest.importorskip("pose_format.utils.holistic", exc_type=ImportError)  # it needs mediapipe<0.10.30
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions

    frames, src = read_parquet(kaggle_dir / kaggle_rows[6]["path"])
    order = np.r_[489:522, 0:468, 468:489, 522:543]  # -> pose, face, left hand, right hand
    xyz = src[:, order]
    w, h = 720, 1280
    world = np.zeros((len(xyz), 33, 3), np.float32)
    data = np.concatenate([xyz * np.array([w, h, 1], np.float32), world], 1)
    conf = np.concatenate([np.isfinite(xyz[..., 0]), np.zeros((len(xyz), 33), bool)], 1).astype(np.float32)
    header = PoseHeader(0.2, PoseHeaderDimensions(w, h, 0), holistic.holistic_components())
    pose = Pose(header, NumPyPoseBody(25.0, np.nan_to_num(data)[:, None], conf[:, None]))
    pose = pose.get_components(["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"],
                               {"FACE_LANDMARKS": holistic.FACEMESH_CONTOURS_POINTS})
    with open(tmp_path / "k.pose", "wb") as fh:
        pose.write(fh)
    s = pose_candidates([tmp_path / "k.pose"], CONTOUR)[0].load()
    ref = kaggle_store(kaggle_dir, tmp_path / "k.h5", layout=CONTOUR, limit=7).read(6)
    assert (s.info.fps, s.info.width, s.info.height) == (25.0, w, h)
    np.testing.assert_array_equal(s.missing, ref.missing)
    np.testing.assert_allclose(s.xyz, ref.xyz, rtol=1e-6, atol=1e-7)  # pixels and back: float32 rounding only
    np.testing.assert_array_equal(s.confidence, ref.confidence)


def test_pose_point_names_map_and_reject():
    names = point_names([("POSE_LANDMARKS", list(mpn.POSE_NAMES)), ("FACE_LANDMARKS", ["0", "61", "473"]),
                         ("POSE_WORLD_LANDMARKS", list(mpn.POSE_NAMES)), ("RIGHT_HAND_LANDMARKS", list(mpn.HAND_NAMES))])
    assert names[0] == "pose/NOSE" and names[33:36] == ["face/0", "face/61", ""]  # iris point dropped
    assert names[36:69] == [""] * 33 and names[69] == "right_hand/WRIST"
    with pytest.raises(SlrPoseError, match="no MediaPipe Holistic component \\(found BODY_135\\)"):
        point_names([("BODY_135", ["a", "b"])])
    with pytest.raises(SlrPoseError, match="component LEFT_HAND_LANDMARKS has none of MediaPipe's point names"):
        point_names([("LEFT_HAND_LANDMARKS", ["p0", "p1"])])


def test_pose_point_names_of_a_damaged_header():
    assert point_names([("FACE_LANDMARKS", ["²", "5"])]) == ["", "face/5"]  # int("²") was a ValueError
    with pytest.raises(SlrPoseError) as e:
        point_names([("FACE\r\nLANDMARKS", ["0"])])
    assert "\n" not in str(e.value) and "\r" not in str(e.value)


def test_damaged_pose_file_is_one_clear_error(tmp_path):
    pytest.importorskip("pose_format")
    (tmp_path / "bad.pose").write_bytes(b"\x00\x01garbage")
    with pytest.raises(SlrPoseError, match="bad.pose is not a readable .pose file"):
        pose_candidates([tmp_path / "bad.pose"], FULL)[0].load()


def test_a_frame_rate_too_small_to_give_times_is_unknown():
    """Found by fuzzing a .pose header: fps 7.9e-40 made every frame time inf."""
    from slr_pose.keypoints.importers import assemble, source_index
    from slr_pose.keypoints.store import SampleInfo

    layout = holistic_layout("contour")
    names = [n for n in layout.names if n.startswith("pose/")]
    xyz = np.random.default_rng(0).random((4, len(names), 3))
    s = assemble(SampleInfo("tiny", fps=7.919452284116347e-40), layout, source_index(layout, names), xyz, None, np.arange(4))
    assert np.isnan(s.info.fps) and np.isnan(s.time).all()
    ok = assemble(SampleInfo("ok", fps=25.0), layout, source_index(layout, names), xyz, None, np.arange(4))
    np.testing.assert_allclose(ok.time, np.arange(4) / 25.0)
