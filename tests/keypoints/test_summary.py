"""Store summaries on stores imported from real data."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates, read_parquet
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.keypoints.summary import format_summary, summarize

MSL_KEYPOINTS = Path(__file__).resolve().parents[2] / "data" / "msl150" / "keypoints_sample.npz"
LAYOUT = holistic_layout("contour")
MSL_PROV = provenance("numpy", {"face": "contour", "spec": "msl150"}, {"numpy": "1.26.4"})
KEYS = ["path", "layout", "samples", "pending", "labels", "signers", "languages", "splits", "frames", "fps",
        "frame_sizes", "detection", "provenance"]


@pytest.fixture(scope="module")
def msl_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    cands = array_candidates([MSL_KEYPOINTS], ColumnSpec.parse("msl150"), LAYOUT, language="mfs", split="train")
    import_samples(path, LAYOUT, MSL_PROV, cands)
    return path


@pytest.fixture(scope="module")
def kaggle_path(tmp_path_factory, kaggle_dir) -> Path:
    path = tmp_path_factory.mktemp("kaggle") / "asl.h5"
    cands = kaggle_candidates(kaggle_dir, LAYOUT, geometry=Geometry(30.0, 720, 1280))
    import_samples(path, LAYOUT, provenance("kaggle", {"face": "contour"}), cands)
    return path


def test_msl_summary_counts_from_the_source(msl_path):
    z = np.load(MSL_KEYPOINTS)
    kp = z["keypoints"]
    s = summarize(msl_path)
    assert list(s) == KEYS
    assert s["samples"] == 86 and s["pending"] == 0
    assert s["layout"] == {"name": "holistic-face-contour", "landmarks": 203, "groups": ["pose", "left_hand", "right_hand", "face"]}
    want = sorted(Counter(z["label"].tolist()).items(), key=lambda kv: (-kv[1], kv[0]))
    assert s["labels"] == {"distinct": 5, "missing": 0, "top": [{"name": k, "samples": n} for k, n in want]}
    assert s["signers"] == {"distinct": 0, "missing": 86, "top": []}
    assert s["languages"]["top"] == [{"name": "mfs", "samples": 86}]
    assert s["splits"]["top"] == [{"name": "train", "samples": 86}]
    assert s["frames"] == {"total": 86 * 30, "min": 30, "median": 30.0, "max": 30, "seconds": None}
    assert s["fps"] == {"known": 0, "unknown": 86, "min": None, "median": None, "max": None}
    assert s["frame_sizes"] == {"known": 0, "unknown": 86, "top": []}
    # detection: frames whose block is not all zero, counted straight from the array
    det = s["detection"]
    assert det["pose"] == pytest.approx((kp[..., :100] != 0).any(-1).mean())
    assert det["left_hand"] == pytest.approx((kp[..., 100:163] != 0).any(-1).mean())
    assert det["right_hand"] == pytest.approx((kp[..., 163:] != 0).any(-1).mean())
    assert det["any_hand"] == pytest.approx((kp[..., 100:] != 0).any(-1).mean())
    assert det["face"] == 0.0  # MSL-150 has no face landmarks at all
    assert s["provenance"]["extractor"] == MSL_PROV["extractor"]
    assert s["provenance"]["libraries"] == {"numpy": "1.26.4"}
    assert s["provenance"]["created"] and s["provenance"]["modified"]


def test_top_limits_lists(msl_path):
    s = summarize(PoseStore(msl_path), top=2)
    assert [e["name"] for e in s["labels"]["top"]] == ["dolor", "hoy"] and s["labels"]["distinct"] == 5


@pytest.mark.realdata
def test_kaggle_summary(kaggle_path, kaggle_dir):
    with open(kaggle_dir / "train.csv") as fh:
        rows = list(csv.DictReader(fh))
    lengths, found = [], []
    for r in rows:
        frames, xyz = read_parquet(kaggle_dir / r["path"])
        lengths.append(len(frames))
        # Kaggle order: face 0-467, left hand 468-488, pose 489-521, right hand 522-542
        found.append([np.isfinite(xyz[:, a:b, 0]).any(1) for a, b in ((489, 522), (468, 489), (522, 543), (0, 468))])
    found = np.concatenate([np.stack(f, 1) for f in found])  # (F, 4)
    s = summarize(kaggle_path, top=3)
    assert s["samples"] == 42
    assert s["signers"]["distinct"] == 21 and s["signers"]["top"][0]["samples"] == 2
    assert s["frames"]["total"] == sum(lengths) and s["frames"]["min"] == min(lengths) and s["frames"]["max"] == max(lengths)
    assert s["frames"]["median"] == float(np.median(lengths))
    assert s["frames"]["seconds"] == pytest.approx(sum(lengths) / 30.0)
    assert s["fps"] == {"known": 42, "unknown": 0, "min": 30.0, "median": 30.0, "max": 30.0}
    assert s["frame_sizes"] == {"known": 42, "unknown": 0, "top": [{"name": "720x1280", "samples": 42}]}
    for j, g in enumerate(("pose", "left_hand", "right_hand", "face")):
        assert s["detection"][g] == pytest.approx(found[:, j].mean())
    assert s["provenance"]["extractor"]["backend"] == "import/kaggle"


def test_pending_journal_samples_are_counted(msl_path, tmp_path):
    path = tmp_path / "s.h5"
    path.write_bytes(msl_path.read_bytes())
    store = PoseStore(path)
    extra = store.read(0)
    from dataclasses import replace

    w = StoreWriter(path, LAYOUT, MSL_PROV)
    w.add(replace(extra, info=replace(extra.info, id="again")))
    w._release()  # as if killed before the commit
    s = summarize(path)
    assert s["samples"] == 87 and s["pending"] == 1
    assert s["frames"]["total"] == 87 * 30
    assert "samples     87 (1 pending in the journal of an interrupted write)" in format_summary(s).splitlines()


def test_text_summary_lines(msl_path):
    lines = format_summary(summarize(msl_path)).splitlines()
    assert lines[0] == f"store       {msl_path}"
    i = lines.index("labels      5 distinct")
    # every label listed, most samples first, names aligned
    assert lines[i + 4:i + 6] == ["              doctor      15", "              ambulancia  11"]
    assert lines[i + 6] == "signers     none recorded"
    assert "frames      2580 in all; per sample min 30, median 30, max 30" in lines
    assert "fps         unknown for all 86 samples" in lines
    assert "frame size  unknown for all 86 samples" in lines
    assert "              face         0.0%" in lines
    assert "settings    face=contour, spec=msl150" in lines
    assert "read with   numpy 1.26.4" in lines


def test_trimmed_store_has_shorter_frames(tmp_path):
    path = tmp_path / "t.h5"
    cands = array_candidates([MSL_KEYPOINTS], ColumnSpec.parse("msl150"), LAYOUT, options=ArrayOptions(trim=True),
                             geometry=Geometry(fps=30.0))
    import_samples(path, LAYOUT, provenance("numpy", {"trim": True}), cands)
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    present = (kp != 0).any(-1)  # (N, T)
    lengths = [len(p) - np.argmax(p) - np.argmax(p[::-1]) for p in present]
    s = summarize(path)
    assert s["frames"]["total"] == sum(lengths) and s["frames"]["min"] == min(lengths)
    assert s["frames"]["seconds"] == pytest.approx(sum(lengths) / 30.0)
    assert s["detection"]["pose"] == 1.0  # padding gone: a pose in every frame left
