"""``slr-pose frames``: the RGB frame cache of a pose store (pose-guided crops, decoded once)."""

from __future__ import annotations

from pathlib import Path

import click

from slr_pose.cli.options import output_file


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@output_file("Frame cache (.h5) to create or add to [STORE.frames.h5].", required=False)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder the store's relative video paths are under (default: the working folder).")
@click.option("--side", type=click.IntRange(16, 1024), default=224, show_default=True,
              help="Side of the square signer crops in pixels (224 as in Logos; 112 or 160 for CPU work).")
@click.option("--margin", type=click.FloatRange(0, 2), default=None,
              help="Margin around the landmarks' box, a fraction of its size per side [0.15].")
@click.option("--quality", type=click.IntRange(1, 100), default=90, show_default=True, help="JPEG quality.")
def frames(store: Path, output: Path | None, root: Path | None, side: int, margin: float | None, quality: int) -> None:
    """Cache the signer crops of every sample of STORE for the RGB stream.

    Each sample's video is decoded as its landmarks were (the store's fps and
    max side), the square around the signer's shoulders, head and hands over
    the whole clip (from the stored landmarks, with a margin) is cut out of
    every stored frame, resized to --side and kept as JPEG. Running it again
    skips what is cached; a run killed at any moment keeps everything
    finished. Videos that cannot be used are listed in OUTPUT.failures.csv
    (exit code 1).

    \b
    Examples:
      slr-pose frames poses.h5 --side 224
      slr-pose frames poses.h5 -o poses-112.frames.h5 --side 112 --root /data/videos
    """
    from slr_pose.outputs import check_store_output
    from slr_pose.rgb.cache_build import CropSettings, build_cache
    from slr_pose.rgb.crop import DEFAULT_MARGIN
    from slr_pose.training.config import default_frames_path

    output = output or Path(default_frames_path(str(store)))
    check_store_output(output, "a frame cache")
    settings = CropSettings(side=side, margin=DEFAULT_MARGIN if margin is None else margin, jpeg_quality=quality)
    summary = build_cache(store, output, settings, root=root)
    for line in summary.lines():
        click.echo(line)
    if summary.failures:
        raise SystemExit(1)
