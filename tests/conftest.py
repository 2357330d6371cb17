"""Shared test fixtures: where the real data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slr_pose.keypoints.backends.base import available_backends

REPO = Path(__file__).resolve().parent.parent
#: Real data shipped in the repository (see data/README.md).
BUNDLED = REPO / "data"
#: Larger real data that may not be redistributed; read from beside the repository.
SHARED = Path(os.environ.get("SLR_POSE_SHARED_DATA", REPO.parent / "shared" / "data"))

MSL_VIDEOS = sorted((BUNDLED / "msl150" / "videos").glob("*.mp4"))
MSL_KEYPOINTS = BUNDLED / "msl150" / "keypoints_sample.npz"
ASL_VIDEO = BUNDLED / "clips" / "asl_test_video.mp4"

#: legacy Holistic needs mediapipe 0.10.21 (Python 3.10-3.12); the Python 3.13 leg has the Tasks API only
HAS_HOLISTIC = "holistic" in available_backends()
needs_holistic = pytest.mark.skipif(not HAS_HOLISTIC, reason="needs mediapipe 0.10.21 (legacy Holistic)")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: two threads on a shared 2-core machine wait on each other
    and train several times slower than one. Without torch (the Python 3.13 leg) there is nothing to limit."""
    try:
        import torch
    except ImportError:
        yield
        return

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


@pytest.fixture(scope="session")
def msl_store(tmp_path_factory) -> Path:
    """The bundled MSL-150 keypoints (86 real sequences, 5 signs) as a pose store, language mfs."""
    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates, array_provenance
    from slr_pose.keypoints.layout import holistic_layout

    path = tmp_path_factory.mktemp("stores") / "msl.h5"
    layout, spec, options = holistic_layout("contour"), ColumnSpec.parse("msl150"), ArrayOptions(trim=True)
    cands = array_candidates([MSL_KEYPOINTS], spec, layout, options=options, language="mfs")
    import_samples(path, layout, array_provenance(spec, layout, options), cands)
    return path


@pytest.fixture(scope="session")
def asl_store(kaggle_dir, tmp_path_factory) -> Path:
    """The 42 real Kaggle asl-signs sequences (21 signers, hello/thankyou) as a pose store, language ase."""
    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.kaggle import kaggle_candidates, kaggle_provenance
    from slr_pose.keypoints.layout import holistic_layout

    path = tmp_path_factory.mktemp("stores") / "asl.h5"
    layout = holistic_layout("contour")
    import_samples(path, layout, kaggle_provenance(layout), kaggle_candidates(kaggle_dir, layout, language="ase"))
    return path
