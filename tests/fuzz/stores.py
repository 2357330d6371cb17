"""Fuzz target: pose stores, damaged byte by byte and structure by structure.

Seeds are a real store (6 MSL-150 sequences) and the same store with three
more samples waiting in its journal. Damage is drawn by hypothesis: byte
flips, truncation, insertion and deletion anywhere in the file (headers,
B-trees, compressed chunks), deleted or retyped datasets and attributes, and
edited journal entries.

The property: opening, reading every sample, the missing mask, and
``verify`` either work, giving arrays of the layout's shape, or raise one
:class:`StoreError` on one line; ``verify`` never raises for damage. And
they agree: a sample that ``verify`` calls intact reads back unchanged.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from tests.fuzz.mutations import BYTE_EDITS, ODD_TEXT, apply_bytes
from tests.fuzz.property import clean, scratch

DATASETS = ["frames/xyz", "frames/confidence", "frames/missing", "frames/time", "samples/id", "samples/offset",
            "samples/length", "samples/label", "samples/landmarks_sha256", "samples/fps", "frames", "samples"]  # fmt: skip
ATTRS = ["format", "schema_version", "layout", "landmark_names", "groups", "provenance"]
VALUES = st.one_of(ODD_TEXT, st.integers(-(2**31), 2**31), st.sampled_from([np.zeros(3), np.array(["a", "b"]), 1.5]))

STRUCTURE_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("delete"), st.sampled_from(DATASETS)),
        st.tuples(st.just("retype"), st.sampled_from(DATASETS), st.sampled_from(["i4", "f8", "S3", "2d", "empty"])),
        st.tuples(st.just("delattr"), st.sampled_from(ATTRS)),
        st.tuples(st.just("setattr"), st.sampled_from(ATTRS), VALUES),
        st.tuples(st.just("set"), st.sampled_from(["samples/offset", "samples/length", "samples/fps"]),
                  st.integers(0, 8), st.integers(-(2**40), 2**40)),
    ),
    min_size=1, max_size=3,
)  # fmt: skip

STORE_CASES = st.one_of(
    st.tuples(st.just("bytes"), st.booleans(), BYTE_EDITS.filter(bool)),
    st.tuples(st.just("structure"), st.booleans(), STRUCTURE_EDITS),
    st.tuples(st.just("journal"), st.just(True), BYTE_EDITS.filter(bool)),
)


@cache
def seed_dir() -> Path:
    """The two seed stores, made once per process in a folder that lives as long as it."""
    import atexit
    import tempfile

    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates, array_provenance
    from slr_pose.keypoints.layout import holistic_layout
    from slr_pose.keypoints.store import PoseStore, StoreWriter
    from tests.conftest import MSL_KEYPOINTS

    d = Path(tempfile.mkdtemp(prefix="slr-fuzz-stores-"))
    atexit.register(shutil.rmtree, d, True)
    layout, spec = holistic_layout("contour"), ColumnSpec.parse("msl150")
    cands = array_candidates([MSL_KEYPOINTS], spec, layout, options=ArrayOptions(trim=True), language="mfs")
    prov = array_provenance(spec, layout, ArrayOptions(trim=True))
    import_samples(d / "plain.h5", layout, prov, cands[:6])
    shutil.copyfile(d / "plain.h5", d / "pending.h5")
    store = PoseStore(d / "plain.h5")
    writer = StoreWriter(d / "pending.h5", layout, store.provenance)
    for c in cands[6:9]:
        writer.add(c.load())
    writer._release()  # as a kill would leave it: three samples journaled, never committed
    return d


def _edit_structure(path: Path, edits) -> None:
    import h5py

    try:
        f = h5py.File(path, "r+")
    except OSError:
        return
    with f:
        for kind, *args in edits:
            try:
                if kind == "delete" and args[0] in f:
                    del f[args[0]]
                elif kind == "retype" and args[0] in f:
                    name, how = args
                    n = getattr(f[name], "shape", (4,))[0] if hasattr(f[name], "shape") else 4
                    del f[name]
                    data = {"i4": np.arange(n, dtype="i4"), "f8": np.full(n, np.nan), "S3": np.array([b"abc"] * n),
                            "2d": np.zeros((n, 2)), "empty": np.zeros(0)}[how]  # fmt: skip
                    f[name] = data
                elif kind == "delattr" and args[0] in f.attrs:
                    del f.attrs[args[0]]
                elif kind == "setattr":
                    f.attrs[args[0]] = args[1]
                elif kind == "set" and args[0] in f:
                    ds = f[args[0]]
                    if ds.shape and ds.shape[0]:
                        ds[args[1] % ds.shape[0]] = args[2]
            except (TypeError, ValueError, KeyError, OSError):
                continue  # an edit h5py itself refuses is simply not made


def damaged_store(case, folder: Path) -> Path:
    kind, pending, edits = case
    src = seed_dir() / ("pending.h5" if pending else "plain.h5")
    path = folder / "s.h5"
    shutil.copyfile(src, path)
    journal = src.with_name(src.name + ".journal")
    if journal.exists():
        shutil.copytree(journal, folder / "s.h5.journal")
    if kind == "bytes":
        path.write_bytes(apply_bytes(path.read_bytes(), edits))
    elif kind == "structure":
        _edit_structure(path, edits)
    else:
        entries = sorted((folder / "s.h5.journal").glob("*.npz"))
        entry = entries[len(edits) % len(entries)]
        entry.write_bytes(apply_bytes(entry.read_bytes(), edits))
    return path


def check_store(case) -> None:
    """Readers: PoseStore (open, read, missing_mask), verify_store and salvage."""
    from slr_pose.keypoints.store import PoseStore
    from slr_pose.keypoints.store.verify import salvage, verify_store

    with scratch() as folder:
        path = damaged_store(case, folder)
        store = clean(lambda: PoseStore(path))
        read: dict[str, np.ndarray] = {}
        if store is not None:
            v, g = store.layout.num_landmarks, len(store.layout.groups)
            for i in range(len(store)):
                sample = clean(lambda: store.read(i))
                if sample is not None:
                    t = len(sample.xyz)
                    assert t == sample.info.length >= 1
                    assert sample.xyz.shape == (t, v, 3) and sample.confidence.shape == (t, v)
                    assert sample.missing.shape == (t, g) and sample.time.shape == (t,)
                    read[sample.info.id] = sample.xyz
            mask = clean(store.missing_mask)
            assert mask is None or mask.shape[1] == g
            store.close()
        report = clean(lambda: verify_store(path))
        assert report is not None, "verify raised for a file that exists"
        report.lines()
        if report.schema_version >= 2:  # every sample verify calls intact had its checksum compared ...
            seed = PoseStore(seed_dir() / "plain.h5")
            for info in report.rows:  # ... so it is the sample as written, and reads back so
                if info.id in seed:
                    np.testing.assert_array_equal(read.get(info.id, seed.read(seed.index_of(info.id)).xyz),
                                                  seed.read(seed.index_of(info.id)).xyz)
        if report.layout is not None and report.intact:
            copied = clean(lambda: salvage(report, folder / "saved.h5"))
            if copied is not None:
                assert copied >= len(report.intact)
                assert verify_store(folder / "saved.h5").ok
