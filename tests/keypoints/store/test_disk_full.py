"""A commit that runs out of disk leaves the store intact, says so in one line, and the rerun completes.

Two real ways to run out: a small tmpfs (a true ENOSPC; needs the right to
mount, which root has on this machine kind) and a file-size limit
(RLIMIT_FSIZE, a true EFBIG from the kernel; works everywhere).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from slr_pose.keypoints.store import PoseStore
from tests.conftest import MSL_KEYPOINTS, REPO

IMPORT = ["-m", "slr_pose", "import", "numpy", "--spec", "msl150", "--trim", "--language", "mfs"]


def base_store(folder: Path) -> Path:
    store = folder / "s.h5"
    r = subprocess.run([sys.executable, *IMPORT, str(MSL_KEYPOINTS), "-o", str(store)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return store


def extra_samples(folder: Path, n: int = 3) -> Path:
    """``n`` real MSL sequences under new ids: a second import adds exactly them."""
    with np.load(MSL_KEYPOINTS) as z:
        path = folder / "more.npz"
        np.savez(path, keypoints=z["keypoints"][:n], label=z["label"][:n], sample_id=z["sample_id"][:n] + 1000)
    return path


def add(store: Path, extra: Path, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *IMPORT, str(extra), "-o", str(store)], cwd=REPO, capture_output=True,
                          text=True, preexec_fn=preexec)


def assert_refused_and_intact(r, store: Path, before: bytes) -> None:
    err = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert err[0].startswith(f"Error: no space left to commit to {store}: the store is unchanged"), err
    assert store.read_bytes() == before
    journal = store.with_name(store.name + ".journal")
    assert len(list(journal.glob("*.npz"))) == 3  # the new samples wait, durable
    assert not list(store.parent.glob(f".{store.name}.*.tmp"))  # no half-written copy left
    s = PoseStore(store)
    assert len(s) == 89 and s.pending == 3  # readers see them already


def assert_rerun_completes(store: Path, extra: Path) -> None:
    r = add(store, extra)
    assert r.returncode == 0, r.stderr
    done = PoseStore(store)
    assert len(done) == 89 and done.pending == 0 and done.schema_version == 2
    assert not store.with_name(store.name + ".journal").exists()


def test_file_size_limit(tmp_path):
    store = base_store(tmp_path)
    extra = extra_samples(tmp_path)
    before = store.read_bytes()
    limit = len(before) + 20_000  # journal files fit; the commit's copy of the store does not

    def limited():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    assert_refused_and_intact(add(store, extra, preexec=limited), store, before)
    assert_rerun_completes(store, extra)


@contextlib.contextmanager
def tmpfs(path: Path, size: int):
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_tmpfs(tmp_path):
    made = base_store(tmp_path)
    extra = extra_samples(tmp_path)
    size = made.stat().st_size
    with tmpfs(tmp_path / "small", size + 700_000) as disk:  # the store and the journal fit; a copy does not
        store = disk / "s.h5"
        shutil.copyfile(made, store)
        before = store.read_bytes()
        assert_refused_and_intact(add(store, extra), store, before)
        subprocess.run(["mount", "-o", f"remount,size={4 * size}", str(disk)], check=True)  # space freed
        assert_rerun_completes(store, extra)
