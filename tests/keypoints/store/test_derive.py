"""derive_store: a new store from a real one, its provenance, reuse of the same derivation, and failures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore
from slr_pose.keypoints.store.derive import derive_store


def _relabel(i, s):
    return dataclasses.replace(s, info=dataclasses.replace(s.info, split="test")) if i % 3 == 0 else None


def test_a_derived_store_holds_the_transformed_samples_and_says_how_it_was_made(msl_store, tmp_path):
    out = derive_store(msl_store, tmp_path / "third.h5", "every third", {"step": 3}, _relabel)
    src, new = PoseStore(msl_store), PoseStore(out)
    assert len(new) == len(range(0, len(src), 3)) == 29
    for j, i in enumerate(range(0, len(src), 3)):
        a, b = src.read(i), new.read(j)
        assert b.info.id == a.info.id and b.info.split == "test"
        np.testing.assert_array_equal(a.xyz, b.xyz)
    derived = new.provenance["derived"]
    assert derived["operation"] == "every third" and derived["settings"] == {"step": 3}
    assert derived["source"] == str(src.path) and new.provenance["extractor"] == src.provenance["extractor"]

    # the same derivation again: the finished store is reused, not rewritten
    before = out.stat().st_mtime_ns
    def never(i, s):
        raise AssertionError("a reused store is not remade")
    assert derive_store(msl_store, out, "every third", {"step": 3}, never, reuse=True) == out
    assert out.stat().st_mtime_ns == before
    with pytest.raises(SlrPoseError, match="made another way"):
        derive_store(msl_store, out, "every third", {"step": 4}, _relabel, reuse=True)
    with pytest.raises(SlrPoseError, match="already exists"):
        derive_store(msl_store, out, "every third", {"step": 3}, _relabel)
    assert len(PoseStore(out)) == 29


def test_a_derivation_that_fails_half_way_leaves_nothing_and_the_source_unchanged(msl_store, tmp_path):
    before = msl_store.read_bytes()

    def fails(i, s):
        if i == 40:
            raise SlrPoseError("sample 40 is bad")
        return s

    out = tmp_path / "half.h5"
    with pytest.raises(SlrPoseError, match="sample 40 is bad"):
        derive_store(msl_store, out, "copy", {}, fails)
    assert not out.exists() and not out.with_name(out.name + ".journal").exists()
    assert msl_store.read_bytes() == before
    with pytest.raises(SlrPoseError, match="is the input store"):
        derive_store(msl_store, msl_store, "copy", {}, lambda i, s: s)
    assert msl_store.read_bytes() == before
