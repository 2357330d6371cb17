"""On the edge: per-frame cost of each live stage, end-to-end real-time factor, latency and memory, 1 core vs 2.

Measured side by side in one run on the five bundled MSL-150 videos (1280x720
HEVC, 30 fps, 308 frames), each configuration in its own process pinned with
``os.sched_setaffinity`` to one core or to two (so MediaPipe's own threads
share what the edge device would have):

* **stages**, per frame: decoding (OpenCV, BGR->RGB), MediaPipe Holistic,
  and per live window (1.5 s of landmarks every 0.1 s, i.e. one window per
  3 frames at 30 fps) the normalisation (numba) and the model in torch, in
  onnxruntime float32 and int8, batch 1, one model thread;
* **end to end**: ``slr-pose live``'s loop (:class:`LiveRecogniser`) on the
  five clips one after another in one file: offline (every frame; real-time
  factor = seconds of video / seconds of processing) and ``--realtime``
  (frames at 30 fps by wall clock, dropped when late: the drop rate), with
  the latency from a frame's arrival to the decision made on it (MediaPipe,
  normalisation, model, and any wait for the previous frame);
* **peak memory** (``ru_maxrss``) of the live process: the exported graph in
  onnxruntime (torch never imported) against the run directory in torch.

The model is a short run of the default encoder trained here on the bundled
keypoints (or ``--run RUN``), exported float32 and int8.

Usage::

    .venv/bin/python benchmarks/edge.py [--run RUN] [--out benchmarks/results/edge.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIDEOS = sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4"))
#: The claim checked: the model and the normalisation together cost under this share of MediaPipe's per-frame time.
GOAL = 0.10
WINDOW, HOP = 1.5, 0.1


# --------------------------------------------------------------------------- workers (own process, pinned)


def pin(cores: int) -> list[int]:
    """Pin this process to its first ``cores`` allowed CPUs; the CPUs used."""
    chosen = sorted(os.sched_getaffinity(0))[:cores]
    os.sched_setaffinity(0, chosen)
    return chosen


def stages(job: dict) -> dict:
    """Per-frame decode and MediaPipe, per-window normalisation and model (three runtimes), on the bundled clips."""
    import numpy as np
    import torch

    from slr_pose.inference.torch_model import TorchModel
    from slr_pose.keypoints.backends import native_logs_silenced
    from slr_pose.keypoints.extraction import video as extraction
    from slr_pose.keypoints.inputs import VideoInput
    from slr_pose.keypoints.video import VideoFrames
    from slr_pose.runtime import LandmarkWindow, OnnxModel, Recogniser

    torch.set_num_threads(1)
    models = {"torch": TorchModel(job["run"]), "onnxruntime float32": OnnxModel(job["onnx"]),
              "onnxruntime int8": OnnxModel(job["int8"])}
    options = models["onnxruntime int8"].card.extract_options()
    decode, frames = 0.0, 0
    for path in VIDEOS:
        t0 = time.perf_counter()
        n = sum(1 for _ in VideoFrames(path))
        decode += time.perf_counter() - t0
        frames += n
    extraction.PREFETCH = False  # MediaPipe's own time, decoding not overlapped
    samples = []
    with native_logs_silenced(), options.backend.create() as backend:
        for path in VIDEOS:
            samples.append(extraction.extract_video(backend, VideoInput(id=path.stem, path=path), options))
        mediapipe = backend.inference_seconds
    windows = []
    for s in samples:  # the windows live would score
        win = LandmarkWindow(options.layout, WINDOW, width=s.info.width, height=s.info.height, nominal_fps=s.info.fps)
        next_t = s.time[0] + HOP
        for i in range(len(s.xyz)):
            win.push(s.xyz[i], s.confidence[i], s.missing[i], float(s.time[i]))
            if s.time[i] >= next_t - 1e-9 and win.end - win.start >= 0.6 * WINDOW - 1.5 / s.info.fps:
                windows.append(win.sample())
                next_t += HOP
    rec = Recogniser(models["onnxruntime int8"], options.layout, fps=samples[0].info.fps)
    outs = [rec.preprocessor(w) for w in windows]  # warm: numba's cached kernels load on the first call
    t0 = time.perf_counter()
    for _ in range(3):
        outs = [rec.preprocessor(w) for w in windows]
    norm = (time.perf_counter() - t0) / (3 * len(windows))
    model_ms = {}
    lang = np.zeros(1, np.int64)
    for name, m in models.items():
        feeds = [(o.x[None], o.frame_mask[None]) for o in outs]
        for x, mask in feeds[:5]:
            m.logits(x, lang, mask)
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            for x, mask in feeds:
                m.logits(x, lang, mask)
            best = min(best, (time.perf_counter() - t0) / len(feeds))
        model_ms[name] = 1000 * best
    return {"frames": frames, "windows": len(windows), "decode_ms": 1000 * decode / frames,
            "mediapipe_ms": 1000 * mediapipe / frames, "normalisation_ms": 1000 * norm, "model_ms": model_ms,
            "windows_per_frame": len(windows) / frames, "T": int(outs[0].x.shape[1])}


def end_to_end(job: dict) -> dict:
    """``live``'s loop over the joined clips; with ``torch`` False the process must never import torch."""
    from slr_pose.keypoints.backends import native_logs_silenced
    from slr_pose.runtime import (
        LiveRecogniser,
        LiveSettings,
        LiveSummary,
        OnnxModel,
        open_source,
    )

    if job["model"] == "torch":
        import torch

        from slr_pose.inference.torch_model import TorchModel

        torch.set_num_threads(1)
        model = TorchModel(job["run"])
    else:
        model = OnnxModel(job[job["model"]], threads=1)
    options = model.card.extract_options()
    live = LiveRecogniser(model, options, settings=LiveSettings(window=WINDOW, hop=HOP))
    source = open_source(job["video"], realtime=job["realtime"], fps=options.fps, max_side=options.max_side)
    summary = LiveSummary(source.name)
    signs = []
    with native_logs_silenced(), options.backend.create() as backend:
        for step in live.run(source, backend, summary):
            if step.window is not None and step.window.spotted is not None:
                signs.append([step.window.spotted.gloss, round(step.window.spotted.time, 2)])
    return {**summary.to_json(), "realtime_factor": summary.realtime_factor, "signs": signs,
            "maxrss_mb": peak_rss_mb(), "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch_imported": any(m.split(".")[0] == "torch" for m in sys.modules)}


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MB: VmHWM, since Linux carries ``ru_maxrss`` over ``exec`` from the
    parent (a worker spawned by a parent that trained a model would report the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(job: dict) -> None:
    cpus = pin(job["cores"])
    out = stages(job) if job["kind"] == "stages" else end_to_end(job)
    print(json.dumps({**out, "cpus": cpus}))


def spawn(job: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"worker {job['kind']} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the model and the video


def prepare(work: Path, run: Path | None) -> dict:
    """A run (trained here unless given), its float32 and int8 graphs, and the five clips in one file."""
    import cv2
    import torch
    import yaml

    from slr_pose.inference.runs import load_run
    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.arrays import (
        ArrayOptions,
        ColumnSpec,
        array_candidates,
        array_provenance,
    )
    from slr_pose.keypoints.layout import holistic_layout
    from slr_pose.models.export import export_onnx, quantize_int8
    from slr_pose.runtime.onnx_model import sidecar_path
    from slr_pose.training.config import load_config
    from slr_pose.training.trainer import train

    torch.set_num_threads(1)
    if run is None:
        store = work / "msl.h5"
        layout, spec, opts = holistic_layout("contour"), ColumnSpec.parse("msl150"), ArrayOptions(trim=True)
        cands = array_candidates([REPO / "data" / "msl150" / "keypoints_sample.npz"], spec, layout, options=opts,
                                 language="mfs")
        import_samples(store, layout, array_provenance(spec, layout, opts), cands)
        cfg = {"task": "islr", "data": {"stores": [{"path": str(store), "language": "mfs"}],
                                        "preprocess": {"subset": "upper_body_hands", "length": 32,
                                                       "streams": ["joint", "bone"]},
                                        "split": {"mode": "random", "val_fraction": 0.2, "test_fraction": 0.2, "seed": 0}},
               "train": {"epochs": 8, "batch_size": 4, "lr": 0.003, "warmup_epochs": 1, "seed": 1}}
        (work / "edge.yaml").write_text(yaml.safe_dump(cfg))
        run = work / "run"
        train(load_config(work / "edge.yaml"), run, progress=False, log=lambda *a, **k: None)
    loaded = load_run(run)
    onnx, int8 = work / "m.onnx", work / "m.int8.onnx"
    export_onnx(loaded.model, onnx, num_frames=int(loaded.meta["preprocess"].get("length") or 64))
    sidecar = {"task": loaded.task, "modality": loaded.modality, "languages": list(loaded.meta["labels"]),
               "classes": loaded.meta["labels"], "landmarks": loaded.meta["landmarks"],
               "preprocess": loaded.meta["preprocess"], "extractors": loaded.meta.get("extractors", [])}
    quantize_int8(onnx, int8)
    for g in (onnx, int8):
        sidecar_path(g).write_text(json.dumps(sidecar))
    video, writer, spans, t = work / "five_signs.mp4", None, [], 0.0
    for path in VIDEOS:
        cap, n = cv2.VideoCapture(str(path)), 0
        while True:
            ok, image = cap.read()
            if not ok:
                break
            if writer is None:
                writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, image.shape[1::-1])
            writer.write(image)
            n += 1
        cap.release()
        spans.append([path.stem.split("_")[0], round(t, 2), round(t + n / 30, 2)])
        t += n / 30
    writer.release()
    return {"run": str(run), "onnx": str(onnx), "int8": str(int8), "video": str(video), "spans": spans,
            "onnx_mb": onnx.stat().st_size / 1e6, "int8_mb": int8.stat().st_size / 1e6,
            "model": loaded.config.model.name or "default", "length": loaded.meta["preprocess"].get("length")}


# --------------------------------------------------------------------------- report


def in_clip(signs: list, spans: list) -> int:
    """True signs ``(gloss, start, end)`` for which a sign of that gloss was emitted while the clip played."""
    from slr_pose.runtime.spotting import Spotted, matches

    spotted = [Spotted(g, 1.0, t, t, t, i) for i, (g, t) in enumerate(signs)]
    return sum(matches(spotted, [tuple(s) for s in spans]))


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("mediapipe", "onnxruntime", "torch", "numba", "opencv-contrib-python"))


