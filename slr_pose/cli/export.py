"""``slr-pose export``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_file


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@output_file("The .onnx file to write.")
@click.option("--frames", default=None, type=click.IntRange(min=1),
              help="Frames of the example clip (default: the run's clip length, or 64).")
@force_option
def export(run_dir: str, output: str, frames: int | None, force: bool) -> None:
    """Export a trained run as ONE ONNX graph that takes a language id.

    Inputs: x (N, C, T, V) float32, language (N,) int64, frame_mask (N, T)
    bool; outputs: logits (isolated signs) or log_probs and out_lengths
    (continuous signing). OUTPUT.json beside it lists the languages (their
    ids), each language's classes, the landmarks and the preprocessing, so
    the graph can be used without slr-pose. The graph is checked against
    torch in onnxruntime before this command succeeds.

    \b
    Example:
      slr-pose export runs/msl150 -o msl150.onnx
    """
    from slr_pose.inference.runs import load_run
    from slr_pose.models.export import export_onnx
    from slr_pose.outputs import check_output, write_text

    sidecar_path = Path(str(output) + ".json")
    check_output(output, "onnx", force=force)
    check_output(sidecar_path, "text", force=force)
    run = load_run(run_dir)
    rgb = run.modality == "rgb"
    length = frames or (run.config.data.clip.frames if rgb else run.meta["preprocess"].get("length")) or 64
    report = export_onnx(run.model, output, num_frames=int(length))
    x = "(N, 3, T, H, W) float32, Kinetics-normalised RGB" if rgb else "(N, C, T, V) float32"
    sidecar = {
        "task": run.task,
        "modality": run.modality,
        "inputs": {"x": x, "language": "(N,) int64", "frame_mask": "(N, T) bool"},
        "outputs": list(report.outputs),
        "dynamic_axes": {k: list(v) for k, v in report.dynamic_axes.items()},
        "languages": list(run.meta["labels"]),
        "classes": run.meta["labels"],
        "landmarks": run.meta["landmarks"],
        "preprocess": run.meta["preprocess"],
        "clip": run.meta.get("clip"),
        "model": run.config.model.name,
    }
    write_text(sidecar_path, json.dumps(sidecar, indent=1, ensure_ascii=False))
    click.echo(f"wrote {output} (onnxruntime matches torch within {report.max_abs_diff:.2e}) and {output}.json")
