"""``slr-pose vssign``: groups of visually similar signs."""

from __future__ import annotations

import click

from slr_pose.cli.options import force_option, output_file


@click.group()
def vssign() -> None:
    """Visually similar signs (VSSigns): suggest groups for experts to confirm.

    \b
    Example:
      slr-pose vssign suggest runs/msl150 poses.h5 -o vssigns.csv   # then edit it, and train with data.groups
    """


@vssign.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("store", type=click.Path(dir_okay=False))
@output_file("Grouping table to write (CSV).")
@click.option("--split", default="val", show_default=True, type=click.Choice(["all", "train", "val", "test"]),
              help="Which samples of STORE to look at.")
@click.option("--threshold", default=0.2, show_default=True, type=click.FloatRange(0, 1),
              help="Minimum symmetric confusion rate for a pair to be suggested.")
@force_option
def suggest(run_dir: str, store: str, output: str, split: str, threshold: float, force: bool) -> None:
    """List the most confused class pairs of a trained model as a grouping table.

    The table (language, gloss, group, confusion) is meant to be edited by
    experts, then given to training (data.groups) or evaluation (--groups).

    \b
    Example:
      slr-pose vssign suggest runs/msl150 poses.h5 --split val -o vssigns.csv
    """
    from slr_pose.evaluation.islr import score_run
    from slr_pose.inference.runs import load_run
    from slr_pose.outputs import check_output
    from slr_pose.training.vssign import suggest_groups

    check_output(output, "text", force=force)
    ev, labels = score_run(load_run(run_dir), store, split=split)
    pairs = suggest_groups(ev.confusions, labels.classes, threshold, output)
    if not pairs:
        click.echo(f"no class pair is confused at rate >= {threshold}; wrote an empty table to {output}")
        return
    for p in pairs[:20]:
        click.echo(f"{p.language}: {p.a} <-> {p.b}  confusion {p.rate:.2f}")
    click.echo(f"{len(pairs)} candidate pair(s); grouping table written to {output}")
