"""Stores made from other stores: the never-in-place rule and the provenance they carry.

Attaching annotations, cutting long recordings into windows and stitching
isolated signs into sentences all read one store and write a *new* one. The
source is never touched: the output path must not exist yet (nor an
interrupted write to it), so a mistyped ``-o`` cannot append to, or mix
samples into, a store that already holds data. A derived store that fails
half-way (bad input found late, an interrupt) is removed again: it can be
remade from its source, and a half-made one would block the rerun.

The new store keeps the source's ``extractor`` block (its landmarks were made
the same way) and records what was done under ``derived``::

    {"extractor": {...as in the source...},
     "derived": {"operation": "stitch", "source": "isolated.h5",
                 "settings": {...}, "source_provenance": {...}}}
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, StoreWriter


def check_new_store(out: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """``out`` as a Path, after checking that writing it cannot harm existing data.

    Raises:
        SlrPoseError: ``out`` exists, has a journal, is the source, or its folder is missing.
    """
    out = Path(out)
    if source is not None and out.resolve() == Path(source).resolve():
        raise SlrPoseError(f"output {out} is the input store: write the result to a new file")
    if out.exists():
        raise SlrPoseError(f"output {out} already exists: choose a new file (stores are never modified in place)")
    journal = out.with_name(out.name + ".journal")
    if journal.exists():
        raise SlrPoseError(f"output {out} has an interrupted write ({journal}): choose a new file")
    if not out.parent.is_dir():
        raise SlrPoseError(f"folder {out.parent} does not exist")
    return out


def open_source(path: str | os.PathLike) -> PoseStore:
    """Open a source store, refusing one with uncommitted journal entries (it is still being written)."""
    store = PoseStore(path)
    if store.pending:
        raise SlrPoseError(
            f"{path} has {store.pending} samples of an unfinished write: finish or rerun that write first"
        )
    if len(store) == 0:
        raise SlrPoseError(f"{path} holds no samples")
    return store


def derived_provenance(source: PoseStore, operation: str, settings: Mapping[str, Any]) -> dict:
    """Provenance of a store derived from ``source`` by ``operation`` with ``settings``."""
    return {
        "extractor": source.provenance.get("extractor"),
        "derived": {
            "operation": operation,
            "source": str(source.path),
            "settings": dict(settings),
            "source_provenance": source.provenance,
        },
    }


@contextmanager
def new_store(out: Path, layout: Layout, provenance: Mapping[str, Any]) -> Iterator[StoreWriter]:
    """A writer of the new store ``out`` (checked by :func:`check_new_store`), removed again if the block fails."""
    writer = StoreWriter(out, layout, provenance, commit_every=500)
    done = False
    try:
        yield writer
        done = True
    finally:
        writer.close()
        if not done:
            out.unlink(missing_ok=True)
            shutil.rmtree(out.with_name(out.name + ".journal"), ignore_errors=True)
