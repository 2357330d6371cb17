"""``slr-pose train``."""

from __future__ import annotations

import click

from slr_pose.cli.options import output_dir
from slr_pose.cli.report import metrics_line


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@output_dir("Run directory (created; an existing run there is resumed).", dest="run_dir")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config value, e.g. --set train.epochs=5 (repeatable).")
@click.option("--device", default=None, help="auto (CUDA when present), cpu, cuda or cuda:N.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch (default: torch's own choice, or OMP_NUM_THREADS). "
                   "On a machine busy with other jobs, 1 is often several times faster.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar per epoch.")
def train(config: str, run_dir: str, overrides: tuple[str, ...], device: str | None, threads: int | None,
          progress: bool) -> None:
    """Train a recogniser from a YAML config; resume it if RUN_DIR holds one.

    \b
    Example:
      slr-pose train configs/demo_msl150.yaml -o runs/msl150
      slr-pose train configs/demo_msl150.yaml -o runs/msl150 --set train.epochs=60
      torchrun --nproc_per_node 2 -m slr_pose train configs/demo_msl150.yaml -o runs/ddp
      slr-pose train configs/demo_msl150.yaml -o runs/msl150 --threads 1   # a machine busy with other jobs
    """
    import torch

    from slr_pose.training.config import load_config
    from slr_pose.training.runtime import Dist
    from slr_pose.training.trainer import train as run_training

    overrides = list(overrides) + ([f"train.device={device}"] if device else [])
    cfg = load_config(config, overrides)
    if threads is not None:
        torch.set_num_threads(threads)  # not part of the config: a run may resume with another count
    result = run_training(cfg, run_dir, progress=progress, log=click.echo)
    if not Dist.from_env().main or not result.history:
        return  # under torchrun, rank 0 reports
    click.echo(f"best epoch {result.best_epoch}; run saved in {run_dir}")
    for name, metrics in (("val", result.val), ("test", result.test)):
        if metrics:
            click.echo(metrics_line(name, metrics))


