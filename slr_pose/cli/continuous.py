"""Continuous-signing data: ``slr-pose stitch``, ``segment``, ``phoenix``, ``boston104`` and ``elan``.

A thin layer over :mod:`slr_pose.continuous` (``stitch``, ``segments`` with
``annotations``, ``phoenix``, ``boston104``, ``elan``): parse, call, report.
Every command but ``boston104 import`` (which adds to a store as the
``import`` commands do) writes a new store and never touches its input.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from slr_pose.cli.options import force_option, output_file
from slr_pose.errors import SlrPoseError

_OUT = output_file("New pose store (.h5) to write; must not exist.")
_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _plural(n: int, word: str, words: str = "") -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def _bar(total: int | None, unit: str):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=None, leave=False)


@click.command("stitch", context_settings=_SETTINGS)
@click.argument("isolated", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_OUT
@click.option("--sentences", type=click.IntRange(min=1), default=400, show_default=True,
              help="Sentences in all, divided over the splits in proportion to their samples.")
@click.option("--min-glosses", type=click.IntRange(min=1), default=3, show_default=True, help="Fewest glosses per sentence.")
@click.option("--max-glosses", type=click.IntRange(min=1), default=8, show_default=True, help="Most glosses per sentence.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the grammar, the split and every draw.")
@click.option("--split-by", type=click.Choice(["auto", "store", "signer", "sample"]), default="auto", show_default=True,
              help="Source split: the store's split column, by signer, or by sample (auto: the first that applies).")
@click.option("--test-fraction", type=float, default=0.25, show_default=True,
              help="Share of signers (or of each sign's samples) put in test when splitting here.")
@click.option("--val-fraction", type=float, default=0.0, show_default=True,
              help="Share put in a validation split the same way, its sentences from its own samples.")
@click.option("--density", type=float, default=0.5, show_default=True,
              help="Random bigram grammar: share of the glosses each gloss may be followed by.")
@click.option("--lm", "lm_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Draw sentences from this ARPA gloss language model instead of a random grammar.")
@click.option("--gloss", "glosses", multiple=True, help="Use only this sign (repeatable; default: every label).")
@click.option("--speed", type=float, default=0.05, show_default=True,
              help="Transition speed of the wrists, in frame heights per frame.")
@click.option("--min-transition", type=click.IntRange(min=0), default=2, show_default=True, help="Fewest frames between two signs.")
@click.option("--max-transition", type=click.IntRange(min=0), default=12, show_default=True, help="Most frames between two signs.")
@click.option("--min-sign-frames", type=click.IntRange(min=1), default=4, show_default=True,
              help="Leave out samples with fewer frames once idle frames are trimmed.")
def stitch(isolated, output, sentences, min_glosses, max_glosses, seed, split_by, test_fraction, val_fraction, density,
           lm_path, glosses, speed, min_transition, max_transition, min_sign_frames) -> None:
    """Stitch isolated signs of ISOLATED into continuous sentences (a benchmark, not real continuous signing).

    Gloss sequences come from a seeded random bigram grammar over the signs
    (or from --lm); each sentence is played by one signer's real samples,
    idle frames trimmed, with interpolated transitions between signs. Train
    sentences use only train samples, test sentences only test samples
    (and validation sentences, with --val-fraction, only their own).

    \b
    Example:
      slr-pose import kaggle asl-signs/ -o asl.h5
      slr-pose stitch asl.h5 -o asl-stitched.h5 --sentences 400 --min-glosses 3 --max-glosses 8 --seed 0
    """
    from slr_pose.continuous.stitch import StitchSpec, stitch_store

    spec = StitchSpec(sentences=sentences, min_glosses=min_glosses, max_glosses=max_glosses, seed=seed,
                      split_by=split_by, test_fraction=test_fraction, val_fraction=val_fraction, speed=speed,
                      min_transition=min_transition, max_transition=max_transition, density=density,
                      min_sign_frames=min_sign_frames)
    grammar = _lm_grammar(lm_path, isolated, glosses) if lm_path else None
    with _bar(sentences, "sentence") as bar:
        report = stitch_store(isolated, output, spec, grammar=grammar, glosses=list(glosses) or None,
                              progress=lambda _: bar.update())
    parts = ", ".join(f"{s} {n} from {_plural(report.sources[s], 'sample')}" for s, n in report.sentences.items())
    click.echo(f"wrote {_plural(sum(report.sentences.values()), 'stitched sentence')} to {output}: {parts} (split by {report.split_by})")
    click.echo(f"glosses ({len(report.glosses)}): {' '.join(report.glosses)}")
    if report.too_short:
        click.echo(f"left out {_plural(len(report.too_short), 'sample')} with fewer than {min_sign_frames} active frames (first: {report.too_short[0]})")


def _lm_grammar(path: Path, isolated: Path, glosses):
    from slr_pose.continuous.sentences import LMGrammar
    from slr_pose.keypoints.store.derive import open_source

    try:
        from slr_pose.decoding.lm import NGramLM
    except ImportError:
        raise SlrPoseError("--lm needs slr_pose.decoding (the gloss language model) in this installation") from None
    labels = set(open_source(isolated).column("label").tolist()) - {""}
    return LMGrammar(NGramLM.load(path), list(glosses) or sorted(labels), name=path.name)


@click.command("segment", context_settings=_SETTINGS)
@click.argument("recordings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("annotations", type=click.Path(exists=True, path_type=Path))
@_OUT
@click.option("--window", type=float, default=30.0, show_default=True, help="Window length in seconds.")
@click.option("--overlap", type=float, default=0.0, show_default=True, help="Overlap of consecutive windows in seconds.")
@click.option("--whole", is_flag=True, help="No windows: one sample per recording with all its frames and glosses.")
@click.option("--rule", type=click.Choice(["midpoint", "inside"]), default="midpoint", show_default=True,
              help="A gloss belongs to the window holding its midpoint, or only to a window holding all of it.")
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "eaf", "slan-json", "slan-xml", "slan-eaf"]),
              default="auto", show_default=True,
              help="ANNOTATIONS format (auto: by suffix; the slan-tool's .eaf export must be named: its times are centiseconds).")
@click.option("--gloss-tier", "gloss_tiers", multiple=True,
              help="Tier of glosses, by name or pattern (repeatable; tiers are merged) [every tier with 'gloss' in its name].")
@click.option("--transcript-tier", "text_tiers", multiple=True,
              help="Tier of the translation or transcript, by name or pattern (repeatable).")
@click.option("--recording", default=None, help="Sample id of the recording one annotation file belongs to.")
@click.option("--transcript", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Timed transcript lines: video,start,end,text.")
@click.option("--unit", type=click.Choice(["s", "ms"]), default="s", show_default=True, help="Unit of the CSV tables' times.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Frame rate of recordings stored without frame times.")
@click.option("--min-frames", type=click.IntRange(min=1), default=1, show_default=True,
              help="Leave out windows with fewer frames (e.g. a short tail).")
def segment(recordings, annotations, output, window, overlap, whole, rule, fmt, gloss_tiers, text_tiers, recording,
            transcript, unit, fps, min_frames) -> None:
    """Cut long RECORDINGS into fixed-length windows with the glosses of ANNOTATIONS.

    ANNOTATIONS is a CSV gloss table with columns video,start,end,gloss
    (video = the recording's sample id, times from the start of the
    recording), an ELAN .eaf file, a slan-tool export (.json, .xml), or a
    folder of .eaf files. An .eaf annotates the recording named by its
    linked video (lesson01.mp4: lesson01), else by its own name; a slan-tool
    export the recording named by its file name; --recording overrides both.
    Each window becomes a sample RECORDING/NNNN with its gloss sequence,
    gloss spans relative to the window and the transcript lines that fall in
    it; with --whole each recording becomes one sample RECORDING.

    \b
    Example:
      slr-pose segment lessons.h5 glosses.csv --transcript asr.csv -o clips30.h5 --window 30
      slr-pose segment lessons.h5 lesson01.eaf --gloss-tier "RH-gloss|LH-gloss" --transcript-tier Translation -o w.h5
      slr-pose segment lessons.h5 eaf_folder/ -o sentences.h5 --whole
    """
    from slr_pose.continuous.annotations import read_annotations
    from slr_pose.continuous.segments import WindowSpec, read_timed_table, segment_store

    spec = WindowSpec(window, overlap, rule, min_frames, whole)
    events, texts = read_annotations(annotations, fmt, gloss_tiers=list(gloss_tiers) or None, text_tiers=list(text_tiers),
                                     recording=recording, unit=unit)
    if transcript:
        texts += read_timed_table(transcript, "text", unit)
    with _bar(None, "recording") as bar:
        report = segment_store(recordings, output, events, texts, spec, fps=fps, progress=lambda _: bar.update())
    n = len(report.windows)
    what = _plural(n, "whole recording") if whole else f"{_plural(n, 'window')} of {window:g} s"
    click.echo(
        f"wrote {what} from {_plural(len(report.recordings), 'recording')} "
        f"to {output}: {_plural(report.glosses, 'gloss', 'glosses')}, {report.cut} cut by a window edge"
    )
    if report.dropped:
        click.echo(f"left out {_plural(report.dropped, 'window')} with fewer than {min_frames} frames")
    if report.unannotated:
        click.echo(f"left out {_plural(len(report.unannotated), 'recording')} without glosses (first: {report.unannotated[0]})")


@click.group("phoenix", context_settings=_SETTINGS)
def phoenix() -> None:
    """RWTH-PHOENIX-Weather 2014 / 2014-T: extraction manifests and gloss annotations.

    ANNOTATIONS is a PHOENIX annotation file, a folder with train/dev/test
    files (train.csv or train.corpus.csv or PHOENIX-2014-T.train.corpus.csv),
    or the corpus root. PHOENIX's dev split is stored as val.

    \b
    Example:
      slr-pose phoenix manifest phoenix-2014-multisigner/ -o phoenix.csv
      slr-pose extract phoenix.csv -o raw.h5 && slr-pose phoenix attach phoenix-2014-multisigner/ raw.h5 -o phoenix.h5
    """


_SPLIT = click.option("--split", "splits", multiple=True, type=click.Choice(["train", "dev", "test"]),
                      help="Only this PHOENIX split (repeatable; default: all).")


@phoenix.command("manifest", context_settings=_SETTINGS)
@click.argument("annotations", type=click.Path(exists=True, path_type=Path))
@output_file("Manifest .csv to write.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Corpus root the paths are relative to (written absolute).")
@click.option("--pattern", default=None,
              help="Path of each sentence's frames or video, from {split} {id} {folder} {signer} "
                   "[features/fullFrame-210x260px/{split}/{folder}].")
@click.option("--language", default="gsg", show_default=True, help="Language tag of every sample.")
@_SPLIT
@force_option
def phoenix_manifest(annotations, output, root, pattern, language, splits, force) -> None:
    """Write an extraction manifest (path,id,signer,split,glosses,transcript,language).

    \b
    Example:
      slr-pose phoenix manifest phoenix-2014-multisigner/ --root phoenix-2014-multisigner -o phoenix.csv
      slr-pose phoenix manifest PHOENIX-2014-T/ --pattern "videos/{split}/{id}.mp4" -o phoenix-t.csv
    """
    from slr_pose.continuous.phoenix import (
        DEFAULT_PATTERN,
        SPLITS,
        STORE_SPLITS,
        load_corpus,
        write_manifest,
    )
    from slr_pose.outputs import check_output

    check_output(output, "text", force=force)
    records = load_corpus(annotations, splits or SPLITS)
    n = write_manifest(records, output, root=root, pattern=pattern or DEFAULT_PATTERN, language=language)
    counts = Counter(STORE_SPLITS[r.split] for r in records)
    click.echo(f"wrote {_plural(n, 'row')} to {output} ({', '.join(f'{s} {c}' for s, c in counts.items())})")


@phoenix.command("attach", context_settings=_SETTINGS)
@click.argument("annotations", type=click.Path(exists=True, path_type=Path))
@click.argument("store", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_OUT
@click.option("--keep-unmatched", is_flag=True, help="Also copy samples whose id is no PHOENIX sentence.")
@click.option("--language", default="gsg", show_default=True, help="Language tag of the labelled samples.")
@_SPLIT
def phoenix_attach(annotations, store, output, keep_unmatched, language, splits) -> None:
    """Copy STORE to a new store with each sentence's glosses, signer, split and translation.

    Samples are matched by id (the PHOENIX sentence id, or one component of
    a path-like id such as train/<id>/1).

    \b
    Example:
      slr-pose extract phoenix.csv -o phoenix-raw.h5
      slr-pose phoenix attach phoenix-2014-multisigner/ phoenix-raw.h5 -o phoenix.h5
    """
    from slr_pose.continuous.phoenix import SPLITS, attach_records, load_corpus

    records = load_corpus(annotations, splits or SPLITS)
    with _bar(None, "sample") as bar:
        report = attach_records(store, records, output, language=language, keep_unmatched=keep_unmatched,
                                progress=lambda _: bar.update())
    click.echo(f"attached glosses to {_plural(len(report.attached), 'sample')} in {output}")
    if report.unmatched:
        verb = "copied unlabelled" if keep_unmatched else "left out"
        click.echo(f"{verb} {_plural(len(report.unmatched), 'sample')} with no PHOENIX id (first: {report.unmatched[0]})")
    if report.length_mismatch:
        click.echo(f"{_plural(len(report.length_mismatch), 'sample')} differ from the annotated frame count (first: {report.length_mismatch[0]})")
    click.echo(f"{_plural(len(report.absent), 'annotated sentence')} not in {store}")


@click.group("boston104", context_settings=_SETTINGS)
def boston104() -> None:
    """RWTH-BOSTON-104: 201 real continuous ASL sentences by 3 signers, as tracked hands and nose.

    FOLDER holds sentences.npz, sentence_word_spans.json, spec.json and
    words.npz. The tracked centres of the left and right hand and the nose
    tip are stored as pose/LEFT_WRIST, pose/RIGHT_WRIST and pose/NOSE (x, y
    divided by 312 px; frame size unknown; 30 fps); every other landmark is
    missing. The standard split is kept (161 train, 40 test sentences).

    \b
    Example:
      slr-pose boston104 import ../shared/data/boston104 -o boston.h5
      slr-pose boston104 import ../shared/data/boston104 --words --context 8 -o boston-words.h5
    """


@boston104.command("import", context_settings=_SETTINGS)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@output_file("Pose store (.h5) to create or add to.", dest="store")
@click.option("--words", is_flag=True, help="Import the 888 word segments (isolated signs) instead of the sentences.")
@click.option("--context", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --words: frames of the sentence kept either side of each word (sign_start/sign_end mark it).")
@click.option("--face", type=click.Choice(["none", "contour", "full"]), default="none", show_default=True,
              help="Face points of the store's layout (all missing here); match the stores it is used with.")
def boston104_import(folder, store, words, context, face) -> None:
    """Import the sentences (glosses, word spans, signer, split) or, with --words, the words of FOLDER.

    Sentence ids are the video ids 001..201; word ids SENTENCE/K (K: the
    word's place in its sentence). Importing again skips what is stored.

    \b
    Example:
      slr-pose boston104 import ../shared/data/boston104 -o boston.h5
    """
    from slr_pose.cli.importing import _run
    from slr_pose.continuous.boston104 import (
        boston_provenance,
        sentence_candidates,
        word_candidates,
    )
    from slr_pose.keypoints.layout import holistic_layout

    if context and not words:
        raise SlrPoseError("--context applies to --words")
    layout = holistic_layout(face)
    if words:
        cands = word_candidates(folder, layout, context=context)
        prov = boston_provenance(layout, "words", context)
    else:
        cands, prov = sentence_candidates(folder, layout), boston_provenance(layout, "sentences")
    _run(store, layout, prov, cands)


@click.group("elan", context_settings=_SETTINGS)
def elan() -> None:
    """ELAN .eaf files (and slan-tool exports): what they hold, before cutting recordings with them.

    \b
    Example:
      slr-pose elan tiers lesson01.eaf
      slr-pose segment lessons.h5 lesson01.eaf --gloss-tier "RH-gloss|LH-gloss" -o windows.h5
    """


@elan.command("tiers", context_settings=_SETTINGS)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "eaf", "slan-json", "slan-xml", "slan-eaf"]),
              default="auto", show_default=True, help="File format (auto: by suffix; .eaf is ELAN's).")
def elan_tiers(path, fmt) -> None:
    """List the recording id and each tier of PATH: annotations, first start and last end (seconds).

    \b
    Example:
      slr-pose elan tiers lesson01.eaf
    """
    from slr_pose.continuous.annotations import annotation_format
    from slr_pose.continuous.elan import read_eaf
    from slr_pose.continuous.krsl import read_slan

    fmt = annotation_format(path, fmt)
    if fmt == "csv":
        raise SlrPoseError(f"{path} is a CSV table: it has no tiers")
    doc = read_eaf(path) if fmt == "eaf" else read_slan(path, fmt)
    click.echo(f"recording {doc.recording}")
    for name, rows in doc.tiers.items():
        rows = [r for r in rows if (r[2] or "").strip()]
        span = f"{min(r[0] for r in rows):.3f} .. {max(r[1] for r in rows):.3f} s" if rows else "empty"
        click.echo(f"{name}\t{_plural(len(rows), 'annotation')}\t{span}")
