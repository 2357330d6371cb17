"""``slr-pose import FORMAT``: landmarks made elsewhere, into a pose store."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import click

from slr_pose.cli.options import face_option, output_file
from slr_pose.errors import SlrPoseError

#: Conflicting ids listed one per line before the summary; the rest are counted.
SHOW_CONFLICTS = 20


def _common(func):
    """Options every format shares: the store, its layout and what the source does not say."""

    @output_file("Pose store (.h5) to create or add to.", dest="store")
    @face_option("Face points kept: none, the 128 contour points, or the full 468-point mesh.")
    @click.option("--language", default=None, help="Language tag of every sample, e.g. ISO 639-3 ase, mfs, rsl, gsg.")
    @click.option("--split", default="", help="Split of every sample (train, dev, test, ...).")
    @click.option("--fps", type=float, default=None, help="Frame rate of the source videos (default: unknown, or the file's own).")
    @click.option("--width", type=int, default=None, help="Frame width in pixels (with --height; default: unknown, or the file's own).")
    @click.option("--height", type=int, default=None, help="Frame height in pixels.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _geometry(fps: float | None, width: int | None, height: int | None):
    from slr_pose.keypoints.importers import Geometry

    if (width is None) != (height is None):
        raise SlrPoseError("give --width and --height together")
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise SlrPoseError(f"--fps {fps} is not a positive frame rate")
    if width is not None and (width <= 0 or height <= 0):
        raise SlrPoseError(f"--width {width} --height {height}: frame size must be positive")
    return Geometry(fps if fps is not None else math.nan, width or 0, height or 0)


def _run(store: Path, layout, prov: dict, candidates: list) -> None:
    """Import, then report one line (and the conflicts, which make the exit code 1)."""
    from tqdm import tqdm

    from slr_pose.keypoints.importers import import_samples

    with tqdm(total=len(candidates), unit="sample", disable=None, leave=False) as bar:
        report = import_samples(store, layout, prov, candidates, progress=lambda _: bar.update())
    for sid in report.conflicts[:SHOW_CONFLICTS]:
        click.echo(f"conflict: {sid} is stored from different content; kept the stored sample")
    if len(report.conflicts) > SHOW_CONFLICTS:
        click.echo(f"conflict: ... and {len(report.conflicts) - SHOW_CONFLICTS} more")
    click.echo(
        f"added {len(report.added)}, skipped {len(report.skipped)} already stored, "
        f"{len(report.conflicts)} conflicts; {store} holds {report.total} sample{'' if report.total == 1 else 's'}"
    )
    if report.conflicts:
        raise click.ClickException(f"{len(report.conflicts)} samples conflict with stored ones and were not imported")


@click.group("import")
def import_group() -> None:
    """Import landmarks made elsewhere into a pose store.

    Samples land in the same layout as extracted video, masked where the
    source has no landmarks. Importing again skips samples already stored
    from the same content; ids stored from different content are reported
    as conflicts and never overwritten.

    \b
    Examples:
      slr-pose import kaggle asl-signs/train.csv -o asl.h5 --sign hello --sign thankyou
      slr-pose import numpy data/msl150/keypoints_sample.npz --spec msl150 --language mfs --trim -o msl.h5
      slr-pose import pose clips/ --language ase -o clips.h5
    """


@import_group.command("kaggle")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--sign", "signs", multiple=True, help="Import only this sign (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Import at most this many sequences.")
@click.option("--skip-missing", is_flag=True, help="Leave out files listed in the csv that do not exist.")
@_common
def kaggle(source: Path, signs, limit, skip_missing, store, face, language, split, fps, width, height) -> None:
    """Kaggle asl-signs parquet files listed by a train.csv (SOURCE: the csv or its folder).

    id = sequence_id, label = sign, signer = participant_id; language
    defaults to ase (ASL). Needs pyarrow: pip install "slr-pose[kaggle]".

    \b
    Example:
      slr-pose import kaggle asl-signs/ -o asl.h5 --sign hello --sign thankyou
    """
    from slr_pose.keypoints.importers.kaggle import kaggle_candidates, kaggle_provenance
    from slr_pose.keypoints.layout import holistic_layout

    layout = holistic_layout(face)
    cands = kaggle_candidates(source, layout, geometry=_geometry(fps, width, height), language="ase" if language is None else language,
                              split=split, signs=signs, limit=limit, skip_missing=skip_missing)
    _run(store, layout, kaggle_provenance(layout), cands)


@import_group.command("numpy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--spec", required=True, help="Column layout of a frame vector, or a preset: msl150, 1662, 258, kaggle543.")
@click.option("--zero-is-missing/--zero-is-data", default=True, show_default=True,
              help="An all-zero block in a frame means 'not detected'.")
@click.option("--trim", is_flag=True, help="Drop leading and trailing frames without any landmark (padding).")
@click.option("--array-key", default=None, help=".npz: the stacked (N, T, D) array [keypoints or the only one].")
@click.option("--label-key", default=None, help=".npz: per-sample labels [label, labels or y].")
@click.option("--id-key", default=None, help=".npz: per-sample ids [sample_id, sample_ids, id or ids].")
@click.option("--id-format", default=None, help=".npz: sample id from {stem} {index} {id} {label} [{id}, else {label}_{id}, else {stem}_{index}].")
@click.option("--label", default="", help="Label of samples that have none.")
@click.option("--label-from-folder", is_flag=True, help="Label each file's samples with its folder name.")
@_common
def numpy_(paths, spec, zero_is_missing, trim, array_key, label_key, id_key, id_format, label, label_from_folder,
           store, face, language, split, fps, width, height) -> None:
    """NumPy .npy / .npz landmark arrays (PATHS: files or folders).

    \b
    A spec lists blocks of columns in order, GROUP[START:STOP]:CHANNELS:
      GROUP     pose, left_hand, right_hand or face (skip:N ignores N columns)
      [a:b]     MediaPipe landmark indices, b excluded ([i]: one; none: all)
      CHANNELS  one letter per value: x y (required) z v(isibility) _(ignored)
    Values run landmark by landmark (x0 y0 z0 x1 y1 z1 ...).
    \b
    Presets:
      msl150     pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz          (226)
      1662       pose:xyzv,face:xyz,left_hand:xyz,right_hand:xyz       (1662)
      258        pose:xyzv,left_hand:xyz,right_hand:xyz                (258)
      kaggle543  face:xyz,left_hand:xyz,pose:xyz,right_hand:xyz        (543x3)
    \b
    A .npy holds one sample (T, D) or (T, V, C), id = its name. A .npz holds a
    stacked (N, T, D) array with optional label and id arrays, or one array
    per sample named by its id.
    \b
    Example:
      slr-pose import numpy data/msl150/keypoints_sample.npz --spec msl150 \\
          --language mfs --trim -o msl.h5
    """
    from slr_pose.keypoints.importers.arrays import (
        ArrayOptions,
        ColumnSpec,
        array_candidates,
        array_provenance,
    )
    from slr_pose.keypoints.layout import holistic_layout

    layout = holistic_layout(face)
    parsed = ColumnSpec.parse(spec)
    options = ArrayOptions(zero_is_missing, trim, array_key, label_key, id_key, id_format, label, label_from_folder)
    cands = array_candidates(paths, parsed, layout, options=options, geometry=_geometry(fps, width, height),
                             language=language or "", split=split)
    _run(store, layout, array_provenance(parsed, layout, options), cands)


@import_group.command("pose")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--person", type=click.IntRange(min=0), default=0, show_default=True, help="Person of a multi-person file.")
@click.option("--label", default="", help="Label of every sample.")
@click.option("--label-from-folder", is_flag=True, help="Label each file with its folder name.")
@_common
def pose(paths, person, label, label_from_folder, store, face, language, split, fps, width, height) -> None:
    """pose-format .pose files of MediaPipe Holistic landmarks (PATHS: files or folders).

    x and y are divided by the header's frame size; fps and size come from
    the header unless --fps / --width --height are given. Needs pose-format:
    pip install "slr-pose[pose-format]".

    \b
    Example:
      video_to_pose -i clip.mp4 -o clip.pose --format mediapipe
      slr-pose import pose clip.pose --language ase -o clips.h5
    """
    from slr_pose.keypoints.importers.pose_format import (
        pose_candidates,
        pose_provenance,
    )
    from slr_pose.keypoints.layout import holistic_layout

    layout = holistic_layout(face)
    cands = pose_candidates(paths, layout, person=person, geometry=_geometry(fps, width, height), label=label,
                            label_from_folder=label_from_folder, language=language or "", split=split)
    _run(store, layout, pose_provenance(layout, person), cands)
