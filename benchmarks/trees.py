"""The hot paths of two source trees side by side, in one run: did a change slow anything down?

Each measurement runs in its own process with ``PYTHONPATH`` set to one tree,
alternating between the trees ``--rounds`` times (so both see the same machine
load), on one thread, on real data:

* normalisation: the default ``Preprocessor`` on the 86 bundled MSL-150
  sequences (stored frames per second);
* encoder: the default encoder's latency on one 64-frame clip (ms);
* decoding: numba prefix beam search, width 10, on 200 PHOENIX-shaped
  posteriors of 120 steps over 1,200 glosses (frames per second);
* store reading: random reads of the MSL-150 store (ms per sample; the newer
  tree may read whole small stores into memory, see ``store_read.md``).

Usage: python benchmarks/trees.py OLD_TREE [NEW_TREE] [--rounds 3] [--out benchmarks/results/trees.md]
(``git worktree add /tmp/before <commit>`` gives an old tree.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

SNIPPET = r'''
import json, sys, time, tempfile
from pathlib import Path
import numpy as np
import torch
torch.set_num_threads(1)
what, repo = sys.argv[1], Path(sys.argv[2])
npz = repo / "data/msl150/keypoints_sample.npz"

def msl_store(folder):
    from slr_pose.keypoints.importers import import_samples, provenance
    from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates
    from slr_pose.keypoints.layout import holistic_layout
    layout, spec = holistic_layout("contour"), ColumnSpec.parse("msl150")
    path = Path(folder) / "msl.h5"
    import_samples(path, layout, provenance("numpy", {"spec": "msl150"}),
                   array_candidates([npz], spec, layout, options=ArrayOptions(trim=True)))
    from slr_pose.keypoints.store import PoseStore
    return PoseStore(path)

def preprocessor_class():
    try:
        from slr_pose.graphs.normalisation.pipeline import Preprocessor
    except ImportError:
        from slr_pose.graphs.pipeline import Preprocessor
    return Preprocessor

with tempfile.TemporaryDirectory() as tmp:
    if what == "normalisation":
        store = msl_store(tmp)
        samples = [store.read(i) for i in range(len(store))]
        pre = preprocessor_class()(store.layout)
        for s in samples: pre(s)
        frames = sum(len(s.xyz) for s in samples)
        best = float("inf")
        for _ in range(20):
            t0 = time.perf_counter()
            for s in samples:
                pre(s)
            best = min(best, time.perf_counter() - t0)
        print(json.dumps(frames / best))
    elif what == "encoder":
        from slr_pose.models import DEFAULT_MODEL, Recognizer, create_model
        store = msl_store(tmp)
        pre = preprocessor_class()(store.layout)
        out = pre(store.read(0))
        sk = pre.skeleton
        enc = create_model(DEFAULT_MODEL, in_channels=pre.num_channels, num_nodes=pre.num_nodes,
                           adjacency=sk.adjacency("spatial"), edge_index=sk.edge_index)
        model = Recognizer(enc, {"mfs": 5}).eval()
        x = torch.from_numpy(out.x)[None]; lang = torch.zeros(1, dtype=torch.long); mask = torch.ones(1, x.shape[2], dtype=torch.bool)
        with torch.no_grad():
            for _ in range(10): model(x, lang, mask)
            times = []
            for _ in range(60):
                t0 = time.perf_counter(); model(x, lang, mask); times.append(time.perf_counter() - t0)
        print(json.dumps(1000 * float(np.median(times))))
    elif what == "decoding":
        from slr_pose.decoding import beam_search
        rng = np.random.default_rng(0)
        posts = []
        for _ in range(200):
            logits = rng.normal(0, 1, (120, 1201)).astype(np.float32)
            logits[np.arange(120), rng.integers(0, 1201, 120)] += 8
            logits[:, 0] += 3
            posts.append((logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32))
        beam_search(posts[0], beam_width=10)
        t0 = time.perf_counter()
        for lp in posts: beam_search(lp, beam_width=10)
        print(json.dumps(200 * 120 / (time.perf_counter() - t0)))
    elif what == "store_read":
        store = msl_store(tmp)
        order = np.random.default_rng(0).integers(0, len(store), 400)
        for i in order[:20]: store.read(int(i))
        t0 = time.perf_counter()
        for i in order: store.read(int(i))
        print(json.dumps(1000 * (time.perf_counter() - t0) / len(order)))
'''

#: name -> (unit, higher is better)
MEASURES = {"normalisation": ("stored frames/s", True), "encoder": ("ms per clip", False),
            "decoding": ("frames/s", True), "store_read": ("ms per sample", False)}


def measure(tree: Path, what: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", SNIPPET, what, str(tree)], cwd=tree, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{what} in {tree} failed:\n{r.stderr[-2000:]}")
    return float(json.loads(r.stdout.strip().splitlines()[-1]))


def commit_of(tree: Path) -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=tree, capture_output=True, text=True)
    return (r.stdout.strip() or "?") + (" + uncommitted changes" if dirty.stdout.strip() else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path, nargs="?", default=REPO)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "trees.md")
    args = ap.parse_args()
    load_before = os.getloadavg()
    results = {w: {"old": [], "new": []} for w in MEASURES}
    for r in range(args.rounds):
        for what in MEASURES:
            for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
                results[what][side].append(measure(getattr(args, side), what))
                print(what, side, results[what][side][-1], flush=True)
    load_after = os.getloadavg()
    lines = [
        "# Two source trees side by side",
        "",
        f"Run {datetime.date.today()} on {platform.platform()} ({os.cpu_count()} CPUs, no GPU; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after), one thread, {args.rounds} alternating rounds "
        "(median shown).",
        f"Old tree: `{args.old}` at {commit_of(args.old)}; new tree: `{args.new}` at {commit_of(args.new)}.",
        f"`python benchmarks/trees.py {args.old} --rounds {args.rounds}`",
        "",
        "| hot path | unit | old | new | new vs old |",
        "|---|---|---:|---:|---:|",
    ]
    for what, (unit, higher) in MEASURES.items():
        old, new = (float(np.median(results[what][s])) for s in ("old", "new"))
        ratio = new / old if higher else old / new
        lines.append(f"| {what} | {unit} | {old:,.3f} | {new:,.3f} | {ratio:.2f}x {'faster' if ratio >= 1 else 'slower'} |")
    lines += ["", "Ratios above 1 mean the new tree is faster. Each process builds its own store and warms up first."]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
