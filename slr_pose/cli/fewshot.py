"""``slr-pose fewshot``."""

from __future__ import annotations

import click

from slr_pose.cli.options import output_dir


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--source", required=True, type=click.Path(file_okay=False),
              help="A run trained on another (bigger) sign language.")
@click.option("--shots", default="1,3,10", show_default=True, help="Samples per class, comma-separated.")
@click.option("--methods", default="label_map,probe_lr,probe_knn,scratch,frozen,finetune", show_default=True,
              help="Which of label_map, probe_lr, probe_knn, scratch, frozen, finetune to compare.")
@output_dir("Where runs and tables go.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config value (repeatable).")
def fewshot(config: str, source: str, shots: str, methods: str, out_dir: str, overrides: tuple[str, ...]) -> None:
    """Few-shot transfer to the sign language of CONFIG from a SOURCE run.

    For each k, k training samples per class are drawn with data.shots_seed
    and each method is scored on the target's test split: the source model
    with its labels mapped by majority vote (label_map), scikit-learn probes
    on the frozen source encoder's pooled features (logistic regression,
    probe_lr; cosine 1-nearest-neighbour, probe_knn), a model trained from
    scratch, the source encoder frozen under a new head, and the source
    encoder fine-tuned.

    \b
    Example:
      slr-pose fewshot configs/demo_msl150.yaml --source runs/asl --shots 1,3,10 -o runs/fewshot
    """
    from slr_pose.errors import SlrPoseError
    from slr_pose.evaluation.fewshot import ALL_METHODS, fewshot_table, run_fewshot
    from slr_pose.outputs import check_output_dir
    from slr_pose.training.config import load_config

    try:
        ks = [int(k) for k in shots.split(",") if k.strip()]
    except ValueError:
        raise SlrPoseError(f"--shots must be whole numbers separated by commas, not {shots!r}") from None
    if not ks or min(ks) < 1:
        raise SlrPoseError(f"--shots needs at least one number >= 1, not {shots!r}")
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    bad = [m for m in chosen if m not in ALL_METHODS]
    if bad or not chosen:
        raise SlrPoseError(f"unknown method {bad[0] if bad else methods!r}; choose among {', '.join(ALL_METHODS)}")
    check_output_dir(out_dir, what="few-shot")
    rows = run_fewshot(load_config(config, list(overrides)), source, ks, out_dir, methods=chosen, log=click.echo)
    click.echo(fewshot_table(rows), nl=False)
    click.echo(f"results in {out_dir}/fewshot.md")
