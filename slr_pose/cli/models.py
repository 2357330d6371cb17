"""``slr-pose models``: the ``.task`` files of the tasks backend: list, verify, download."""

from __future__ import annotations

from pathlib import Path

import click

_HELP = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=_HELP)
def models() -> None:
    """MediaPipe .task model files of the tasks backend (the holistic backend needs none).

    \b
    Examples:
      slr-pose models list
      slr-pose models download holistic
      slr-pose models verify ~/.cache/slr-pose/models/holistic_landmarker.task
    """


@models.command("list", context_settings=_HELP)
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), help="Model cache folder.")
def list_models(cache: Path | None) -> None:
    """The .task files each landmarker needs, MediaPipe's URL for each, and whether the cache has it.

    \b
    Examples:
      slr-pose models list
      slr-pose models list --cache /shared/mediapipe-models
    """
    from slr_pose.keypoints.backends.models import MODELS, cache_dir, cached_model

    folder = cache_dir(cache)
    click.echo(f"cache {folder}")
    for m in MODELS.values():
        where = cached_model(m.name, folder)
        click.echo(f"{m.name:<11} {m.option:<17} {m.file:<27} {'cached' if where else 'not cached'}  {m.url}")


@models.command("verify", context_settings=_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["holistic", "hand", "pose", "face"]),
              help="The landmarker every file must be (default: whichever its members say).")
@click.option("--sha256", "sha256", metavar="HEX", help="The digest every file must have.")
def verify(files: tuple[Path, ...], kind: str | None, sha256: str | None) -> None:
    """Check .task files: a zip with the landmarker's members; print each one's kind and sha256.

    \b
    Example:
      slr-pose models verify hand_landmarker.task --kind hand
    """
    from slr_pose.keypoints.backends.models import verify_model

    for f in files:
        k, digest = verify_model(f, kind, sha256)
        click.echo(f"{f}: {k} landmarker, sha256 {digest}")


@models.command("download", context_settings=_HELP)
@click.argument("name")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help="Model cache folder [default: $SLR_POSE_MODELS or ~/.cache/slr-pose/models].")
@click.option("--url", help="Fetch from here instead of MediaPipe's URL (a mirror, a file:// URL).")
@click.option("--sha256", "sha256", metavar="HEX", help="The digest the file must have.")
def download(name: str, cache: Path | None, url: str | None, sha256: str | None) -> None:
    """Download model NAME (see: slr-pose models list) into the cache and print its path.

    \b
    Examples:
      slr-pose models download holistic
      slr-pose extract clips/ -o poses.h5 --holistic-model "$(slr-pose models download holistic)"
    """
    from slr_pose.keypoints.backends.models import download_model

    click.echo(download_model(name, cache, url=url, sha256=sha256))
