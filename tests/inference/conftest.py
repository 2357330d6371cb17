"""One tiny real run on the bundled MSL-150 keypoints, exported (float32 and int8), shared by the runtime tests.

Five epochs in batches of 4 (seed 1) are enough for this run to recognise
the five bundled MSL-150 videos, extracted afresh with MediaPipe, as whole
clips; batches of 16 for five epochs are not (they recognise one of five).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli
from tests.conftest import MSL_VIDEOS
from tests.training.test_trainer import write_config

MSL_CLASSES = ["ambulancia", "doctor", "dolor", "hoy", "yo"]
#: The clips of the live tests, in this order in one video.
SEQUENCE = ("doctor", "ambulancia", "yo")


@dataclass(frozen=True)
class Exported:
    run: Path
    onnx: Path
    int8: Path
    export_output: str
    store: Path


@pytest.fixture(scope="session")
def exported(msl_store, tmp_path_factory) -> Exported:
    import torch

    from slr_pose.training.config import load_config
    from slr_pose.training.trainer import train

    d = tmp_path_factory.mktemp("edge")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = load_config(write_config(d, [{"path": str(msl_store)}], train={"epochs": 5, "batch_size": 4, "seed": 1}))
        train(cfg, d / "run", progress=False, log=lambda *a, **k: None)
        r = CliRunner().invoke(cli, ["export", str(d / "run"), "-o", str(d / "m.onnx"), "--int8"])
    finally:
        torch.set_num_threads(before)
    assert r.exit_code == 0, r.output
    return Exported(d / "run", d / "m.onnx", d / "m.int8.onnx", r.output, msl_store)


def video(gloss: str) -> Path:
    return next(v for v in MSL_VIDEOS if v.name == f"{gloss}_001.mp4")


@pytest.fixture(scope="session")
def sequence_video(tmp_path_factory) -> tuple[Path, list[tuple[str, float, float]]]:
    """The clips of :data:`SEQUENCE` one after another in one mp4v file, and each sign's (gloss, start s, end s)."""
    out = tmp_path_factory.mktemp("video") / "three_signs.mp4"
    writer, spans, t, fps = None, [], 0.0, 30.0
    for gloss in SEQUENCE:
        cap = cv2.VideoCapture(str(video(gloss)))
        n = 0
        while True:
            ok, image = cap.read()
            if not ok:
                break
            if writer is None:
                h, w = image.shape[:2]
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            writer.write(image)
            n += 1
        cap.release()
        spans.append((gloss, t, t + n / fps))
        t += n / fps
    writer.release()
    return out, spans
