"""Pose store chunking and compression: file size, write time and random-access reads.

Data (all real MediaPipe Holistic landmarks):

* the 6 bundled clips extracted with ``slr-pose extract`` defaults (every
  frame, full size; 366 frames, pose visibility as confidence);
* the 42 Kaggle asl-signs parquet sequences in ``../shared/data`` (when present;
  no visibility there, so confidence is 1 for found points).

Both are written in the default ``holistic-face-contour`` layout (203
landmarks) and repeated under new ids to ``--frames`` frames, the size of a
small dataset (a sample spans ~100 KB of float32, wider than the 32 KB
deflate window, so repeats do not compress against each other).

For each chunk length (frames per HDF5 chunk) and filter, the store is written
with :class:`~slr_pose.keypoints.store.StoreWriter`, then ``--reads`` random
samples are read through :class:`~slr_pose.keypoints.store.PoseStore` chunk by
chunk (``cache_bytes=0``: the access pattern of a shuffled DataLoader on a
store too large for memory; the file is in the page cache, so this measures
HDF5 and decompression, not the disk).

``--read-vs-normalise`` instead measures, in one run on one thread, what one
sample costs to read and to normalise, on the 1600 real 30-frame Bhutanese
sequences of ``../shared/data`` (or the grown bundled clips without it):
reading chunk by chunk, the first pass of a store read into memory
(:data:`~slr_pose.keypoints.store.reader.CACHE_BYTES`), later passes, and the
default :class:`~slr_pose.graphs.normalisation.Preprocessor`. It writes
``benchmarks/results/store_read.md``.

Usage::

    .venv/bin/python benchmarks/store_layout.py --frames 30000
    .venv/bin/python benchmarks/store_layout.py --read-vs-normalise
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import slr_pose.keypoints.store.writer as store_mod  # where a commit reads the chunking
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.backends import create_spec, native_logs_silenced
from slr_pose.keypoints.extraction import ExtractOptions, run_extraction
from slr_pose.keypoints.inputs import collect_inputs
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLR_POSE_SHARED_DATA", REPO.parent / "shared" / "data"))
CLIPS = sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4")) + [REPO / "data" / "clips" / "asl_test_video.mp4"]

FILTERS = {
    "none": {},
    "gzip 1": {"compression": "gzip", "compression_opts": 1},
    "gzip 1 + shuffle": {"compression": "gzip", "compression_opts": 1, "shuffle": True},
    "gzip 4 + shuffle": {"compression": "gzip", "compression_opts": 4, "shuffle": True},
    "lzf": {"compression": "lzf"},
    "lzf + shuffle": {"compression": "lzf", "shuffle": True},
}
CHUNKS = (32, 64, 256, 1024)


def extracted_samples(tmp: Path) -> tuple[list[Sample], Layout, dict]:
    items = collect_inputs([str(c) for c in CLIPS])[0]
    options = ExtractOptions(create_spec("holistic"), face="contour")
    with native_logs_silenced():
        run_extraction(items, tmp / "real.h5", options, progress=False)
    store = PoseStore(tmp / "real.h5")
    return [store.read(i) for i in range(len(store))], store.layout, store.provenance


def kaggle_samples(layout: Layout) -> list[Sample]:
    """The Kaggle parquet sequences in ``layout`` (face points the layout lacks are dropped)."""
    root = SHARED / "gislr_asl_signs" / "parquet"
    files = sorted(root.rglob("*.parquet"))
    if not files:
        return []
    import pyarrow.parquet as pq

    names = {"pose": mpn.POSE_NAMES, "left_hand": mpn.HAND_NAMES, "right_hand": mpn.HAND_NAMES}
    position = {n: i for i, n in enumerate(layout.names)}
    out = []
    for f in files:
        t = pq.read_table(f, columns=["frame", "type", "landmark_index", "x", "y", "z"]).to_pydict()
        frames = sorted(set(t["frame"]))
        row_of = {fr: i for i, fr in enumerate(frames)}
        xyz = np.full((len(frames), len(layout), 3), np.nan, np.float32)
        for fr, typ, k, x, y, z in zip(t["frame"], t["type"], t["landmark_index"], t["x"], t["y"], t["z"]):
            name = f"face/{k}" if typ == "face" else f"{typ}/{names[typ][k]}"
            j = position.get(name)
            if j is not None:
                xyz[row_of[fr], j] = (x, y, z)
        found = np.isfinite(xyz).all(-1)
        missing = np.stack([~found[:, layout.group_slices[g]].any(1) for g in layout.groups], 1)
        xyz[missing[:, layout.group_index]] = np.nan
        conf = (~missing[:, layout.group_index]).astype(np.float32)
        info = SampleInfo(id=f"kaggle/{f.stem}", fps=30.0, source=str(f.relative_to(SHARED)))
        out.append(Sample(info, xyz, conf, missing, np.asarray(frames, np.float32) / 30))
    return out


def grow(samples: list[Sample], frames: int) -> list[Sample]:
    """Repeat ``samples`` under new ids until they hold ``frames`` frames."""
    out, total, copy = [], 0, 0
    while total < frames:
        for s in samples:
            out.append(replace(s, info=replace(s.info, id=f"{s.info.id}#{copy}")))
            total += len(s.xyz)
            if total >= frames:
                break
        copy += 1
    return out


def write(path: Path, samples: list[Sample], layout: Layout, provenance: dict, chunk: int, filt: dict) -> float:
    store_mod.CHUNK_FRAMES, store_mod.COMPRESSION = chunk, filt
    t0 = time.perf_counter()
    with StoreWriter(path, layout, {"extractor": provenance["extractor"]}) as w:
        for s in samples:
            w.add(s)
    return time.perf_counter() - t0


def random_reads(path: Path, n: int, seed: int = 0) -> float:
    """Median over 3 passes of the mean seconds to read one random sample."""
    store = PoseStore(path, cache_bytes=0)
    order = np.random.default_rng(seed).integers(0, len(store), n)
    passes = []
    for _ in range(3):
        t0 = time.perf_counter()
        for i in order:
            store.read(int(i))
        passes.append((time.perf_counter() - t0) / n)
    store.close()
    return float(np.median(passes))


def read_vs_normalise(tmp: Path, out: Path) -> None:
    import datetime
    import platform

    import torch

    from slr_pose.graphs.normalisation import PreprocessConfig, Preprocessor
    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates, array_provenance
    from slr_pose.keypoints.layout import holistic_layout

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    bhutan = SHARED / "bhutanese_sl16" / "bhutanese_sl16_258.npz"
    path = tmp / "read.h5"
    if bhutan.exists():
        layout, spec = holistic_layout("contour"), ColumnSpec.parse("258")
        import_samples(path, layout, array_provenance(spec, layout, ArrayOptions()),
                       array_candidates([bhutan], spec, layout, language="dzo"))
        data = "the 1600 real Bhutanese SL16 sequences (30 frames each; `../shared/data/bhutanese_sl16`)"
    else:
        real, layout, provenance = extracted_samples(tmp)
        write(path, grow(real, 48_000), layout, provenance, store_mod.CHUNK_FRAMES, store_mod.COMPRESSION)
        data = "the bundled extracted clips grown to 48,000 frames"
    n = len(PoseStore(path))
    order = [int(i) for i in np.random.default_rng(0).permutation(n)]

    def one_pass(store: PoseStore) -> float:
        t0 = time.perf_counter()
        for i in order:
            store.read(i)
        return (time.perf_counter() - t0) / n

    rows = {}
    rows["chunk by chunk (`cache_bytes=0`), median of 3 passes"] = float(np.median(
        [one_pass(PoseStore(path, cache_bytes=0)) for _ in range(3)]))
    cold = []
    for _ in range(3):
        store = PoseStore(path)
        cold.append(one_pass(store))  # opens, reads every frame into memory, then slices
    rows["first pass, store read into memory on its first read (median of 3)"] = float(np.median(cold))
    rows["later passes, from memory (median of 3)"] = float(np.median([one_pass(store) for _ in range(3)]))
    pre = Preprocessor(store.layout, PreprocessConfig())
    samples = [store.read(i) for i in order]
    for s in samples[:20]:
        pre(s)  # compiled and warm
    t0 = time.perf_counter()
    for s in samples:
        pre(s)
    norm = (time.perf_counter() - t0) / n
    load_after = os.getloadavg()
    lines = [
        "# Reading a sample vs normalising it",
        "",
        f"Run {datetime.date.today()} on {platform.platform()} ({os.cpu_count()} CPUs, no GPU; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after), one thread. Data: {data}, stored with the "
        f"default chunks ({store_mod.CHUNK_FRAMES} frames, gzip 1 + shuffle), read in a random order.",
        "`python benchmarks/store_layout.py --read-vs-normalise`",
        "",
        "| step | ms per sample | vs normalising it |",
        "|---|---:|---:|",
    ]
    lines += [f"| read: {k} | {1000 * v:.3f} | {v / norm:.2f}x |" for k, v in rows.items()]
    lines += [f"| normalise: default `Preprocessor` (57 landmarks, 64 frames, joint + bone) | {1000 * norm:.3f} | 1.00x |",
              "",
              "A first pass costs what decompressing every chunk once costs (gzip is the floor there); every",
              "later pass (each training epoch after the first) reads from memory. Chunk by chunk, a random",
              "read decompresses one or two whole 64-frame chunks for 30 frames."]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30000, help="frames in each benchmark store")
    ap.add_argument("--reads", type=int, default=300, help="random sample reads per pass")
    ap.add_argument("--chunks", default=",".join(map(str, CHUNKS)), help="chunk lengths to try, e.g. 32,64")
    ap.add_argument("--filters", default=",".join(FILTERS), help=f"filters to try, from: {', '.join(FILTERS)}")
    ap.add_argument("--read-vs-normalise", action="store_true", help="measure read and normalisation cost instead")
    args = ap.parse_args()
    if args.read_vs_normalise:
        tmp = Path(tempfile.mkdtemp(prefix="slr-read-"))
        try:
            read_vs_normalise(tmp, REPO / "benchmarks" / "results" / "store_read.md")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    chunks = [int(c) for c in args.chunks.split(",")]
    filters = {name.strip(): FILTERS[name.strip()] for name in args.filters.split(",")}
    saved = store_mod.CHUNK_FRAMES, store_mod.COMPRESSION
    tmp = Path(tempfile.mkdtemp(prefix="slr-layout-"))
    try:
        real, layout, provenance = extracted_samples(tmp)
        kaggle = kaggle_samples(layout)
        base = real + kaggle
        samples = grow(base, args.frames)
        n_frames = sum(len(s.xyz) for s in samples)
        raw = n_frames * len(layout) * (3 * 4 + 4) + n_frames * (len(layout.groups) + 4)
        print(f"{len(real)} extracted + {len(kaggle)} Kaggle real sequences, grown to {len(samples)} samples, "
              f"{n_frames} frames, layout {layout.name} ({len(layout)} landmarks); raw arrays {raw / 1e6:.1f} MB")
        print("| chunk frames | filter | file MB | vs raw | write s | random read ms/sample |")
        print("|---|---|---|---|---|---|")
        for chunk in chunks:
            for name, filt in filters.items():
                path = tmp / f"s-{chunk}-{name.replace(' ', '')}.h5"
                w = write(path, samples, layout, provenance, chunk, filt)
                size = path.stat().st_size
                r = random_reads(path, args.reads)
                print(f"| {chunk} | {name} | {size / 1e6:.2f} | {size / raw:.2f} | {w:.2f} | {1000 * r:.2f} |")
                path.unlink()
    finally:
        store_mod.CHUNK_FRAMES, store_mod.COMPRESSION = saved
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
