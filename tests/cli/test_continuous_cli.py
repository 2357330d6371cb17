"""``slr-pose stitch``, ``slr-pose segment`` and ``slr-pose phoenix`` on real data and on bad input."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slr_pose.cli import main
from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter

REPO = Path(__file__).resolve().parents[2]
MSL_KEYPOINTS = REPO / "data" / "msl150" / "keypoints_sample.npz"
LAYOUT = holistic_layout("contour")
COMMANDS = {"stitch": "continuous:stitch", "segment": "continuous:segment", "phoenix": "continuous:phoenix"}


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The commands as main.py registers them, so errors go through the real one-line handler."""
    monkeypatch.setattr(main, "COMMANDS", {**main.COMMANDS, **COMMANDS})


def run(*args):
    return CliRunner().invoke(main.cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def asl(kaggle_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("asl") / "asl.h5"
    import_samples(path, LAYOUT, provenance("kaggle", {"face": "contour"}), kaggle_candidates(kaggle_dir, LAYOUT))
    return path


@pytest.fixture(scope="module")
def msl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    spec = ColumnSpec.parse("msl150")
    import_samples(path, LAYOUT, provenance("numpy", {"spec": str(spec)}),
                   array_candidates([MSL_KEYPOINTS], spec, LAYOUT, geometry=Geometry(30.0, 1280, 720), language="lsm"))
    return path


# --------------------------------------------------------------------------- stitch


@pytest.mark.realdata
def test_stitch(asl, tmp_path):
    out = tmp_path / "st.h5"
    r = run("stitch", asl, "-o", out, "--sentences", 20, "--min-glosses", 3, "--max-glosses", 5, "--seed", 1, "--density", 1)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"wrote 20 stitched sentences to {out}: train 15 from 32 samples, test 5 from 10 samples (split by signer)",
        "glosses (2): hello thankyou",
    ]
    store = PoseStore(out)
    assert Counter(store.column("split").tolist()) == {"train": 15, "test": 5}
    assert all(3 <= len(g.split()) <= 5 for g in store.column("glosses").tolist())
    assert store.provenance["derived"]["settings"]["seed"] == 1


@pytest.mark.realdata
def test_stitch_reports_short_samples(msl, tmp_path):
    r = run("stitch", msl, "-o", tmp_path / "m.h5", "--sentences", 10)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1:] == [
        "glosses (5): ambulancia doctor dolor hoy yo",
        "left out 2 samples with fewer than 4 active frames (first: doctor_7)",
    ]


@pytest.mark.realdata
def test_stitch_from_a_language_model(asl, tmp_path):
    from slr_pose.decoding.lm import NGramLM

    arpa = tmp_path / "alt.arpa"
    NGramLM.train([["hello", "thankyou", "hello", "thankyou"], ["thankyou", "hello", "thankyou"]] * 10, order=2).save(arpa)
    out = tmp_path / "lm.h5"
    r = run("stitch", asl, "-o", out, "--sentences", 30, "--lm", arpa, "--seed", 2)
    assert r.exit_code == 0, r.output
    pairs = Counter(p for g in PoseStore(out).column("glosses").tolist() for p in zip(g.split(), g.split()[1:]))
    assert (pairs[("hello", "thankyou")] + pairs[("thankyou", "hello")]) / sum(pairs.values()) > 0.9
    assert PoseStore(out).provenance["derived"]["settings"]["grammar"]["model"] == "alt.arpa"


@pytest.mark.realdata
def test_stitch_errors_are_one_line(asl, tmp_path):
    r = run("stitch", asl, "-o", tmp_path / "x.h5", "--gloss", "hello", "--gloss", "goodbye")
    assert r.exit_code == 1
    assert r.output == f"Error: gloss 'goodbye' has no sample in {asl}\n"
    r = run("stitch", asl, "-o", asl)
    assert r.exit_code == 1 and r.output == f"Error: output {asl} is the input store: write the result to a new file\n"
    r = run("stitch", asl, "-o", tmp_path / "x.h5", "--split-by", "store")
    assert r.exit_code == 1 and r.output.startswith("Error: sample 0 has split ''") and r.output.count("\n") == 1
    r = run("stitch", asl, "-o", tmp_path / "x.h5", "--min-glosses", 6, "--max-glosses", 4)
    assert r.exit_code == 1 and r.output == "Error: need 1 <= min glosses (6) <= max glosses (4)\n"
    assert not (tmp_path / "x.h5").exists()


# --------------------------------------------------------------------------- segment


@pytest.fixture(scope="module")
def lesson(msl, tmp_path_factory) -> tuple[Path, list[str]]:
    """One 10-second recording of ten real MSL-150 signs at 30 fps, and its gloss table."""
    src = PoseStore(msl)
    parts = [src.read(i) for i in range(0, 86, 9)][:10]
    xyz, conf, missing = (np.concatenate([getattr(p, f) for p in parts]) for f in ("xyz", "confidence", "missing"))
    folder = tmp_path_factory.mktemp("lesson")
    path = folder / "lesson.h5"
    with StoreWriter(path, LAYOUT, src.provenance) as w:
        w.add(Sample(SampleInfo(id="lesson1", fps=30.0, language="lsm"), xyz, conf, missing,
                     (np.arange(len(xyz)) / 30.0).astype(np.float32)))
    table = folder / "glosses.csv"
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["video", "start", "end", "gloss"])
        w.writerows([("lesson1", k + 0.2, k + 0.8, p.info.label) for k, p in enumerate(parts)])
    return path, [p.info.label for p in parts]


