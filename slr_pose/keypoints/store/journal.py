"""The journal beside a store: one file per finished sample, written before any commit.

A writer makes each sample durable in ``STORE.journal/`` (written, fsynced,
renamed into place); a commit folds the journal into the store. Readers see
journaled samples as well, so a writer killed before its commit loses nothing.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store.sample import Sample, SampleInfo
from slr_pose.keypoints.store.schema import (
    SCHEMA_VERSION,
    StoreHeader,
    error_reason,
    parse_layout,
    parse_provenance,
)
from slr_pose.outputs import failed_write_reason

#: The layout and provenance of the samples in a journal, for readers when the store does not exist yet.
JOURNAL_HEADER = "header.json"


def journal_dir(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def write_journal(directory: Path, sample: Sample) -> Path:
    # time first: sorted names replay samples in the order they were added
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".{name}.tmp"
    final = directory / f"{name}.npz"
    try:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                info=np.array(json.dumps(asdict(sample.info))),
                xyz=sample.xyz.astype(np.float32, copy=False),
                confidence=sample.confidence.astype(np.float32, copy=False),
                missing=sample.missing.astype(bool, copy=False),
                time=sample.time.astype(np.float32, copy=False),
            )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"cannot add sample {sample.info.id!r} to {directory} ({failed_write_reason(e)}); "
            "every sample added before it is kept"
        ) from None
    return final


def journal_info(path: Path) -> SampleInfo:
    try:
        with np.load(path) as z:
            return SampleInfo(**json.loads(str(z["info"])))
    except Exception as e:  # noqa: BLE001 - any damage means "not a finished sample"
        raise StoreError(f"journal entry {path.name} is damaged ({error_reason(e)})") from None


def read_journal(path: Path, layout: Layout | None = None) -> Sample:
    try:
        with np.load(path) as z:
            info = SampleInfo(**json.loads(str(z["info"])))
            return Sample(info, z["xyz"], z["confidence"], z["missing"], z["time"], layout=layout)
    except Exception as e:  # noqa: BLE001 - a damaged entry is one line, never a traceback
        raise StoreError(f"journal entry {path} is damaged ({error_reason(e)})") from None


def journal_header(path: Path) -> StoreHeader:
    header = path.parent / JOURNAL_HEADER
    try:
        raw = json.loads(header.read_text())
        names, name = raw["landmark_names"], raw["layout"]
    except (OSError, ValueError, KeyError, TypeError):
        raise StoreError(f"journal {path.parent} has no readable header.json") from None
    return StoreHeader(parse_layout(str(name), list(names), header), parse_provenance(raw.get("provenance"), header), SCHEMA_VERSION, 0)