def report(prep: dict, st: dict, e2e: dict, load: tuple[float, float], started: str) -> str:
    cores = sorted(st)
    lines = [
        "# On the edge: live recognition on one CPU core and on two",
        "",
        f"Run {started} by `benchmarks/edge.py`. Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {versions()}. Load average "
        f"{load[0]:.2f} before the run, {load[1]:.2f} after (the machine was shared: ratios inside this run are what "
        "to read, absolute times move with the load).",
        "",
        f"Data: the 5 bundled MSL-150 videos (1280x720 HEVC, 30 fps, {st[cores[0]]['frames']} frames), for end to end "
        f"written one after another into one mp4v file ({prep['spans'][-1][2]:.1f} s). Model: the default encoder "
        f"({prep['model']}), {prep['length']}-frame clips, trained briefly on the bundled keypoints; exported float32 "
        f"({prep['onnx_mb']:.2f} MB) and int8 ({prep['int8_mb']:.2f} MB, dynamic: MatMul/Gemm weights). Live settings: "
        f"a {WINDOW} s window every {HOP} s (one window per {1 / st[cores[0]]['windows_per_frame']:.1f} frames); one "
        "model thread everywhere. Each row is its own process pinned with `os.sched_setaffinity`.",
        "",
        "## Stages",
        "",
        "| stage | unit | " + " | ".join(f"{c} core{'s' if c > 1 else ''} ms" for c in cores) + " |",
        "|---|---|" + "---:|" * len(cores),
    ]
    rows = [("decode (OpenCV + BGR->RGB)", "frame", lambda s: s["decode_ms"]),
            ("MediaPipe Holistic", "frame", lambda s: s["mediapipe_ms"]),
            ("normalisation (numba)", "window", lambda s: s["normalisation_ms"])]
    rows += [(f"model, {name}", "window", lambda s, n=name: s["model_ms"][n]) for name in st[cores[0]]["model_ms"]]
    for label, unit, get in rows:
        lines.append(f"| {label} | {unit} | " + " | ".join(f"{get(st[c]):.3f}" for c in cores) + " |")
    lines += ["", "Model + normalisation against MediaPipe (per window, and per frame at one window per "
              f"{1 / st[cores[0]]['windows_per_frame']:.1f} frames):", ""]
    holds = []
    for c in cores:
        s = st[c]
        for name, ms in s["model_ms"].items():
            per_window = (ms + s["normalisation_ms"]) / s["mediapipe_ms"]
            per_frame = per_window * s["windows_per_frame"]
            holds.append(per_window < GOAL)
            lines.append(f"- {c} core{'s' if c > 1 else ''}, {name}: {100 * per_window:.1f}% per window, "
                         f"{100 * per_frame:.1f}% per frame")
    verdict = "holds" if all(holds) else "does not hold everywhere"
    lines += ["", f"**\"Model + normalisation under {100 * GOAL:.0f}% of MediaPipe's per-frame time\" {verdict}** "
              "(counted per window, i.e. even if every frame were scored).", "",
              "## End to end (`live` on the joined clips)", "",
              "| model | mode | cores | real-time factor | dropped | latency median ms | p95 ms | MediaPipe ms/frame "
              "| signs (true: " + " ".join(g for g, _, _ in prep["spans"]) + ") | emitted in their clip "
              "| peak RSS MB | torch imported |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for (model, mode, c), r in e2e.items():
        lat = r["latency_ms"] or {"median": float("nan"), "p95": float("nan")}
        lines.append(f"| {model} | {mode} | {c} | {r['realtime_factor']:.2f}x | {r['dropped']}/{r['produced']} "
                     f"({100 * r['drop_rate']:.0f}%) | {lat['median']:.0f} | {lat['p95']:.0f} | "
                     f"{r['ms_per_frame']['mediapipe']:.1f} | {' '.join(g for g, _ in r['signs'])} | "
                     f"{in_clip(r['signs'], prep['spans'])}/{len(prep['spans'])} | "
                     f"{r['maxrss_mb']:.0f} | {'yes' if r['torch_imported'] else 'no'} |")
    mem = {m: e2e[(m, "offline", 1)]["maxrss_mb"] for m in ("onnxruntime int8", "torch")}
    lines += ["", "Real-time factor: seconds of video per second of processing, offline (every frame); above 1 is "
              "faster than the video plays. Realtime mode reads at 30 fps by the wall clock and drops the frames "
              "it has no time for; its factor is 1 by construction. Latency: from a frame's arrival to the decision "
              "made on it (in realtime mode including the wait for the frame before it).", "",
              f"Peak memory of the live process (offline, 1 core; VmHWM, as Linux carries `ru_maxrss` over from the "
              f"parent process): {mem['onnxruntime int8']:.0f} MB with the exported int8 graph in onnxruntime (torch "
              f"never imported) against {mem['torch']:.0f} MB with the run in torch "
              f"({mem['torch'] - mem['onnxruntime int8']:+.0f} MB); MediaPipe is in both.", "",
              "Rerun: `.venv/bin/python benchmarks/edge.py`.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=None, help="A trained isolated-sign run (default: train one here).")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "edge.md")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        prep = prepare(Path(tmp), args.run)
        cores = [c for c in (1, 2) if c <= len(os.sched_getaffinity(0))]
        st = {}
        for c in cores:
            st[c] = spawn({**prep, "kind": "stages", "cores": c})
            print(f"stages, {c} core(s): {json.dumps(st[c])}", flush=True)
        e2e = {}
        for model in ("onnxruntime int8", "onnxruntime float32", "torch"):
            key = {"onnxruntime int8": "int8", "onnxruntime float32": "onnx", "torch": "torch"}[model]
            for mode in ("offline", "realtime"):
                for c in cores:  # 1 and 2 cores back to back, so they share the machine's state
                    r = spawn({**prep, "kind": "e2e", "model": key, "realtime": mode == "realtime", "cores": c})
                    e2e[(model, mode, c)] = r
                    print(f"{model}, {mode}, {c} core(s): {r['realtime_factor']:.2f}x, dropped {r['dropped']}/"
                          f"{r['produced']}, signs {r['signs']}", flush=True)
    text = report(prep, st, e2e, (load0, os.getloadavg()[0]), started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
