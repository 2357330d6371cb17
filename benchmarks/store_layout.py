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
samples are read through :class:`~slr_pose.keypoints.store.PoseStore` (the
access pattern of a shuffled DataLoader; the file is in the page cache, so
this measures HDF5 and decompression, not the disk).

Usage::

    .venv/bin/python benchmarks/store_layout.py --frames 30000
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

import slr_pose.keypoints.store as store_mod
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.backends import create_spec, native_logs_silenced
from slr_pose.keypoints.extract import ExtractOptions, run_extraction
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
    store = PoseStore(path)
    order = np.random.default_rng(seed).integers(0, len(store), n)
    passes = []
    for _ in range(3):
        t0 = time.perf_counter()
        for i in order:
            store.read(int(i))
        passes.append((time.perf_counter() - t0) / n)
    store.close()
    return float(np.median(passes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30000, help="frames in each benchmark store")
    ap.add_argument("--reads", type=int, default=300, help="random sample reads per pass")
    ap.add_argument("--chunks", default=",".join(map(str, CHUNKS)), help="chunk lengths to try, e.g. 32,64")
    ap.add_argument("--filters", default=",".join(FILTERS), help=f"filters to try, from: {', '.join(FILTERS)}")
    args = ap.parse_args()
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
