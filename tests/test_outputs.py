"""The output policy: what an existing path holds, what may replace it, and atomic writes."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.outputs import atomic_path, check_output, check_output_dir, check_store_output, kind_of, write_text


def test_kinds_are_told_by_content(msl_store, tmp_path):
    arpa, arpa_gz, text, empty, png, npz, run = (tmp_path / n for n in ("a.arpa", "a.arpa.gz", "t.csv", "e", "p.png", "x.npz", "run"))
    arpa.write_text("\n\\data\\\nngram 1=1\n")
    arpa_gz.write_bytes(gzip.compress(b"\\data\\\nngram 1=1\n"))
    text.write_text("gloss,group\n")
    empty.write_bytes(b"")
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    npz.write_bytes(b"PK\x03\x04" + bytes(20))
    (run / "checkpoints").mkdir(parents=True)
    assert kind_of(msl_store) == "a pose store"
    assert kind_of(arpa) == kind_of(arpa_gz) == "an ARPA language model"
    assert kind_of(text) == "a text file" and kind_of(empty) == "an empty file" and kind_of(png) == "a PNG image"
    assert kind_of(npz).startswith("a zip archive") and kind_of(run) == "a run directory" and kind_of(tmp_path) == "a folder"


def test_a_store_is_never_replaced_by_another_kind(msl_store):
    before = msl_store.read_bytes()
    for kind in ("arpa", "onnx", "text", "png"):
        for force in (False, True):
            with pytest.raises(SlrPoseError, match=f"^{msl_store} holds a pose store, not .*never overwritten"):
                check_output(msl_store, kind, force=force)
    assert msl_store.read_bytes() == before
    assert check_store_output(msl_store) == msl_store


def test_own_kind_needs_force_and_other_kinds_never(tmp_path):
    table = tmp_path / "t.md"
    table.write_text("| a |\n")
    with pytest.raises(SlrPoseError, match=f"^{table} exists: add --force to replace it$"):
        check_output(table, "text")
    assert check_output(table, "text", force=True) == table
    with pytest.raises(SlrPoseError, match="holds a text file, not an ARPA language model"):
        check_output(table, "arpa", force=True)
    with pytest.raises(SlrPoseError, match="holds a folder, not a text file"):
        check_output(tmp_path, "text", force=True)
    with pytest.raises(SlrPoseError, match="folder .*nowhere does not exist"):
        check_output(tmp_path / "nowhere" / "t.md", "text")
    with pytest.raises(SlrPoseError, match="holds a text file, not a pose store"):
        check_store_output(table)


def test_run_directories(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SlrPoseError, match="folder with other files, not a run directory"):
        check_output_dir(tmp_path / "mine")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SlrPoseError, match="holds a text file, not a run directory"):
        check_output_dir(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("task: islr\n")
    for ok in ("empty", "run", "new"):
        assert check_output_dir(tmp_path / ok) == tmp_path / ok


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "t.json"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]
    write_text(target, "new")
    assert target.read_text() == "new"


def test_temporary_files_of_killed_writers_are_cleaned(tmp_path):
    target = tmp_path / "m.arpa"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".m.{int(dead.stdout)}.tmp.arpa"
    stale.write_text("\\data\\ cut short")
    alive = tmp_path / f".m.{os.getppid()}.tmp.arpa"  # a live process's temporary file stays
    alive.write_text("in progress")
    write_text(target, "\\data\\\n")
    assert not stale.exists() and alive.exists() and target.read_text() == "\\data\\\n"


def test_a_full_disk_is_one_line_and_keeps_the_old_file(tmp_path):
    """RLIMIT_FSIZE makes every write past the limit fail with EFBIG, as a full disk fails with ENOSPC."""
    target = tmp_path / "big.txt"
    target.write_text("old")
    code = (
        "import resource, signal, sys\n"
        "from slr_pose.outputs import write_text\n"
        "from slr_pose.errors import SlrPoseError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "try:\n"
        f"    write_text({str(target)!r}, 'x' * 1_000_000)\n"
        "except SlrPoseError as e:\n"
        "    print(e); sys.exit(1)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == f"cannot write {target} (no space left on the device); it is unchanged\n"
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]
