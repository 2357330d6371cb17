"""The pose store: round trip, journal, crash safety, versioning, bad input."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import (
    SCHEMA_VERSION,
    PoseStore,
    Sample,
    SampleInfo,
    StoreWriter,
)

LAYOUT = holistic_layout("none")
PROV = {"extractor": {"backend": "test", "version": "1", "settings": {"face": "none"}}}


def make_sample(i: int, frames: int = 12, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed + i)
    v, g = len(LAYOUT), len(LAYOUT.groups)
    missing = rng.random((frames, g)) < 0.3
    xyz = rng.random((frames, v, 3), dtype=np.float32)
    xyz[missing[:, LAYOUT.group_index]] = np.nan
    conf = np.where(missing[:, LAYOUT.group_index], 0, rng.random((frames, v))).astype(np.float32)
    info = SampleInfo(id=f"clip{i}", length=frames, fps=25.0, width=640, height=360, label=f"g{i % 3}", signer=f"s{i % 2}",
                      language="lsm", split="train", sign_start=1, sign_end=frames - 2, sha256=f"h{i}")
    return Sample(info, xyz, conf, missing, np.arange(frames, dtype=np.float32) / 25)


def assert_same(a: Sample, b: Sample) -> None:
    assert a.info == b.info
    np.testing.assert_array_equal(a.xyz, b.xyz)  # NaN == NaN here
    np.testing.assert_array_equal(a.confidence, b.confidence)
    np.testing.assert_array_equal(a.missing, b.missing)
    np.testing.assert_array_equal(a.time, b.time)


def test_round_trip(tmp_path):
    samples = [make_sample(i, frames=5 + i) for i in range(6)]
    with StoreWriter(tmp_path / "s.h5", LAYOUT, PROV) as w:
        for s in samples:
            w.add(s)
    store = PoseStore(tmp_path / "s.h5")
    assert len(store) == 6 and store.pending == 0
    assert store.layout == LAYOUT
    assert store.provenance["extractor"] == PROV["extractor"]
    assert store.provenance["slr_pose_version"] and store.provenance["created"]
    for s in samples:
        got = store.read(store.index_of(s.info.id))
        assert_same(got, s)
    assert store.column("label").tolist() == [s.info.label for s in samples]
    assert store.column("length").tolist() == list(range(5, 11))
    # the journal folder is gone after a clean close
    assert not (tmp_path / "s.h5.journal").exists()
    with h5py.File(tmp_path / "s.h5") as f:
        assert f.attrs["schema_version"] == SCHEMA_VERSION
        assert f["frames/xyz"].shape == (sum(range(5, 11)), len(LAYOUT), 3)


def test_valid_mask_follows_missing_groups():
    s = make_sample(0)
    valid = s.valid(LAYOUT)
    assert valid.shape == (12, len(LAYOUT))
    np.testing.assert_array_equal(valid, ~s.missing[:, LAYOUT.group_index])


def test_appending_keeps_what_was_stored(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
    with StoreWriter(path, LAYOUT, PROV) as w:
        assert "clip0" in w and w.sha256_of("clip0") == "h0"
        w.add(make_sample(1))
    store = PoseStore(path)
    assert store.ids == ["clip0", "clip1"]
    assert_same(store.read(0), make_sample(0))


def test_uncommitted_samples_are_readable_and_folded_by_next_writer(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
    w = StoreWriter(path, LAYOUT, PROV)
    w.add(make_sample(1))
    w.add(make_sample(2))
    w._release()  # as if the process died: no commit, lock gone
    store = PoseStore(path)
    assert len(store) == 3 and store.pending == 2
    assert_same(store.read(store.index_of("clip2")), make_sample(2))
    with StoreWriter(path, LAYOUT, PROV):
        pass
    store = PoseStore(path)
    assert store.pending == 0 and store.ids == ["clip0", "clip1", "clip2"]


def test_journal_only_store_opens(tmp_path):
    path = tmp_path / "new.h5"
    w = StoreWriter(path, LAYOUT, PROV)
    w.add(make_sample(4))
    w._release()
    assert not path.exists()
    store = PoseStore(path)
    assert store.ids == ["clip4"] and store.layout == LAYOUT
    assert_same(store.read(0), make_sample(4))


def test_kill_during_commit_leaves_previous_store_and_journal(tmp_path, monkeypatch):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
    before = path.read_bytes()
    w = StoreWriter(path, LAYOUT, PROV)
    w.add(make_sample(1))

    import slr_pose.keypoints.store.writer as store_mod

    def dies(*a, **k):
        raise KeyboardInterrupt  # stands in for a kill between copy and replace

    monkeypatch.setattr(store_mod, "_append", dies)
    with pytest.raises(KeyboardInterrupt):
        w.commit()
    w._release()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".s.h5.*.tmp"))
    assert PoseStore(path).ids == ["clip0", "clip1"]


def test_damaged_journal_entry_is_not_a_sample(tmp_path):
    path = tmp_path / "s.h5"
    w = StoreWriter(path, LAYOUT, PROV)
    w.add(make_sample(0))
    w._release()
    (tmp_path / "s.h5.journal" / "cut.npz").write_bytes(b"PK\x03\x04 truncated")
    assert PoseStore(path).ids == ["clip0"]
    with StoreWriter(path, LAYOUT, PROV):
        pass
    assert PoseStore(path).ids == ["clip0"]


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV):
        with pytest.raises(StoreError, match="being written by another process"):
            StoreWriter(path, LAYOUT, PROV)


def test_duplicate_id_is_refused_and_store_unchanged(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
        with pytest.raises(StoreError, match="already in"):
            w.add(make_sample(0, seed=9))
    assert_same(PoseStore(path).read(0), make_sample(0))


def test_other_extractor_settings_are_refused(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
    other = {"extractor": {"backend": "test", "version": "1", "settings": {"face": "full"}}}
    with pytest.raises(StoreError, match="was made with test 1 \\(face=none\\).*write to a new store"):
        StoreWriter(path, LAYOUT, other)
    with pytest.raises(StoreError, match="holds layout"):
        StoreWriter(path, holistic_layout("contour"), PROV)
    assert PoseStore(path).ids == ["clip0"]


def test_bad_sample_shapes(tmp_path):
    s = make_sample(0)
    bad = Sample(s.info, s.xyz[:, :10], s.confidence, s.missing, s.time)
    with StoreWriter(tmp_path / "s.h5", LAYOUT, PROV) as w:
        with pytest.raises(StoreError, match="xyz has shape"):
            w.add(bad)
        with pytest.raises(StoreError, match="no frames"):
            w.add(Sample(s.info, s.xyz[:0], s.confidence[:0], s.missing[:0], s.time[:0]))


def test_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="no pose store"):
        PoseStore(tmp_path / "absent.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(StoreError, match="not a readable HDF5 file"):
        PoseStore(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(StoreError, match="not an slr-pose store"):
        PoseStore(tmp_path / "other.h5")


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        w.add(make_sample(0))
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(StoreError, match="upgrade slr-pose"):
        PoseStore(path)


def test_reader_in_dataloader_workers(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "s.h5"
    with StoreWriter(path, LAYOUT, PROV) as w:
        for i in range(8):
            w.add(make_sample(i, frames=6))
    store = PoseStore(path)
    store.read(0)  # an open handle in the parent must not leak into workers

    class DS(torch.utils.data.Dataset):
        def __len__(self):
            return len(store)

        def __getitem__(self, i):
            s = store.read(i)
            return i, os.getpid(), float(np.nansum(s.xyz))

    loader = torch.utils.data.DataLoader(DS(), batch_size=2, num_workers=2)
    got = {int(i): s for b in loader for i, s in zip(b[0], b[2].tolist())}
    pids = {int(p) for b in loader for p in b[1]}
    assert len(pids) == 2 and os.getpid() not in pids
    for i in range(8):
        assert got[i] == pytest.approx(float(np.nansum(make_sample(i, frames=6).xyz)), rel=1e-5)
