"""``slr-pose extract`` (videos -> pose store) and ``slr-pose merge`` (stores -> one store).

A thin layer: parse, call :mod:`slr_pose.keypoints.extraction` / :mod:`slr_pose.keypoints.store.merge`, report.
"""

from __future__ import annotations

from pathlib import Path

import click

from slr_pose.cli.options import face_option, output_file
from slr_pose.errors import SlrPoseError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@output_file("Pose store (.h5) to create or add to.")
@click.option("--backend", type=click.Choice(["auto", "holistic", "tasks"]), default="auto", show_default=True,
              help="Legacy MediaPipe Holistic or the Tasks landmarkers; auto: tasks when a model file is given, "
                   "else holistic where the installed mediapipe has it, else tasks.")
@click.option("--model-complexity", type=click.IntRange(0, 2), default=None,
              help="Holistic pose model: 0 lite, 1 full (default, bundled), 2 heavy.")
@click.option("--refine-face", is_flag=True, help="Holistic: refine lips, eyes and irises.")
@click.option("--hand-model", metavar="FILE", help="Tasks: hand_landmarker.task.")
@click.option("--pose-model", metavar="FILE", help="Tasks: pose_landmarker_*.task.")
@click.option("--face-model", metavar="FILE", help="Tasks: face_landmarker.task.")
@click.option("--holistic-model", metavar="FILE", help="Tasks: holistic_landmarker.task (pose, hands, face; alone).")
@face_option("Face points stored: none, 128 contour points, or the full 468-point mesh.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), help="Keep about this many frames per second.")
@click.option("--max-side", type=click.IntRange(min=16), help="Downscale frames to at most this many pixels per side.")
@click.option("--label", help="Label of every input (a manifest's label column wins).")
@click.option("--signer", help="Signer of every input.")
@click.option("--language", help="Sign language of every input, e.g. lsm, asl, rsl.")
@click.option("--split", help="Split of every input, e.g. train, val, test.")
@click.option("--label-from-folder", is_flag=True, help="Label each video by the folder holding it.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes extracting in parallel (one per core).")
@click.option("--shard", metavar="I/N|slurm",
              help="Extract only shard I of N (0-based), or this SLURM array task's shard; merge the shard stores after.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def extract(paths, output, backend, model_complexity, refine_face, hand_model, pose_model, face_model, holistic_model,
            face, fps, max_side, label, signer, language, split, label_from_folder, workers, shard, progress) -> None:
    """Extract MediaPipe landmarks from videos into a pose store.

    PATHS are video files, folders (searched recursively) or manifest .csv
    files (columns: path, and optionally id, label, signer, language, split,
    start, end, fps, glosses, transcript; a manifest path may also name a
    folder of frame images, PHOENIX style). Videos already in the store are skipped,
    so an interrupted run is resumed by running it again. Videos that cannot
    be used are listed in OUTPUT.failures.csv; the exit code is then 1.

    \b
    Examples:
      slr-pose extract videos/ -o poses.h5 --label-from-folder --language lsm
      slr-pose extract manifest.csv -o poses.h5 --workers 4 --max-side 640
      slr-pose extract clips/ -o part0.h5 --shard 0/2   # then: slr-pose merge part*.h5 -o poses.h5
      slr-pose extract clips/ -o "part$SLURM_ARRAY_TASK_ID.h5" --shard slurm   # in an sbatch --array job
      slr-pose extract clips/ -o hands.h5 --hand-model hand_landmarker.task
      slr-pose extract clips/ -o poses.h5 --holistic-model holistic_landmarker.task
    """
    from slr_pose.keypoints.backends import auto_backend, create_spec, native_logs_silenced
    from slr_pose.keypoints.extraction import ExtractOptions, run_extraction
    from slr_pose.keypoints.inputs import collect_inputs, in_shard, parse_shard

    part = parse_shard(shard) if shard else None
    if not output.parent.is_dir():
        raise SlrPoseError(f"output folder {output.parent} does not exist")
    models = {"hand_model": hand_model, "pose_model": pose_model, "face_model": face_model,
              "holistic_model": holistic_model}
    given = {k: v for k, v in models.items() if v is not None}
    if backend == "auto":  # Holistic's own options ask for Holistic: its absence is then the error to show
        holistic_asked = model_complexity is not None or refine_face
        backend = "tasks" if given else "holistic" if holistic_asked else auto_backend()
    if backend == "holistic":
        if given:
            raise SlrPoseError(f"--{next(iter(given)).replace('_', '-')} is for --backend tasks")
        spec = create_spec("holistic", model_complexity=1 if model_complexity is None else model_complexity,
                           refine_face=refine_face)
    else:
        if model_complexity is not None or refine_face:
            raise SlrPoseError("--model-complexity and --refine-face are for --backend holistic")
        spec = create_spec("tasks", **given)
    defaults = {"label": label, "signer": signer, "language": language, "split": split}
    items, problems = collect_inputs(paths, defaults=defaults, label_from_folder=label_from_folder)
    if part is not None:
        n_all = len(items)
        items = [i for i in items if in_shard(i.id, *part)]
        problems = [p for p in problems if in_shard(p.id, *part)]
        click.echo(f"shard {part[0]}/{part[1]}: {len(items)} of {n_all} inputs")
    options = ExtractOptions(spec, face=face, fps=fps, max_side=max_side)
    with native_logs_silenced():
        summary = run_extraction(items, output, options, problems=problems, workers=workers, progress=progress)
    for line in summary.lines():
        click.echo(line)
    if summary.failures:
        raise SystemExit(1)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("stores", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_file("Store to create or add to.")
def merge(stores, output) -> None:
    """Merge pose stores made the same way (e.g. extraction shards) into one.

    Samples found in more than one store are added once when identical and
    reported as conflicts (exit code 1) when not.

    \b
    Example:
      slr-pose merge part0.h5 part1.h5 -o poses.h5
    """
    from slr_pose.keypoints.store.merge import merge_stores

    summary = merge_stores(stores, output)
    for line in summary.lines():
        click.echo(line)
    if summary.conflicts:
        raise SystemExit(1)
