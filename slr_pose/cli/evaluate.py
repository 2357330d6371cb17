"""``slr-pose evaluate``."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("store", type=click.Path(dir_okay=False))
@click.option("--split", default="all", show_default=True, help="train, val, test or all samples of the store.")
@click.option("--language", default="", help="Language tag for samples whose store has none.")
@click.option("--groups", type=click.Path(dir_okay=False), default=None,
              help="VSSign grouping table (CSV gloss,group): also report grouped accuracy.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where confusion matrices go (default RUN_DIR/eval/STORE_NAME).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(run_dir: str, store: str, split: str, language: str, groups: str | None, out_dir: str | None, as_json: bool) -> None:
    """Score a trained run on a pose store.

    Isolated signs: top-1/top-5, per-class accuracy, per language, confusion
    matrices. Continuous signing: WER (greedy, beam, beam + LM).

    \b
    Example:
      slr-pose evaluate runs/msl150 poses.h5 --split test
      slr-pose evaluate runs/msl150 poses.h5 --groups vssigns.csv --json
    """
    from slr_pose.training.evaluation import evaluate_run

    summary = evaluate_run(run_dir, store, split=split, language=language, groups=groups, out_dir=out_dir)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    from slr_pose.cli.train import _metrics_line

    click.echo(_metrics_line(split, summary))
    if "grouped" in summary:
        g = summary["grouped"]
        click.echo(
            f"grouped: top-1 {100 * g['top1']:.1f}%  VSSign {100 * g['vssign_top1']:.1f}% "
            f"({g['vssign_samples']} samples)  non-VSSign {100 * g['non_vssign_top1']:.1f}%"
        )
    click.echo(f"confusion matrices in {summary['output']}")
