"""Merging stores of real extracted landmarks: shards, duplicates, conflicts, incompatible stores."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from slr_pose.errors import StoreError
from slr_pose.keypoints.backends.holistic import HolisticSpec
from slr_pose.keypoints.extraction import ExtractOptions, run_extraction
from slr_pose.keypoints.inputs import collect_inputs
from slr_pose.keypoints.store.merge import merge_stores
from slr_pose.keypoints.store import PoseStore, StoreWriter
from tests.conftest import ASL_VIDEO, MSL_VIDEOS, needs_holistic

pytestmark = needs_holistic  # its runs extract with legacy Holistic (the Python 3.13 leg has the Tasks API only)
OPTIONS = ExtractOptions(HolisticSpec(), fps=5, max_side=160)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two stores of real clips that share one (identical) sample, and one that reuses an id for another video."""
    tmp = tmp_path_factory.mktemp("shards")
    clips = [str(p) for p in MSL_VIDEOS[:3]]
    a, b, c = tmp / "a.h5", tmp / "b.h5", tmp / "c.h5"
    run_extraction(collect_inputs(clips[:2])[0], a, OPTIONS, progress=False)
    run_extraction(collect_inputs(clips[1:])[0], b, OPTIONS, progress=False)
    impostor = tmp / f"{MSL_VIDEOS[0].stem}.mp4"  # same id as a clip in a.h5, other video
    shutil.copy(ASL_VIDEO, impostor)
    run_extraction(collect_inputs([impostor])[0], c, OPTIONS, progress=False)
    return a, b, c


def assert_same_sample(x, y):
    assert x.info == y.info
    for name in ("xyz", "confidence", "missing", "time"):
        np.testing.assert_array_equal(getattr(x, name), getattr(y, name))


def test_merge_adds_each_sample_once(shards, tmp_path):
    a, b, _ = shards
    out = tmp_path / "all.h5"
    summary = merge_stores([a, b], out)
    assert (summary.added, summary.skipped, summary.conflicts) == (3, 1, [])
    assert summary.lines() == ["added 3, skipped 1 (identical duplicates), conflicts 0"]
    merged = PoseStore(out)
    assert sorted(merged.ids) == sorted(p.stem for p in MSL_VIDEOS[:3])
    assert merged.provenance["extractor"] == PoseStore(a).provenance["extractor"]
    assert merged.provenance["merged_from"] == [str(a), str(b)]
    for src in (PoseStore(a), PoseStore(b)):
        for i, sid in enumerate(src.ids):
            assert_same_sample(merged.read(merged.index_of(sid)), src.read(i))
    # merging again into the result adds nothing
    again = merge_stores([b], out)
    assert (again.added, again.skipped) == (0, 2)


def test_conflicting_ids_are_reported_and_the_first_copy_stays(shards, tmp_path):
    a, _, c = shards
    out = tmp_path / "all.h5"
    summary = merge_stores([a, c], out)
    sid = MSL_VIDEOS[0].stem
    assert summary.added == 2 and summary.skipped == 0
    assert len(summary.conflicts) == 1
    # both 5 fps and 720 px high; the ASL clip is 540 px wide and shorter
    assert summary.conflicts == [f"{sid}: {a} and {c} differ in length, width, source, sha256, meta"]
    merged, first = PoseStore(out), PoseStore(a)
    assert_same_sample(merged.read(merged.index_of(sid)), first.read(first.index_of(sid)))
    assert summary.lines()[0] == f"conflict {summary.conflicts[0]}"


def test_same_video_other_metadata_is_a_conflict(shards, tmp_path):
    a, _, _ = shards
    relabelled = tmp_path / "relabelled.h5"
    src = PoseStore(a)
    with StoreWriter(relabelled, src.layout, src.provenance) as w:
        s = src.read(0)
        w.add(replace(s, info=replace(s.info, label="other")))
    summary = merge_stores([a, relabelled], tmp_path / "all.h5")
    assert summary.conflicts == [f"{src.ids[0]}: {a} and {relabelled} differ in label"]


def test_interrupted_store_merges_with_its_journal(shards, tmp_path):
    a, _, _ = shards
    src = PoseStore(a)
    cut = tmp_path / "cut.h5"
    w = StoreWriter(cut, src.layout, src.provenance)
    w.add(src.read(0))
    w._release()  # as if killed before any commit: journal only
    assert PoseStore(cut).pending == 1
    summary = merge_stores([cut], tmp_path / "all.h5")
    assert summary.added == 1
    assert_same_sample(PoseStore(tmp_path / "all.h5").read(0), src.read(0))


def test_stores_made_differently_do_not_merge(shards, tmp_path):
    a, _, _ = shards
    src = PoseStore(a)
    other = tmp_path / "other.h5"
    prov = {"extractor": {**src.provenance["extractor"],
                          "settings": {**src.provenance["extractor"]["settings"], "max_side": 640}}}
    with StoreWriter(other, src.layout, prov) as w:
        w.add(src.read(0))
    with pytest.raises(StoreError, match=r"other.h5 was made with holistic mediapipe 0.10.21 \(.*max_side=640.*\), "
                                         r".*a.h5 with .*max_side=160.*: cannot merge"):
        merge_stores([a, other], tmp_path / "all.h5")
    assert not (tmp_path / "all.h5").exists()


def test_request_errors(shards, tmp_path):
    a, _, _ = shards
    with pytest.raises(StoreError, match="no stores to merge"):
        merge_stores([], tmp_path / "x.h5")
    with pytest.raises(StoreError, match="is both an input and the output"):
        merge_stores([a], a)
    with pytest.raises(StoreError, match="output folder .*nowhere does not exist"):
        merge_stores([a], tmp_path / "nowhere" / "x.h5")
    with pytest.raises(StoreError, match="no pose store at .*absent.h5"):
        merge_stores([tmp_path / "absent.h5"], tmp_path / "x.h5")
