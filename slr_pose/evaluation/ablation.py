"""A multi-stream ablation study in one call: one run per stream from one config, their fusion, a table and a plot.

``slr-pose ablate CONFIG -o DIR --streams joint,bone,joint_motion,bone_motion,rgb``
trains ``DIR/<stream>/`` for each stream (a pose stream is the config with
``data.preprocess.streams`` set to that stream alone; ``rgb`` is the config
with ``data.modality: rgb``), scores each on the validation and test splits of
the config's first store (``DIR/<stream>/scores.npz``), fuses every subset
(:mod:`.fusion`) and writes ``DIR/ablation.md``, ``.json`` and ``.png``.

It resumes: ``DIR/study.json`` records the plan (a rerun with another plan is
refused), a finished run is not trained again, a killed one resumes from its
last epoch, and scores already written are read back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.fusion import ablation, ablation_table, file_stream, run_stream, save_scores
from slr_pose.graphs.streams import STREAMS
from slr_pose.outputs import atomic_path, write_text
from slr_pose.training.config import Config, load_config
from slr_pose.training.trainer import train

PLAN = "study.json"


@dataclass
class AblationResult:
    result: dict  # :func:`~slr_pose.evaluation.fusion.ablation`'s
    table: str


def stream_config(config: Config, stream: str) -> Config:
    """``config`` for one stream: a pose stream alone, or RGB clips."""
    data = config.data
    if stream == "rgb":
        model = config.model if config.data.modality == "rgb" else dataclasses.replace(config.model, name="", kwargs={})
        return dataclasses.replace(config, data=dataclasses.replace(data, modality="rgb"), model=model)
    pre = dataclasses.replace(data.preprocess, streams=(stream,))
    return dataclasses.replace(config, data=dataclasses.replace(data, modality="pose", preprocess=pre))


def run_ablation(config_path: str | Path, out_dir: str | Path, streams: Sequence[str], overrides: Sequence[str] = (),
                 rgb_overrides: Sequence[str] = (), *, log: Callable[[str], None] = print) -> AblationResult:
    """Train (or resume) one run per stream in ``out_dir``, fuse them, write the table, JSON and plot."""
    out = Path(out_dir)
    bad = [s for s in streams if s != "rgb" and s not in STREAMS]
    if bad or len(set(streams)) != len(streams):
        raise SlrPoseError(f"stream {bad[0] if bad else streams!r} is not one of {', '.join((*STREAMS, 'rgb'))} "
                           "(each at most once)")
    plan = {"config": str(Path(config_path).resolve()), "streams": list(streams), "overrides": list(overrides),
            "rgb_overrides": list(rgb_overrides)}
    plan_path = out / PLAN
    if plan_path.exists():
        before = json.loads(plan_path.read_text())
        if before != plan:
            changed = sorted(k for k in plan if before.get(k) != plan[k])
            raise SlrPoseError(f"{out} holds another ablation study (differs in {', '.join(changed)}); use a new folder")
    out.mkdir(parents=True, exist_ok=True)
    write_text(plan_path, json.dumps(plan, indent=1))
    base = load_config(config_path, list(overrides))
    rgb_base = load_config(config_path, list(overrides) + list(rgb_overrides)) if "rgb" in streams else base
    store = base.data.stores[0].path
    scored = []
    for name in streams:
        run_dir = out / name
        scores = run_dir / "scores.npz"
        if not scores.exists():
            if not (run_dir / "summary.json").exists():
                log(f"{name}: training {run_dir}")
                train(stream_config(rgb_base if name == "rgb" else base, name), run_dir, progress=False,
                      log=lambda line, n=name: log(f"{n}: {line}"))
            save_scores(run_stream(run_dir, store), scores)
        stream = file_stream(scores)
        stream.name = name
        scored.append(stream)
    result = ablation(scored)
    table = ablation_table(result)
    write_text(out / "ablation.md", table)
    write_text(out / "ablation.json", json.dumps(result, indent=1))
    plot_ablation(result, out / "ablation.png")
    return AblationResult(result, table)


def plot_ablation(result: dict, path: Path) -> None:
    """Validation and test top-1 of every stream and fused subset, as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    ax.barh(y - 0.2, [100 * r["val_top1"] for r in rows], 0.4, label="validation")
    ax.barh(y + 0.2, [100 * r["test_top1"] for r in rows], 0.4, label="test")
    ax.set_yticks(y, [r["streams"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="top-1 (%)", xlim=(0, 100), title="streams and their fusion")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
