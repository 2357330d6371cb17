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
@click.option("--int8", is_flag=True,
              help="Also write OUTPUT with .int8.onnx (int8 weights) and report its size, latency and top-1 "
                   "against float32 on the run's test samples.")
@force_option
def export(run_dir: str, output: str, frames: int | None, int8: bool, force: bool) -> None:
    """Export a trained run as ONE ONNX graph that takes a language id.

    Inputs: x (N, C, T, V) float32, language (N,) int64, frame_mask (N, T)
    bool; outputs: logits (isolated signs) or log_probs and out_lengths
    (continuous signing). OUTPUT.json beside it lists the languages (their
    ids), each language's classes, the landmarks and the preprocessing, so
    the graph can be used without slr-pose. The graph is checked against
    torch in onnxruntime before this command succeeds.

    With --int8, onnxruntime's dynamic quantisation stores the weights of the
    matrix products as int8 (MODEL.int8.onnx, with its own sidecar), and both
    graphs are scored on the run's test samples on one thread.

    \b
    Example:
      slr-pose export runs/msl150 -o msl150.onnx
      slr-pose export runs/msl150 -o msl150.onnx --int8
      slr-pose live msl150.int8.onnx --camera 0
    """
    from slr_pose.errors import SlrPoseError
    from slr_pose.evaluation.quantisation import int8_report
    from slr_pose.inference.runs import load_run
    from slr_pose.models.export import INT8_OPS, export_onnx, quantize_int8
    from slr_pose.outputs import check_output, write_text

    sidecar_path = Path(str(output) + ".json")
    int8_path = Path(output).with_suffix(".int8.onnx") if Path(output).suffix == ".onnx" else Path(f"{output}.int8.onnx")
    check_output(output, "onnx", force=force)
    check_output(sidecar_path, "text", force=force)
    if int8:
        check_output(int8_path, "onnx", force=force)
        check_output(str(int8_path) + ".json", "text", force=force)
    run = load_run(run_dir)
    rgb = run.modality == "rgb"
    if int8 and (rgb or run.task != "islr"):
        raise SlrPoseError(f"--int8 is for isolated-sign landmark runs; {run_dir} is {run.task} {run.modality}")
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
        "extractors": run.meta.get("extractors", []),  # MediaPipe settings for new videos (slr-pose live)
        "clip": run.meta.get("clip"),
        "model": run.config.model.name,
    }
    write_text(sidecar_path, json.dumps(sidecar, indent=1, ensure_ascii=False))
    click.echo(f"wrote {output} (onnxruntime matches torch within {report.max_abs_diff:.2e}) and {output}.json")
    if int8:
        quantize_int8(output, int8_path)
        q = int8_report(run, output, int8_path)
        sidecar["int8"] = {"weights": list(INT8_OPS), "float32_graph": Path(output).name, **q.to_json()}
        write_text(str(int8_path) + ".json", json.dumps(sidecar, indent=1, ensure_ascii=False))
        click.echo(f"wrote {int8_path}: {q.int8_bytes / 1e6:.2f} MB (float32 {q.float_bytes / 1e6:.2f} MB); "
                   f"{q.int8_ms:.2f} ms per clip (float32 {q.float_ms:.2f} ms, one thread); on {q.samples} test "
                   f"samples top-1 agrees on {100 * q.agreement:.1f}%, accuracy {100 * q.int8_top1:.1f}% "
                   f"(float32 {100 * q.float_top1:.1f}%)")
