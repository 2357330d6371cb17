"""Damaged stores on real MSL-150 keypoints: one clear line when they open or read, ``verify`` finds every
damaged sample, ``salvage`` keeps every intact one, schema 1 stores are read and upgraded."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from slr_pose.errors import StoreError
from slr_pose.keypoints.store import SCHEMA_VERSION, PoseStore, StoreWriter, landmarks_sha256
from slr_pose.keypoints.store.verify import salvage, verify_store


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def flip_chunk(path: Path, chunk: int, dataset: str = "frames/xyz", n: int = 16) -> tuple[int, int]:
    """Invert ``n`` bytes inside one compressed chunk; returns the frames that chunk holds."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        info = ds.id.get_chunk_info(chunk)
        start, rows = info.chunk_offset[0], ds.chunks[0]
    raw = bytearray(path.read_bytes())
    for k in range(n):
        raw[info.byte_offset + info.size // 2 + k] ^= 0xFF
    path.write_bytes(bytes(raw))
    return start, start + rows


def one_line(e: pytest.ExceptionInfo) -> str:
    text = str(e.value)
    assert "\n" not in text and text, text
    return text


def test_a_fresh_store_has_the_current_schema_and_verifies(msl_store):
    store = PoseStore(msl_store)
    assert store.schema_version == SCHEMA_VERSION == 2
    report = verify_store(msl_store)
    assert report.ok and len(report.intact) == report.samples == 86 and report.checksums == 86
    # the stored checksum is the hash of the arrays read back
    assert store.stored_sha256(5) == landmarks_sha256(store.read(5))


def test_flipped_bytes_in_a_chunk(msl_store, tmp_path):
    bad = copy(msl_store, tmp_path / "flip.h5")
    first, last = flip_chunk(bad, 3)
    store = PoseStore(bad)  # the header is intact: it opens
    offsets, lengths = store._columns["offset"], store.column("length")
    hit = [i for i in range(len(store)) if offsets[i] < last and first < offsets[i] + lengths[i]]
    assert hit
    with pytest.raises(StoreError) as e:
        store.read(hit[0])
    assert one_line(e).startswith(f"{bad}: sample {store.ids[hit[0]]!r} cannot be read (") and "slr-pose verify" in str(e.value)
    store.read(next(i for i in range(len(store)) if i not in hit))  # the others still read

    report = verify_store(bad)
    assert not report.ok and sorted(sid for sid, _ in report.damaged) == sorted(store.ids[i] for i in hit)
    assert all(f"frames/xyz {first}:{last} cannot be read" in why for _, why in report.damaged)
    out = tmp_path / "saved.h5"
    assert salvage(report, out) == 86 - len(hit)
    saved, good = PoseStore(out), PoseStore(msl_store)
    assert sorted(saved.ids) == sorted(set(good.ids) - {store.ids[i] for i in hit})
    for sid in saved.ids[:10]:
        a, b = saved.read(saved.index_of(sid)), good.read(good.index_of(sid))
        np.testing.assert_array_equal(a.xyz, b.xyz)
        assert repr(a.info) == repr(b.info)  # repr: NaN frame rates compare equal
    assert saved.provenance["extractor"] == good.provenance["extractor"]
    assert saved.provenance["salvaged"]["damaged"] == [sid for sid, _ in report.damaged]
    assert verify_store(out).ok


def test_a_silent_change_is_caught_by_the_checksum(msl_store, tmp_path):
    """A value changed through HDF5 itself decompresses fine: only the sample's checksum can tell."""
    bad = copy(msl_store, tmp_path / "silent.h5")
    store = PoseStore(bad)
    off = int(store._columns["offset"][7])
    with h5py.File(bad, "r+") as f:
        f["frames/xyz"][off + 2, 0, 0] += 0.25
    store.read(7)  # readable ...
    report = verify_store(bad)  # ... but not intact
    assert report.damaged == [(store.ids[7], "its landmarks differ from the checksum stored with them")]
    assert len(report.intact) == 85


@pytest.mark.parametrize("damage, message", [
    ("no_xyz", "lacks the dataset frames/xyz"),
    ("bad_provenance", "its provenance is not valid JSON"),
    ("negative_length", "sample 'ambulancia_1' has length -344"),
    ("short_id_column", "sample columns disagree in length (id has 3 rows, length 86)"),
    ("offset_past_end", "owns frames"),
    ("retyped_xyz", "frames/xyz has shape"),
    ("bad_names", "its landmark names are damaged"),
    ("future_schema", "has store schema 9; this slr-pose"),
    ("no_checksums_v2", "lacks the sample column 'landmarks_sha256'"),
    ("duplicate_id", "is stored twice"),
])
def test_damaged_structure_is_one_line_when_the_store_opens(msl_store, tmp_path, damage, message):
    bad = copy(msl_store, tmp_path / f"{damage}.h5")
    with h5py.File(bad, "r+") as f:
        if damage == "no_xyz":
            del f["frames/xyz"]
        elif damage == "bad_provenance":
            f.attrs["provenance"] = "{not json"
        elif damage == "negative_length":
            f["samples/length"][0] = -344
        elif damage == "short_id_column":
            f["samples/id"].resize((3,))
        elif damage == "offset_past_end":
            f["samples/offset"][4] = 10**6
        elif damage == "retyped_xyz":
            del f["frames/xyz"]
            f["frames/xyz"] = np.zeros((5, 3), np.int32)
        elif damage == "bad_names":
            f.attrs["landmark_names"] = np.array(["nogroup"] * 3, dtype=h5py.string_dtype())
        elif damage == "future_schema":
            f.attrs["schema_version"] = 9
        elif damage == "no_checksums_v2":
            del f["samples/landmarks_sha256"]
        elif damage == "duplicate_id":
            f["samples/id"][1] = f["samples/id"][0]
    before = bad.read_bytes()
    with pytest.raises(StoreError) as e:
        PoseStore(bad)
    assert message in one_line(e) and str(bad) in str(e.value)
    with pytest.raises(StoreError):  # writers refuse it too, and leave it as it was
        StoreWriter(bad, PoseStore(msl_store).layout, PoseStore(msl_store).provenance)
    assert bad.read_bytes() == before and not bad.with_name(bad.name + ".journal").exists()
    report = verify_store(bad)
    assert not report.ok


def test_verify_lists_every_sample_a_broken_column_hides(msl_store, tmp_path):
    bad = copy(msl_store, tmp_path / "cols.h5")
    with h5py.File(bad, "r+") as f:
        f["samples/id"].resize((3,))
        f["samples/length"][1] = -5
    report = verify_store(bad)
    damaged = dict(report.damaged)
    assert len(report.damaged) == 84 and report.intact == [0, 2]
    assert "are not within" in damaged[PoseStore(msl_store).ids[1]] and damaged["#3"].endswith("is lost")
    assert salvage(report, tmp_path / "two.h5") == 2


def test_lost_layout_cannot_be_salvaged(msl_store, tmp_path):
    bad = copy(msl_store, tmp_path / "nolayout.h5")
    with h5py.File(bad, "r+") as f:
        del f.attrs["landmark_names"]
    report = verify_store(bad)
    assert "the root attribute 'landmark_names' is missing" in report.problems
    with pytest.raises(StoreError, match="layout is lost"):
        salvage(report, tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_not_hdf5_at_all(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(StoreError) as e:
        PoseStore(junk)
    assert one_line(e).startswith(f"{junk} is not a readable HDF5 file")
    report = verify_store(junk)
    assert report.problems and "not a readable HDF5 file" in report.problems[0]


def make_schema_1(path: Path) -> None:
    """Turn a store into what slr-pose wrote before schema 2: no checksum column."""
    with h5py.File(path, "r+") as f:
        del f["samples/landmarks_sha256"]
        f.attrs["schema_version"] = 1


def test_schema_1_is_read_and_upgraded_by_the_next_write(msl_store, tmp_path):
    old = copy(msl_store, tmp_path / "v1.h5")
    make_schema_1(old)
    store = PoseStore(old)
    assert store.schema_version == 1 and len(store) == 86 and store.stored_sha256(0) == ""
    report = verify_store(old)
    assert report.ok and report.checksums == 0 and "no checksums (schema 1 store)" in report.lines()[-1]
    extra = store.read(0)
    extra.info = replace(extra.info, id="new_one")
    with StoreWriter(old, store.layout, store.provenance) as w:
        w.add(extra)
    upgraded = PoseStore(old)
    assert upgraded.schema_version == 2 and len(upgraded) == 87
    assert [upgraded.stored_sha256(i) for i in range(87)] == [landmarks_sha256(upgraded.read(i)) for i in range(87)]
    assert verify_store(old).checksums == 87


def test_upgrade_of_a_damaged_schema_1_store_is_refused_and_keeps_it(msl_store, tmp_path):
    old = copy(msl_store, tmp_path / "v1bad.h5")
    make_schema_1(old)
    flip_chunk(old, 2)
    before = old.read_bytes()
    store = PoseStore(old)
    sample = store.read(len(store) - 1)
    sample.info = replace(sample.info, id="another")
    with pytest.raises(StoreError, match="while upgrading the store to schema 2.*--salvage"):
        with StoreWriter(old, store.layout, store.provenance) as w:
            w.add(sample)
    assert old.read_bytes() == before
    # the sample it was given waits in the journal: nothing was lost
    assert "another" in PoseStore(old)
