"""``slr-pose predict``."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("source", type=click.Path())
@click.option("--id", "sample_id", default=None, help="Sample id, when SOURCE is a pose store.")
@click.option("--language", default="", help="Which language's head to use (needed when the model has several).")
@click.option("-k", "--top-k", default=5, show_default=True, type=click.IntRange(min=1), help="Classes to show.")
@click.option("--beam", default=10, show_default=True, type=click.IntRange(min=1), help="Beam width (continuous signing).")
@click.option("--json", "as_json", is_flag=True, help="Print the prediction as JSON.")
def predict(run_dir: str, source: str, sample_id: str | None, language: str, top_k: int, beam: int, as_json: bool) -> None:
    """Recognise the signs in a video (extracted now) or in a stored sample.

    Isolated signs: the top-k classes with probabilities. Continuous signing:
    the gloss sequence with start and end times.

    \b
    Example:
      slr-pose predict runs/msl150 data/msl150/videos/doctor_001.mp4
      slr-pose predict runs/msl150 poses.h5 --id doctor_001 --json
    """
    from slr_pose.training.prediction import predict as run_predict

    p = run_predict(run_dir, source, sample_id=sample_id, language=language, top_k=top_k, beam_width=beam)
    if as_json:
        click.echo(json.dumps(p.to_json(), indent=1, ensure_ascii=False))
        return
    if p.top:
        click.echo(f"{source} ({p.frames} frames, language {p.language}):")
        for label, prob in p.top:
            click.echo(f"  {label:<20} {100 * prob:5.1f}%")
        return
    click.echo(f"{source} ({p.frames} frames, language {p.language}): {len(p.glosses)} gloss(es)")
    for gloss, start, end in p.glosses:
        click.echo(f"  {start:8.2f}s {end:8.2f}s  {gloss}")
