"""``slr-pose verify``: check a pose store in full, and salvage what is intact."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--salvage", "salvage_to", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Copy every intact sample into this new store.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(store: Path, salvage_to: Path | None, as_json: bool) -> None:
    """Read every chunk of STORE and check every sample against its checksum.

    Lists each damaged sample and exits with code 1 when anything is damaged.
    With --salvage, every intact sample is copied into a new store, so a
    damaged store loses only what is really damaged.

    \b
    Examples:
      slr-pose verify poses.h5
      slr-pose verify poses.h5 --salvage poses-intact.h5
    """
    from slr_pose.keypoints.store.verify import salvage, verify_store

    report = verify_store(store)
    copied = salvage(report, salvage_to) if salvage_to is not None else None
    if as_json:
        click.echo(json.dumps({**report.to_json(), "salvaged": copied}, indent=1))
    else:
        for line in report.lines():
            click.echo(line)
        if copied is not None:
            click.echo(f"salvaged {copied} samples to {salvage_to}")
    if not report.ok:
        raise SystemExit(1)