def test_segment(lesson, tmp_path):
    path, labels = lesson
    asr = tmp_path / "asr.csv"
    asr.write_text("video,start,end,text\nlesson1,0.5,3.0,buenos dias\nlesson1,5.0,9.0,hasta luego\n")
    out = tmp_path / "w.h5"
    r = run("segment", path, path.parent / "glosses.csv", "-o", out, "--window", 4, "--transcript", asr)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"wrote 3 windows of 4 s from 1 recording to {out}: 10 glosses, 0 cut by a window edge"]
    store = PoseStore(out)
    assert store.ids == ["lesson1/0000", "lesson1/0001", "lesson1/0002"]
    assert [store.info(i).gloss_list for i in range(3)] == [labels[0:4], labels[4:8], labels[8:10]]
    assert [store.info(i).transcript for i in range(3)] == ["buenos dias", "hasta luego", ""]


def test_segment_overlap_and_errors(lesson, tmp_path):
    path, labels = lesson
    table = path.parent / "glosses.csv"
    r = run("segment", path, table, "-o", tmp_path / "o.h5", "--window", 4, "--overlap", 1)
    assert r.exit_code == 0, r.output  # windows at 0, 3 and 6 s; the signs at 3.5 and 6.5 s fall in two
    assert r.output == f"wrote 3 windows of 4 s from 1 recording to {tmp_path / 'o.h5'}: 12 glosses, 0 cut by a window edge\n"
    r = run("segment", path, table, "-o", tmp_path / "m.h5", "--window", 3.5, "--min-frames", 100)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"wrote 2 windows of 3.5 s from 1 recording to {tmp_path / 'm.h5'}: 7 glosses, 1 cut by a window edge",
        "left out 1 window with fewer than 100 frames",
    ]  # the sign at 3.2 .. 3.8 s is cut at 3.5 s; the tail from 7 s has 90 frames
    r = run("segment", path, table, "-o", tmp_path / "ms.h5", "--unit", "ms")
    assert r.exit_code == 0  # 0.2 ms .. 9.8 ms: all in the first window
    assert PoseStore(tmp_path / "ms.h5").info(0).gloss_list == labels
    r = run("segment", path, table, "-o", tmp_path / "e.h5", "--overlap", 30)
    assert r.exit_code == 1 and r.output == "Error: window overlap 30.0 s must be at least 0 and below the length 30.0 s\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("video,start,end,gloss\nlesson9,0,1,yo\n")
    r = run("segment", path, bad, "-o", tmp_path / "e.h5")
    assert r.exit_code == 1 and r.output == f"Error: the annotations name recording 'lesson9', which is not in {path}\n"


# --------------------------------------------------------------------------- phoenix


@pytest.mark.realdata
def test_phoenix_manifest_and_attach(phoenix_dir, msl, tmp_path):
    manifest = tmp_path / "p.csv"
    r = run("phoenix", "manifest", phoenix_dir / "phoenix2014T", "-o", manifest, "--root", tmp_path / "PHOENIX-2014-T")
    assert r.exit_code == 0, r.output
    assert r.output == f"wrote 8257 rows to {manifest} (train 7096, val 519, test 642)\n"
    r = run("phoenix", "manifest", phoenix_dir / "phoenix2014", "-o", tmp_path / "d.csv", "--split", "dev")
    assert r.output == f"wrote 540 rows to {tmp_path / 'd.csv'} (val 540)\n"
    # stand-in "extracted" store: real MSL landmarks under the ids of the first two dev sentences
    with open(tmp_path / "d.csv") as fh:
        ids = [row["id"] for row, _ in zip(csv.DictReader(fh), range(2))]
    src = PoseStore(msl)
    extracted = tmp_path / "x.h5"
    with StoreWriter(extracted, LAYOUT, src.provenance) as w:
        for i, sid in enumerate([*ids, "stray"]):
            s = src.read(i)
            w.add(Sample(SampleInfo(id=sid, fps=25.0), s.xyz, s.confidence, s.missing, s.time))
    out = tmp_path / "labelled.h5"
    r = run("phoenix", "attach", phoenix_dir / "phoenix2014", extracted, "-o", out, "--split", "dev")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"attached glosses to 2 samples in {out}",
        "left out 1 sample with no PHOENIX id (first: stray)",
        f"2 samples differ from the annotated frame count (first: {ids[0]})",
        f"538 annotated sentences not in {extracted}",
    ]
    assert PoseStore(out).info(0).split == "val"
    r = run("phoenix", "attach", phoenix_dir / "phoenix2014", extracted, "-o", out)
    assert r.exit_code == 1 and r.output == f"Error: output {out} already exists: choose a new file (stores are never modified in place)\n"


def test_stitch_with_a_validation_split(msl, tmp_path):
    out = tmp_path / "v.h5"
    r = run("stitch", msl, "-o", out, "--sentences", 20, "--val-fraction", 0.15)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == (f"wrote 20 stitched sentences to {out}: train 12 from 51 samples, "
                                        "val 3 from 13 samples, test 5 from 20 samples (split by sample)")
    assert Counter(PoseStore(out).column("split").tolist()) == {"train": 12, "val": 3, "test": 5}
    r = run("stitch", msl, "-o", tmp_path / "w.h5", "--val-fraction", 0.8)
    assert r.exit_code == 1 and r.output == "Error: val fraction 0.8 must be at least 0 and below 1 - test fraction (0.75)\n"
