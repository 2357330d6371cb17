"""``slr-pose predict``."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("run_dir", metavar="RUN|MODEL.onnx", type=click.Path())
@click.argument("source", type=click.Path())
@click.option("--id", "sample_id", default=None, help="Sample id, when SOURCE is a pose store.")
@click.option("--language", default="", help="Which language's head to use (needed when the model has several).")
@click.option("-k", "--top-k", default=5, show_default=True, type=click.IntRange(min=1), help="Classes to show.")
@click.option("--beam", default=None, type=click.IntRange(min=1),
              help="Beam width (continuous signing; default: the run's, 10 unless set otherwise).")
@click.option("--lm-weight", default=None, type=click.FloatRange(min=0),
              help="Weight of the gloss LM (default: the run's, picked on validation at the end of training).")
@click.option("--insertion-bonus", default=None, type=float, help="Score added per gloss with the LM (default: the run's).")
@click.option("--window", default=None, type=click.IntRange(min=2),
              help="Continuous signing: model input frames run at once; longer inputs go window by window [512].")
@click.option("--lookahead", default=None, type=click.IntRange(min=1),
              help="Continuous signing: frames of context either side of a window, and of future a gloss "
                   "waits for before it is emitted [64].")
@click.option("--json", "as_json", is_flag=True, help="Print the prediction as JSON.")
def predict(run_dir: str, source: str, sample_id: str | None, language: str, top_k: int, beam: int | None,
            lm_weight: float | None, insertion_bonus: float | None, window: int | None, lookahead: int | None,
            as_json: bool) -> None:
    """Recognise the signs in a video (extracted now) or in a stored sample.

    RUN is a run directory; MODEL.onnx an exported isolated-sign graph (with
    its MODEL.onnx.json), scored by onnxruntime without torch.

    Isolated signs: the top-k classes with probabilities. Continuous signing:
    one line per gloss, ``START END GLOSS`` (seconds); memory and time stay
    bounded on long videos (see --window).

    \b
    Example:
      slr-pose predict runs/msl150 data/msl150/videos/doctor_001.mp4
      slr-pose predict runs/msl150 poses.h5 --id doctor_001 --json
      slr-pose predict runs/cslr lesson.mp4 --lm-weight 1 --window 1024
      slr-pose predict msl150.onnx doctor_001.mp4
    """
    if run_dir.lower().endswith(".onnx"):  # the torch-free runtime: torch is never imported
        from slr_pose.runtime import OnnxModel, recognise

        given = {"--window": window, "--lookahead": lookahead, "--beam": beam, "--lm-weight": lm_weight,
                 "--insertion-bonus": insertion_bonus}
        named = [k for k, v in given.items() if v is not None]
        if named:
            raise click.UsageError(f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} for continuous-signing "
                                   f"runs; {run_dir} recognises isolated signs")
        p = recognise(OnnxModel(run_dir), source, sample_id=sample_id, language=language, top_k=top_k)
    else:
        from slr_pose.inference.prediction import predict as run_predict

        p = run_predict(run_dir, source, sample_id=sample_id, language=language, top_k=top_k, beam_width=beam,
                        lm_weight=lm_weight, insertion_bonus=insertion_bonus, window=window, lookahead=lookahead)
    if as_json:
        click.echo(json.dumps(p.to_json(), indent=1, ensure_ascii=False))
        return
    if p.top:
        click.echo(f"{source} ({p.frames} frames, language {p.language}):")
        for label, prob in p.top:
            click.echo(f"  {label:<20} {100 * prob:5.1f}%")
        return
    for gloss, start, end in p.glosses:
        click.echo(f"{start:.2f} {end:.2f} {gloss}")
