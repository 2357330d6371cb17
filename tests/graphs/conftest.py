"""Real landmark sequences for the graphs tests (see real_sequences.py)."""

from __future__ import annotations

import pytest

from tests.conftest import MSL_KEYPOINTS
from tests.graphs.real_sequences import kaggle_files, read_kaggle, read_msl


@pytest.fixture(scope="session")
def kaggle_samples(kaggle_dir):
    """All 42 Kaggle asl-signs sequences (21 signers, hello/thankyou), holistic 'full' layout."""
    files = kaggle_files(kaggle_dir)
    assert len(files) >= 40
    return [read_kaggle(f) for f in files]


@pytest.fixture(scope="session")
def msl_samples():
    """The 86 bundled MSL-150 sequences (30 frames, 1280x720), holistic 'none' layout."""
    return read_msl(MSL_KEYPOINTS)
