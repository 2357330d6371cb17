"""Cost of the RGB encoders on a CPU beside the default pose encoder: forward and forward + backward per clip.

Each encoder is built as training builds it (``create_model``, a two-language
:class:`~slr_pose.models.Recognizer` on top) and fed one clip of ``T = 16``
frames at side 112 and 224, batch 1, random values (the cost does not depend
on them); in the same run, the default pose encoder gets one 64-frame clip of
the default pipeline's 57 landmarks (joint + bone: 6 channels), 1 and 2 threads. Forward runs under ``torch.no_grad()`` in eval mode (what
evaluation and prediction pay); forward + backward in train mode with a
cross-entropy loss (what one training step pays before the optimiser).
Each time is the median of ``--repeat`` runs after one warm-up run.

Usage::

    .venv-rgb/bin/python benchmarks/rgb_models.py [--models mvit_v2_s r3d_18] [--sides 112 224] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results" / "rgb_models.md"
T = 16


def seconds(fn, repeat: int) -> float:
    fn()  # warm-up: allocations, oneDNN kernel choice
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(name: str, side: int, threads: int, repeat: int) -> dict:
    import torch

    from slr_pose.models import Recognizer
    from slr_pose.models.registry import create_model
    import slr_pose.models.video_encoders  # noqa: F401 - registers the video encoders

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Recognizer(create_model(name, num_frames=T, side=side), {"ase": 20, "rsl": 5})
    forward, step = forward_and_step(model, torch.randn(1, 3, T, side, side))
    params = sum(p.numel() for p in model.encoder.parameters())
    return {"model": name, "side": side, "threads": threads, "params": params,
            "forward": seconds(forward, repeat), "step": seconds(step, repeat)}


def forward_and_step(model, x):
    """One inference forward pass and one training step (forward, loss, backward) of ``model`` on ``x``."""
    import torch

    language = model.language_ids(["ase"])
    target = torch.tensor([3])

    def forward() -> None:
        model.eval()
        with torch.no_grad():
            model(x, language)

    def step() -> None:
        model.train()
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x, language).logits, target).backward()

    return forward, step


def measure_pose(threads: int, repeat: int) -> dict:
    import torch

    from slr_pose.graphs.skeleton import skeleton_for
    from slr_pose.graphs.subsets import select
    from slr_pose.keypoints.layout import holistic_layout
    from slr_pose.models import DEFAULT_MODEL, Recognizer, create_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layout, _ = select(holistic_layout("contour"), "upper_body_hands")
    sk = skeleton_for(layout)
    enc = create_model(DEFAULT_MODEL, in_channels=6, num_nodes=len(layout), adjacency=sk.adjacency("spatial"),
                       edge_index=sk.edge_index)
    model = Recognizer(enc, {"ase": 20, "rsl": 5})
    forward, step = forward_and_step(model, torch.randn(1, 6, 64, len(layout)))
    params = sum(p.numel() for p in model.encoder.parameters())
    return {"model": f"{DEFAULT_MODEL} (pose, 64 frames x {len(layout)} landmarks)", "side": "-", "threads": threads,
            "params": params, "forward": seconds(forward, 20 * repeat), "step": seconds(step, 20 * repeat)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["mvit_v2_s", "r3d_18"])
    ap.add_argument("--sides", type=int, nargs="+", default=[112, 224])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    import torch
    import torchvision

    load_before = os.getloadavg()
    rows = [measure_pose(threads, args.repeat) for threads in args.threads]
    for name in args.models:
        for side in args.sides:
            for threads in args.threads:
                r = measure(name, side, threads, args.repeat)
                rows.append(r)
                print(f"{name} side {side} threads {threads}: forward {r['forward']:.2f} s, "
                      f"forward + backward {r['step']:.2f} s", flush=True)
    load_after = os.getloadavg()
    lines = [
        "# RGB encoders on a CPU (`benchmarks/rgb_models.py`)",
        "",
        f"Run {datetime.date.today().isoformat()} on {platform.platform()} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs), no GPU; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(a shared machine: another job may hold a core, which shows most in the 2-thread rows). "
        f"torch {torch.__version__}, torchvision {torchvision.__version__}.",
        "",
        f"One clip of {T} frames, batch 1, inside a two-language Recognizer; median of {args.repeat} runs after a "
        "warm-up. Forward: eval mode, no gradients. Forward + backward: train mode, cross-entropy, no optimiser step.",
        "",
        "| encoder | parameters | side | threads | forward s/clip | forward + backward s/clip | clips/s inference "
        "| clips/s training |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['params'] / 1e6:.2f} M | {r['side']} | {r['threads']} | "
                     f"{r['forward']:.4f} | {r['step']:.4f} | {1 / r['forward']:.1f} | {1 / r['step']:.2f} |")
    pose = rows[0]
    rgb = next((r for r in rows if r["side"] == min(args.sides) and r["threads"] == 1), None)
    if rgb is not None:
        lines += ["", f"On one thread, {rgb['model']} at side {rgb['side']} costs {rgb['forward'] / pose['forward']:.0f}x "
                      f"the pose encoder's inference and {rgb['step'] / pose['step']:.0f}x its training step, per clip."]
    text = "\n".join(lines) + "\n"
    from slr_pose.outputs import write_text

    write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
