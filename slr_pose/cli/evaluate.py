"""``slr-pose evaluate``."""

from __future__ import annotations

import json

import click

from slr_pose.cli.options import output_dir
from slr_pose.cli.report import metrics_line, wer_text


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("store", type=click.Path(dir_okay=False))
@click.option("--split", default="all", show_default=True, type=click.Choice(["all", "train", "val", "test"]),
              help="Which samples of the store to score.")
@click.option("--language", default="", help="Language tag for samples whose store has none.")
@click.option("--groups", type=click.Path(dir_okay=False), default=None,
              help="VSSign grouping table (CSV gloss,group): also report grouped accuracy "
                   "(default: the run's own table, if it was trained on groups).")
@output_dir("Where confusion matrices (or CTM/STM files) go (default RUN_DIR/eval/STORE_NAME).", required=False)
@click.option("--beam", default=None, type=click.IntRange(min=1), help="Continuous signing: beam width (default: the run's).")
@click.option("--lm", "lm_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Continuous signing: ARPA gloss LM to use instead of the run's.")
@click.option("--lm-weight", default=None, type=click.FloatRange(min=0),
              help="Continuous signing: LM weight (default: the run's, picked on validation).")
@click.option("--insertion-bonus", default=None, type=float,
              help="Continuous signing: score added per gloss with the LM (default: the run's).")
@click.option("--tta", default="none", show_default=True, type=click.Choice(["none", "mirror"]),
              help="Isolated signs: test-time augmentation; mirror averages each sample with its mirror image.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(run_dir: str, store: str, split: str, language: str, groups: str | None, out_dir: str | None,
             beam: int | None, lm_path: str | None, lm_weight: float | None, insertion_bonus: float | None,
             tta: str, as_json: bool) -> None:
    """Score a trained run on a pose store.

    Isolated signs: top-1/top-5, per-class accuracy, per language, confusion
    matrices. Continuous signing: WER with substitutions, deletions and
    insertions for greedy, beam and beam + LM decoding, and CTM files of
    the hypotheses with a reference STM for sclite or the PHOENIX scripts.

    \b
    Example:
      slr-pose evaluate runs/msl150 poses.h5 --split test
      slr-pose evaluate runs/msl150 poses.h5 --groups vssigns.csv --json
      slr-pose evaluate runs/msl150 poses.h5 --split test --tta mirror
      slr-pose evaluate runs/cslr stitched.h5 --split test --lm-weight 1 --insertion-bonus 0.5
    """
    from slr_pose.evaluation.islr import evaluate_run

    decoding = {"beam_width": beam, "lm": lm_path, "lm_weight": lm_weight, "insertion_bonus": insertion_bonus}
    summary = evaluate_run(run_dir, store, split=split, language=language, groups=groups, out_dir=out_dir,
                           decoding=decoding, tta="" if tta == "none" else tta)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    if "greedy" in summary:
        _continuous_report(split, summary)
        return
    click.echo(metrics_line(split, summary))
    if "grouped" in summary:
        g = summary["grouped"]
        click.echo(
            f"grouped: top-1 {100 * g['top1']:.1f}%  VSSign {100 * g['vssign_top1']:.1f}% "
            f"({g['vssign_samples']} samples)  non-VSSign {100 * g['non_vssign_top1']:.1f}%"
        )
    click.echo(f"confusion matrices in {summary['output']}")


def _continuous_report(split: str, summary: dict) -> None:
    from slr_pose.training.cslr_decoding import DECODERS

    d = summary["decoding"]
    chosen = {"": "defaults", "given": "given"}.get(d["chosen_on"], f"chosen on {d['chosen_on']}")
    click.echo(f"{split}: {summary['samples']} samples, {summary['greedy']['ref_words']} reference glosses")
    for name, (label, beam, use_lm) in DECODERS.items():
        if name in summary:
            how = f"  (width {d['beam_width']}" + (f", LM weight {d['lm_weight']:g}, insertion bonus "
                                                   f"{d['insertion_bonus']:g}: {chosen})" if use_lm else ")")
            click.echo(f"  {label:<10} {wer_text(summary[name])}" + (how if beam else ""))
    if "beam_lm" not in summary:
        click.echo("  (no gloss LM for beam + LM: the run has none; give one with --lm)")
    out = summary["output"]
    click.echo(f"CTM hypotheses (greedy.ctm, beam.ctm, beam_lm.ctm) and reference.stm in {out}")
    click.echo(f"  score one with sclite: sclite -r {out}/reference.stm stm -h {out}/beam_lm.ctm ctm -o sum stdout")
