"""``slr-pose fuse``: late fusion of streams (runs and score files); ``slr-pose ablate``: one run per stream, then fusion."""

from __future__ import annotations

import json
from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_dir, output_file
from slr_pose.errors import SlrPoseError


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(file_okay=False))
@click.option("--store", default=None, type=click.Path(dir_okay=False),
              help="The pose store the RUNS were trained on (their val and test splits are scored); not needed "
                   "for score files alone.")
@click.option("--scores", "score_files", multiple=True, type=click.Path(dir_okay=False),
              help="A stream's scores as an .npz file (ids, split, language, label, scores, classes; repeatable).")
@click.option("--save-scores", "scores_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each RUN's scores into this folder as RUN_NAME.npz, for fusing later without runs.")
@output_file("Ablation table to write (.md; a .json beside it).")
@force_option
def fuse(runs: tuple[str, ...], store: str | None, score_files: tuple[str, ...], scores_dir: Path | None,
         output: Path, force: bool) -> None:
    """Fuse recognition streams at the logit level and write a multi-stream ablation table.

    Streams are trained runs (pose streams such as joint, bone, motion: the
    same data with another preprocess.streams; an RGB run) and score files of
    any model, matched by sample id. Every subset of streams is scored with
    equal weights, then all of them with weights searched on the validation
    split (each stream's weight from 0, 0.5, 1, 1.5, 2: best validation top-1,
    then best validation log-likelihood); test accuracy is reported for each row.

    \b
    Examples:
      slr-pose fuse runs/joint runs/bone runs/rgb --store poses.h5 -o ablation.md --save-scores scores/
      slr-pose fuse --scores scores/joint.npz --scores scores/rgb.npz --scores other_model.npz -o fused.md
    """
    from slr_pose.evaluation.fusion import ablation, ablation_table, file_stream, run_stream, save_scores
    from slr_pose.outputs import check_output, write_text

    if runs and store is None:
        raise click.UsageError("give --store: the store the runs were trained on")
    if not runs and not score_files:
        raise click.UsageError("give runs (with --store) or --scores files to fuse")
    table_path, json_path = output, output.with_suffix(".json")
    if table_path == json_path:
        raise click.UsageError(f"-o {output}: name the table .md; its .json goes beside it")
    check_output(table_path, "text", force=force)
    check_output(json_path, "text", force=force)
    streams = [run_stream(r, store) for r in runs]
    if scores_dir is not None:
        scores_dir.mkdir(parents=True, exist_ok=True)
        for s in streams:
            save_scores(s, scores_dir / f"{s.name}.npz")
    labels = streams[0].labels if streams else None
    streams += [file_stream(f, labels) for f in score_files]
    result = ablation(streams)
    table = ablation_table(result)
    write_text(table_path, table)
    write_text(json_path, json.dumps(result, indent=1))
    click.echo(table, nl=False)
    click.echo(f"written to {output}")


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@output_dir("Study folder: one run per stream, their scores, the table (created; an existing study is resumed).")
@click.option("--streams", default="joint,bone,joint_motion,bone_motion", show_default=True,
              help="Comma-separated streams: pose streams (joint, bone, joint_motion, bone_motion, hand) and rgb.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config value for every run.")
@click.option("--set-rgb", "rgb_overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value for the rgb run only (e.g. model.name=r3d_18).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads for torch.")
def ablate(config: str, out_dir: Path, streams: str, overrides: tuple[str, ...], rgb_overrides: tuple[str, ...],
           threads: int | None) -> None:
    """Train one run per stream from one CONFIG, fuse them, and write the ablation table and plot.

    Each pose stream is the CONFIG with data.preprocess.streams set to that
    stream alone; rgb is the CONFIG with data.modality rgb (the stores' frame
    caches, see slr-pose frames). Runs land in OUTPUT/<stream>/; a killed
    study continues where it stopped. OUTPUT/ablation.md, .json and .png hold
    every stream, every fused subset and the searched fusion.

    \b
    Example:
      slr-pose ablate configs/demo_msl150.yaml -o runs/ablation --streams joint,bone,joint_motion,bone_motion,rgb
    """
    import torch

    from slr_pose.evaluation.ablation import run_ablation
    from slr_pose.outputs import check_output_dir

    names = [s.strip() for s in streams.split(",") if s.strip()]
    if not names:
        raise SlrPoseError(f"--streams names no stream: {streams!r}")
    check_output_dir(out_dir, what="ablation")
    if threads is not None:
        torch.set_num_threads(threads)
    result = run_ablation(config, out_dir, names, list(overrides), list(rgb_overrides), log=click.echo)
    click.echo(result.table, nl=False)
    click.echo(f"written to {out_dir / 'ablation.md'} (and .json, .png)")
