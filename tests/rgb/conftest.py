"""Real landmarks for the RGB tests: the bundled MSL-150 videos through ``slr-pose extract``.

The videos are copied under a temporary folder and extracted from there by a
relative path, so the store's ``source`` column is relative and a test can
point the cache at another root (one with a video missing or changed).
15 fps and 320 px keep extraction to a few seconds, as in the extraction tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MSL_VIDEOS = sorted((REPO / "data" / "msl150" / "videos").glob("*.mp4"))
EXTRACT_FPS, EXTRACT_MAX_SIDE = 15, 320


@pytest.fixture(scope="session")
def msl_rgb(tmp_path_factory) -> tuple[Path, Path]:
    """``(store, root)``: a store of the five MSL-150 clips whose sources are ``videos/NAME.mp4`` under ``root``."""
    root = tmp_path_factory.mktemp("rgb_videos")
    (root / "videos").mkdir()
    for v in MSL_VIDEOS:
        shutil.copy(v, root / "videos" / v.name)
    store = root / "poses.h5"
    cmd = [sys.executable, "-m", "slr_pose", "extract", "videos", "-o", store.name, "--fps", str(EXTRACT_FPS),
           "--max-side", str(EXTRACT_MAX_SIDE), "--language", "mfs"]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return store, root
