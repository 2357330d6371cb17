"""Merging pose stores, e.g. the shards of one extraction, into one.

Stores merge only when made the same way: equal layout and equal extractor
provenance (backend, MediaPipe version, settings). A sample id found twice is
skipped when both copies are identical (same metadata, same file hash, same
landmarks) and reported as a conflict otherwise; the first copy stays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np

from slr_pose.errors import StoreError
from slr_pose.keypoints.store import (
    PoseStore,
    Sample,
    SampleInfo,
    StoreWriter,
    describe_extractor,
)
from slr_pose.keypoints.store.writer import CommitSchedule


@dataclass
class MergeSummary:
    """What a merge did; ``conflicts`` holds one line per conflicting id."""

    added: int = 0
    skipped: int = 0
    conflicts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"conflict {c}" for c in self.conflicts]
        out.append(f"added {self.added}, skipped {self.skipped} (identical duplicates), conflicts {len(self.conflicts)}")
        return out


def merge_stores(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> MergeSummary:
    """Add every sample of ``inputs`` to ``output`` (created if needed).

    Raises:
        StoreError: no inputs, an input that is the output, or stores made
            with different layouts or extractors.
    """
    if not inputs:
        raise StoreError("no stores to merge")
    out = Path(output)
    if not out.parent.is_dir():
        raise StoreError(f"output folder {out.parent} does not exist")
    stores = []
    for p in map(Path, inputs):
        if out.exists() and p.exists() and p.resolve() == out.resolve():
            raise StoreError(f"{p} is both an input and the output: merge into another file")
        stores.append(PoseStore(p))
    first = stores[0]
    for s in stores[1:]:
        _check_compatible(first, s)
    if out.exists():
        _check_compatible(PoseStore(out), first)
    summary = MergeSummary()
    provenance = {"extractor": first.provenance["extractor"], "merged_from": [str(s.path) for s in stores]}
    with StoreWriter(out, first.layout, provenance) as writer:
        # after the writer has folded in what a killed merge left in the journal
        seen: dict[str, tuple[PoseStore, int]] = {}
        if out.exists():
            target = PoseStore(out)
            seen.update((sid, (target, i)) for i, sid in enumerate(target.ids))
        commits = CommitSchedule(writer)
        for store in stores:
            for i, sid in enumerate(store.ids):
                if sid in seen:
                    other, j = seen[sid]
                    diff = _difference(other.read(j), store.read(i))
                    if diff:
                        summary.conflicts.append(f"{sid}: {other.path} and {store.path} differ in {diff}")
                    else:
                        summary.skipped += 1
                    continue
                commits.add(store.read(i))
                seen[sid] = (store, i)
                summary.added += 1
    for s in stores:
        s.close()
    return summary


def _check_compatible(a: PoseStore, b: PoseStore) -> None:
    if a.layout != b.layout:
        raise StoreError(f"{b.path} holds layout {b.layout.name!r}, {a.path} holds {a.layout.name!r}: cannot merge")
    ea, eb = a.provenance.get("extractor"), b.provenance.get("extractor")
    if ea != eb:
        raise StoreError(f"{b.path} was made with {describe_extractor(eb)}, {a.path} with {describe_extractor(ea)}: cannot merge")


def _difference(a: Sample, b: Sample) -> str:
    """Empty when two samples are identical, else what differs (metadata fields or landmarks)."""
    fields_differing = [f.name for f in fields(SampleInfo) if not _same(getattr(a.info, f.name), getattr(b.info, f.name))]
    if fields_differing:
        return ", ".join(fields_differing)
    for name in ("xyz", "confidence", "missing", "time"):
        if not np.array_equal(getattr(a, name), getattr(b, name), equal_nan=name in ("xyz", "confidence", "time")):
            return f"landmarks ({name})"
    return ""


def _same(x: object, y: object) -> bool:
    return x == y or (isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y))
