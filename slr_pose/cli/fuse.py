"""``slr-pose fuse``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_file


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--store", required=True, type=click.Path(dir_okay=False),
              help="The pose store the runs were trained on (their val and test splits are scored).")
@click.option("--scores", "score_files", multiple=True, type=click.Path(dir_okay=False),
              help="Scores of another stream (e.g. an RGB model) as an .npz file (repeatable).")
@output_file("Ablation table to write (.md; a .json beside it).")
@force_option
def fuse(runs: tuple[str, ...], store: str, score_files: tuple[str, ...], output: str, force: bool) -> None:
    """Fuse recognition streams and write a multi-stream ablation table.

    Each RUN is a trained run of one stream (e.g. joint, bone, motion: the same
    data with another preprocess.streams). Every subset of streams is scored
    with equal weights, then all of them with weights searched on the
    validation split; test accuracy is reported for each row.

    \b
    Example:
      slr-pose fuse runs/joint runs/bone runs/motion --store poses.h5 -o ablation.md
    """
    from slr_pose.evaluation.fusion import (
        ablation,
        ablation_table,
        file_stream,
        run_stream,
    )
    from slr_pose.outputs import check_output, write_text

    table_path, json_path = Path(output), Path(output).with_suffix(".json")
    if table_path == json_path:
        raise click.UsageError(f"-o {output}: name the table .md; its .json goes beside it")
    check_output(table_path, "text", force=force)
    check_output(json_path, "text", force=force)
    streams = [run_stream(r, store) for r in runs]
    streams += [file_stream(f, streams[0].labels) for f in score_files]
    result = ablation(streams)
    table = ablation_table(result)
    write_text(table_path, table)
    write_text(json_path, json.dumps(result, indent=1))
    click.echo(table, nl=False)
    click.echo(f"written to {output}")
