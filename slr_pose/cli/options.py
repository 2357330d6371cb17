"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path

import click

#: ``--force``: replace an existing output file of the command's own kind (never a store, a run or another kind).
force_option = click.option(
    "--force", is_flag=True,
    help="Replace the output file if it exists (only a file of the kind this command writes).",
)


#: the face detail of :func:`slr_pose.keypoints.layout.holistic_layout` (equal to its ``FACE_DETAIL``, which a
#: test checks); written out here so that ``--help`` does not import numpy through the layout module
FACE_DETAIL = ("none", "contour", "full")


def face_option(help: str):
    """``--face none|contour|full``: the face points a store keeps."""
    return click.option("--face", type=click.Choice(FACE_DETAIL), default="contour", show_default=True, help=help)


def output_file(help: str, *, dest: str = "output", required: bool = True):
    """``-o/--output FILE``: what the command writes (a store, a table, a model; see :mod:`slr_pose.outputs`)."""
    return click.option("-o", "--output", dest, required=required, default=None,
                        type=click.Path(dir_okay=False, path_type=Path), help=help)


def output_dir(help: str, *, dest: str = "out_dir", required: bool = True):
    """``-o/--output DIR``: a folder the command creates or resumes (a run, a study, evaluation files)."""
    return click.option("-o", "--output", dest, required=required, default=None,
                        type=click.Path(file_okay=False, path_type=Path), help=help)
