"""Shared test fixtures: where the real data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Real data shipped in the repository (see data/README.md).
BUNDLED = REPO / "data"
#: Larger real data that may not be redistributed; read from beside the repository.
SHARED = Path(os.environ.get("SLR_POSE_SHARED_DATA", REPO.parent / "shared" / "data"))

MSL_VIDEOS = sorted((BUNDLED / "msl150" / "videos").glob("*.mp4"))
MSL_KEYPOINTS = BUNDLED / "msl150" / "keypoints_sample.npz"
ASL_VIDEO = BUNDLED / "clips" / "asl_test_video.mp4"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it are skipped where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def kaggle_dir(shared_data: Path) -> Path:
    return shared_data / "gislr_asl_signs" / "parquet"


@pytest.fixture(scope="session")
def phoenix_dir(shared_data: Path) -> Path:
    return shared_data / "phoenix_annotations"
