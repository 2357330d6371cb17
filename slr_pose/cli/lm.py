"""``slr-pose lm``: train and score gloss n-gram language models for CTC beam search."""

from __future__ import annotations

from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_file
from slr_pose.errors import SlrPoseError

#: Longest n-gram: beyond this a gloss model has no counts to estimate from (KenLM's default limit is 6).
MAX_ORDER = 10

_INPUTS = """\b
SEQUENCES / TEXT are any mix of:
  *.stm   sclite STM files (e.g. phoenix2014-groundtruth-train.stm)
  *.csv   corpus tables with a gloss column (PHOENIX: fileid,signer,num_frames,gloss
          or the release's id|folder|signer|annotation)
  other   text, one space-separated gloss sequence per line"""


def _read_all(paths: tuple[Path, ...], clean: str) -> list[list[str]]:
    from slr_pose.decoding.corpus import read_gloss_sequences
    from slr_pose.decoding.phoenix import clean_hypothesis

    sequences: list[list[str]] = []
    for p in paths:
        sequences += read_gloss_sequences(p)
    if clean != "none":
        sequences = [clean_hypothesis(s, clean) for s in sequences]
    return sequences


_CLEAN = click.option(
    "--clean", type=click.Choice(["none", "phoenix2014", "phoenix2014t"]), default="none", show_default=True,
    help="Rewrite glosses as that PHOENIX evaluation rewrites hypotheses (drops __PU__, strips loc- ...) first.",
)  # fmt: skip


@click.group("lm")
def lm() -> None:
    """Gloss n-gram language models (interpolated modified Kneser-Ney, ARPA files).

    \b
    Examples:
      slr-pose lm train train.csv -o glosses.arpa --order 3
      slr-pose lm score glosses.arpa dev.csv
    """


@lm.command("train", epilog=_INPUTS)
@click.argument("sequences", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_file("ARPA file to write (gzip-compressed if it ends in .gz).")
@click.option("--order", default=3, show_default=True, type=click.IntRange(1, MAX_ORDER), help="n of the n-gram model.")
@_CLEAN
@force_option
def train(sequences: tuple[Path, ...], output: Path, order: int, clean: str, force: bool) -> None:
    """Train an n-gram model on gloss sequences and write it as ARPA.

    \b
    Examples:
      slr-pose lm train phoenix2014/train.csv -o phoenix.arpa --order 3
      slr-pose lm train phoenix2014-groundtruth-train.stm extra.txt -o glosses.arpa.gz --order 4
    """
    from slr_pose.decoding.lm import NGramLM
    from slr_pose.outputs import check_output

    resolved = {p.resolve() for p in sequences}
    if output.resolve() in resolved:
        raise SlrPoseError(f"output {output} is one of the input files; choose another name")
    data = _read_all(sequences, clean)
    check_output(output, "arpa", force=force)  # after the inputs: their errors come first
    model = NGramLM.train(data, order)
    model.save(output)
    n_glosses = sum(len(s) for s in data)
    n_types = len({g for s in data for g in s})
    sizes = ", ".join(f"{len(model.entries[k])} {k}-grams" for k in range(1, order + 1))
    click.echo(f"trained a {order}-gram model on {len(data)} sentences ({n_glosses} glosses, {n_types} distinct)")
    click.echo(f"wrote {output} ({sizes})")


@lm.command("score", epilog=_INPUTS)
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("text", nargs=-1, required=True, type=click.Path(path_type=Path))
@_CLEAN
def score(model: Path, text: tuple[Path, ...], clean: str) -> None:
    """Print the perplexity of an ARPA model on gloss sequences.

    Perplexity counts every gloss and each sentence end; glosses the model
    does not know are scored as <unk>.

    \b
    Example:
      slr-pose lm score phoenix.arpa phoenix2014/dev.csv
    """
    import math

    from slr_pose.decoding.lm import NGramLM

    lm_model = NGramLM.load(model)
    data = _read_all(text, clean)
    if not data:
        raise SlrPoseError(f"no gloss sequences in {', '.join(map(str, text))}")
    total, n, oov = lm_model.evaluate(data)
    click.echo(f"perplexity {math.exp(-total / n):.2f} on {len(data)} sentences "
               f"({n - len(data)} glosses + {len(data)} sentence ends, {oov} glosses unknown to the model)")  # fmt: skip
