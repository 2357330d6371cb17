"""The frame cache on the real MSL-150 videos: build, read back, resume, SIGKILL, bad videos."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.video import VideoFrames
from slr_pose.rgb.cache import CacheError, FrameCache, failure_report_path
from slr_pose.rgb.cache_build import CropSettings, build_cache
from slr_pose.rgb.crop import crop_frames, signer_box
from tests.rgb.conftest import EXTRACT_FPS, EXTRACT_MAX_SIDE, REPO

SETTINGS = CropSettings(side=112, jpeg_quality=90)


@pytest.fixture(scope="module")
def built(msl_rgb, tmp_path_factory):
    store, root = msl_rgb
    cache = tmp_path_factory.mktemp("cache") / "frames.h5"
    summary = build_cache(store, cache, SETTINGS, root=root)
    return cache, summary


def direct_crops(store: PoseStore, root: Path, sid: str, side: int) -> np.ndarray:
    """What the cache should hold: the video decoded as the store was made, cropped, no JPEG."""
    s = store.read(store.index_of(sid))
    frames = np.stack([f.image for f in VideoFrames(root / s.info.source, fps=EXTRACT_FPS, max_side=EXTRACT_MAX_SIDE)])
    box = signer_box(s, store.layout, SETTINGS.margin, size=(frames.shape[2], frames.shape[1]))
    return crop_frames(frames, box, side)


def test_build_then_read_back_equals_a_direct_decode(built, msl_rgb):
    cache_path, summary = built
    store, root = PoseStore(msl_rgb[0]), msl_rgb[1]
    assert (summary.done, summary.skipped, summary.failures) == (5, 0, [])
    assert summary.frames == int(store.column("length").sum())
    assert not failure_report_path(cache_path).exists()
    assert not cache_path.with_name("frames.h5.journal").exists()
    cache = FrameCache(cache_path)
    assert sorted(cache.ids) == sorted(store.ids) and cache.side == 112
    for sid in store.ids:
        assert cache.length(sid) == store.info(store.index_of(sid)).length  # frame t is the store's frame t
        want = direct_crops(store, root, sid, 112).astype(np.float64)
        got = cache.frames(sid).astype(np.float64)
        assert got.shape == want.shape
        mse = ((got - want) ** 2).mean()
        assert 10 * np.log10(255**2 / mse) > 32, sid  # JPEG quality 90: well above 30 dB PSNR
        assert np.abs(got - want).mean() < 3.0


def test_clip_reads_any_indices(built):
    cache = FrameCache(built[0])
    sid = "doctor_001"
    every = cache.frames(sid)
    clip = cache.clip(sid, [3, 0, 7, 7, 30])
    assert clip.shape == (5, 112, 112, 3) and clip.dtype == np.uint8
    assert np.array_equal(clip, every[[3, 0, 7, 7, 30]])
    with pytest.raises(CacheError, match="has 31 frames"):
        cache.clip(sid, [31])
    with pytest.raises(CacheError, match="no sample"):
        cache.clip("nobody", [0])


def test_provenance_and_hashes(built, msl_rgb):
    cache = FrameCache(built[0])
    crop = cache.provenance["crop"]
    assert (crop["side"], crop["jpeg_quality"], crop["fps"], crop["max_side"]) == (112, 90, 15.0, 320)
    assert cache.provenance["decoder"].startswith("opencv ")
    assert cache.provenance["extractor"] == PoseStore(msl_rgb[0]).provenance["extractor"]
    for sid in cache.ids:
        video = msl_rgb[1] / "videos" / f"{sid}.mp4"
        assert cache.sha256(sid) == hashlib.sha256(video.read_bytes()).hexdigest()
        x0, y0, side, found = cache.box(sid)
        assert found and side <= 180 and x0 >= 0 and x0 + side <= 320


def test_a_rerun_skips_everything_and_leaves_the_file_as_it_was(built, msl_rgb):
    cache_path = built[0]
    before = cache_path.read_bytes()
    summary = build_cache(msl_rgb[0], cache_path, SETTINGS, root=msl_rgb[1])
    assert (summary.done, summary.skipped, summary.failures) == (0, 5, [])
    assert cache_path.read_bytes() == before


def test_other_settings_are_refused_without_a_trace(built, msl_rgb):
    cache_path = built[0]
    before = cache_path.read_bytes()
    with pytest.raises(SlrPoseError, match=r"crop\.side 112 -> 160.*new cache") as e:
        build_cache(msl_rgb[0], cache_path, CropSettings(side=160), root=msl_rgb[1])
    assert "\n" not in str(e.value)
    assert cache_path.read_bytes() == before
    assert not cache_path.with_name("frames.h5.journal").exists()


def test_missing_and_changed_videos_are_one_failure_row_each(msl_rgb, tmp_path):
    store, root = msl_rgb
    other = tmp_path / "elsewhere"
    (other / "videos").mkdir(parents=True)
    for v in (root / "videos").glob("*.mp4"):
        if v.stem != "hoy_001":  # missing
            shutil.copy(v, other / "videos" / v.name)
    shutil.copy(root / "videos" / "yo_001.mp4", other / "videos" / "dolor_001.mp4")  # another video under its name
    cache = tmp_path / "frames.h5"
    summary = build_cache(store, cache, SETTINGS, root=other)
    assert summary.done == 3 and len(summary.failures) == 2
    with open(failure_report_path(cache), newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"hoy_001", "dolor_001"}
    assert rows["hoy_001"]["reason"] == f"video {other / 'videos' / 'hoy_001.mp4'} not found"
    assert "changed since its landmarks were extracted" in rows["dolor_001"]["reason"]
    assert all("\n" not in r["reason"] for r in rows.values())
    assert sorted(FrameCache(cache).ids) == ["ambulancia_001", "doctor_001", "yo_001"]
    # the videos come back: the rerun caches just those two and removes the report
    summary = build_cache(store, cache, SETTINGS, root=root)
    assert (summary.done, summary.skipped, summary.failures) == (2, 3, [])
    assert not failure_report_path(cache).exists()
    assert len(FrameCache(cache)) == 5


def test_not_a_cache_is_refused(msl_rgb, tmp_path):
    with pytest.raises(CacheError, match="not a frame cache"):
        FrameCache(msl_rgb[0])  # a pose store
    with pytest.raises(CacheError, match="not a frame cache"):
        build_cache(msl_rgb[0], msl_rgb[0], SETTINGS, root=msl_rgb[1])  # never written over
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(CacheError, match="not a readable frame cache"):
        FrameCache(junk)


BUILD = """
import sys
from slr_pose.rgb.cache_build import CropSettings, build_cache
build_cache(sys.argv[1], sys.argv[2], CropSettings(side=112, jpeg_quality=90), root=sys.argv[3], commit_min_frames=1)
"""


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_readable_cache_and_the_rerun_completes(built, msl_rgb, tmp_path):
    store, root = msl_rgb
    cache = tmp_path / "frames.h5"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    seen, interrupted = [], 0
    # each run resumes the last one; the kills land later and later, in decoding, journaling and commits
    for delay in 0.3 + 0.04 * np.arange(60):
        proc = subprocess.Popen([sys.executable, "-c", BUILD, str(store), str(cache), str(root)], env=env)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
            interrupted += 1
        proc.wait()
        if cache.exists():  # the old complete cache or the new one: it opens and every frame reads
            c = FrameCache(cache)
            for sid in c.ids:
                assert c.frames(sid).shape == (c.length(sid), 112, 112, 3)
            seen.append(len(c))
        if finished:
            break
    assert interrupted >= 2 and len(set(seen)) >= 2  # killed mid-build, with partial caches in between
    assert seen == sorted(seen)  # nothing finished is ever lost
    summary = build_cache(store, cache, SETTINGS, root=root)  # the rerun folds the journal in and completes
    assert summary.failures == [] and summary.done + summary.skipped == 5
    assert not cache.with_name("frames.h5.journal").exists()
    done, clean = FrameCache(cache), FrameCache(built[0])
    for sid in clean.ids:
        assert np.array_equal(done.frames(sid), clean.frames(sid))
