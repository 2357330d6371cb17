"""Fixtures of the continuous tests: a long recording made of real landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo, StoreWriter

FPS = 30.0
SIGNS = 12


@pytest.fixture(scope="module")
def lesson(msl_store, tmp_path_factory) -> tuple[Path, Sample, list[str]]:
    """A store holding one long recording, ``lesson_a``: 12 real MSL-150 sequences end to end, 1 s each at 30 fps.

    Returns the store, the recording and the label of each second's sign.
    """
    src = PoseStore(msl_store)
    picks = [src.read(i) for i in range(0, 4 * SIGNS, 4)]
    steps = [np.minimum(np.arange(30), len(p.xyz) - 1) for p in picks]  # 30 frames each: trimmed clips hold their last
    xyz = np.concatenate([p.xyz[t] for p, t in zip(picks, steps)])
    info = SampleInfo(id="lesson_a", fps=FPS, width=1280, height=720, source="lesson_a.mp4", sha256="a" * 64,
                      signer="msl-signer", language="mfs", split="train")
    rec = Sample(info, xyz, np.concatenate([p.confidence[t] for p, t in zip(picks, steps)]),
                 np.concatenate([p.missing[t] for p, t in zip(picks, steps)]), (np.arange(len(xyz)) / FPS).astype(np.float32))
    path = tmp_path_factory.mktemp("lesson") / "lessons.h5"
    with StoreWriter(path, src.layout, src.provenance) as w:
        w.add(rec)
    return path, rec, [p.info.label for p in picks]
