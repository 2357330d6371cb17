"""Stores made from other stores: the never-in-place rule and the provenance they carry.

Attaching annotations, cutting long recordings into windows and stitching
isolated signs into sentences all read one store and write a *new* one. The
source is never touched: the output path must not exist yet, so a mistyped
``-o`` cannot append to, or mix samples into, a store that already holds
data. A derived store that fails half-way (bad input found late, an
interrupt) is removed again: it can be remade from its source, and a
half-made one would block the rerun. One killed outright (SIGKILL, a power
cut) leaves its journal; the rerun of the same derivation (same source, same
settings) removes what it left and starts again, anything else is refused.

The new store keeps the source's ``extractor`` block (its landmarks were made
the same way) and records what was done under ``derived``::

    {"extractor": {...as in the source...},
     "derived": {"operation": "stitch", "source": "isolated.h5",
                 "settings": {...}, "source_provenance": {...}}}
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.keypoints.store.sample import Sample


def check_new_store(out: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """``out`` as a Path, after checking that writing it cannot harm existing data.

    Raises:
        SlrPoseError: ``out`` exists, has a journal, is the source, or its folder is missing.
    """
    out = Path(out)
    if source is not None and out.resolve() == Path(source).resolve():
        raise SlrPoseError(f"output {out} is the input store: write the result to a new file")
    journal = out.with_name(out.name + ".journal")
    if out.exists() and not journal.exists():
        raise SlrPoseError(f"output {out} already exists: choose a new file (stores are never modified in place)")
    # with a journal, it is an interrupted write: new_store() remakes it if it was this very derivation
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
    _discard_interrupted(out, provenance)
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


#: Provenance entries that change from one run of the same derivation to the next.
_RUN_STAMPS = ("created", "modified", "slr_pose_version")


def _recipe(provenance: Mapping[str, Any]) -> dict:
    return {k: v for k, v in json.loads(json.dumps(provenance)).items() if k not in _RUN_STAMPS}


def _discard_interrupted(out: Path, provenance: Mapping[str, Any]) -> None:
    """Remove what a killed run of this same derivation left at ``out``: it is remade from its source.

    An interrupted write of anything else (another source, other settings,
    another command) is refused, as is one still in progress.
    """
    journal = out.with_name(out.name + ".journal")
    if not journal.exists():
        return
    try:
        theirs = json.loads(json.loads((journal / "header.json").read_text())["provenance"])
    except (OSError, ValueError, KeyError, TypeError):
        theirs = None if list(journal.glob("*.npz")) or out.exists() else provenance  # killed before it began
    if theirs is None or _recipe(theirs) != _recipe(provenance):
        raise SlrPoseError(f"output {out} has an interrupted write of something else ({journal}): choose a new file")
    lock = journal / "lock"
    if lock.exists():
        with open(lock, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise SlrPoseError(f"{out} is being written by another process") from None
            fcntl.flock(fh, fcntl.LOCK_UN)
    shutil.rmtree(journal, ignore_errors=True)
    out.unlink(missing_ok=True)


def derive_store(
    source: str | os.PathLike,
    out: str | os.PathLike,
    operation: str,
    settings: Mapping[str, Any],
    transform: Callable[[int, Sample], Sample | None],
    *,
    reuse: bool = False,
) -> Path:
    """A new store ``out`` of ``source``'s samples, each through ``transform(index, sample)`` (None leaves it out).

    Its provenance is :func:`derived_provenance` of ``operation`` and
    ``settings``, which must say everything the transform depends on.
    ``reuse``: when ``out`` is already a finished store of this same
    derivation (same source, operation and settings), return it as it is,
    without reading the source; a store made by anything else is refused.

    Raises:
        SlrPoseError: ``out`` exists (and is not this derivation), or the source cannot be read.
    """
    out = Path(out)
    src = open_source(source)
    provenance = derived_provenance(src, operation, settings)
    if reuse and out.exists() and not out.with_name(out.name + ".journal").exists():
        if _recipe(PoseStore(out).provenance) == _recipe(provenance):
            return out
        raise SlrPoseError(f"output {out} already exists and was made another way: choose a new file")
    check_new_store(out, source)
    with new_store(out, src.layout, provenance) as writer:
        for i in range(len(src)):
            sample = transform(i, src.read(i))
            if sample is not None:
                writer.add(sample)
    return out
