"""``slr-pose inspect``: what a pose store holds, and a look at one sample."""

from __future__ import annotations

import json
from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_file
from slr_pose.errors import SlrPoseError


@click.command("inspect")
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (keys: see slr_pose.keypoints.summary).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Labels, signers, ... listed.")
@click.option("--plot", "plot_id", metavar="SAMPLE_ID", default=None, help="Draw this sample's skeleton to -o.")
@output_file("With --plot: OUT.png (a grid of frames) or OUT.gif (an animation).", required=False)
@click.option("--frames", type=click.IntRange(min=1), default=8, show_default=True, help="With --plot to PNG: frames shown.")
@force_option
def inspect(store: Path, as_json: bool, top: int, plot_id: str | None, output: Path | None, frames: int, force: bool) -> None:
    """Summarise a pose store: samples, labels, signers, languages, splits,
    frames, detection rate per landmark group and provenance.

    \b
    Examples:
      slr-pose inspect poses.h5
      slr-pose inspect poses.h5 --json > summary.json
      slr-pose inspect poses.h5 --plot doctor_001 -o doctor.png
    """
    if output is not None and plot_id is None:
        raise SlrPoseError("-o names the picture of --plot SAMPLE_ID; give --plot too")
    if plot_id is not None:
        if output is None:
            raise SlrPoseError("--plot needs -o OUT.png or -o OUT.gif")
        from slr_pose.keypoints.plot import plot_sample
        from slr_pose.outputs import check_output

        if output.suffix.lower() in (".png", ".gif"):
            check_output(output, output.suffix.lower()[1:], force=force)
        plot_sample(store, plot_id, output, frames=frames)  # checks the extension before any work
        click.echo(f"wrote {output}")
        return
    from slr_pose.keypoints.summary import format_summary, summarize

    summary = summarize(store, top=top)
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
