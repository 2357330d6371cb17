"""SIGKILL at any moment, for every command that writes: the target is the old complete file or the new
complete one (a store: it opens and verifies, holding only finished samples), and the rerun completes with
exactly what an uninterrupted run writes.

Each command is killed the moment it is seen writing (a journal entry or a
temporary file appears) and at fixed fractions of its uninterrupted run time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.keypoints.store.verify import verify_store
from tests.conftest import REPO
from tests.training.test_trainer import write_config

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

FRACTIONS = (0.55, 0.8, 0.95)


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slr_pose", *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          env=env)


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def kill(args, when: Callable[[], bool] | float, writing: Callable[[], bool] | None = None) -> tuple[bool, bool]:
    """Run the command and SIGKILL it when ``when()`` first holds (or after ``when`` seconds).

    Returns whether the kill landed while it still ran, and whether ``writing()`` held at that moment.
    """
    proc = subprocess.Popen([sys.executable, "-m", "slr_pose", *map(str, args)], cwd=REPO, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + (when if isinstance(when, float) else 300)
    while proc.poll() is None and time.monotonic() < deadline and (isinstance(when, float) or not when()):
        time.sleep(0.0005)
    in_write = bool(writing and writing())
    alive = proc.poll() is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    landed = alive and proc.returncode == -signal.SIGKILL
    return landed, landed and in_write


def temp_of(path: Path) -> Callable[[], bool]:
    """True once a temporary file of an atomic write of ``path`` (or a store commit) exists."""
    def seen() -> bool:
        return any(path.parent.glob(f".{path.stem}.*.tmp{path.suffix}")) or any(path.parent.glob(f".{path.name}.*.tmp"))
    return seen


def journal_of(path: Path) -> Callable[[], bool]:
    journal = path.with_name(path.name + ".journal")
    return lambda: any(journal.glob("*.npz")) or temp_of(path)()


@dataclass
class Case:
    args: tuple
    target: Path
    writing: Callable[[], bool]
    check: Callable[[Path, object], None]  # (target, reference) after a kill: old or new, complete
    reference: Callable[[Path], object]
    same: Callable[[Path, object], None]  # after the rerun: exactly the reference


def store_reference(path: Path) -> dict:
    s = PoseStore(path)
    return {sid: s.read(i) for i, sid in enumerate(s.ids)}


def store_partial(path: Path, ref: dict) -> None:
    journal = path.with_name(path.name + ".journal")
    if not path.exists() and not any(journal.glob("*.npz")):
        return  # killed before the first sample was durable: nothing there
    s = PoseStore(path)  # opens: every finished sample, journal included
    assert set(s.ids) <= set(ref)
    for i, sid in enumerate(s.ids):
        np.testing.assert_array_equal(s.read(i).xyz, ref[sid].xyz)
    if path.exists():
        assert verify_store(path).ok


def store_same(path: Path, ref: dict) -> None:
    s = PoseStore(path)
    assert s.pending == 0 and sorted(s.ids) == sorted(ref) and verify_store(path).ok
    for i, sid in enumerate(s.ids):
        a, b = s.read(i), ref[sid]
        for name in ("xyz", "confidence", "missing", "time"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.info.label, a.info.glosses, a.info.length) == (b.info.label, b.info.glosses, b.info.length)


def file_partial(path: Path, ref: bytes) -> None:
    assert not path.exists() or path.read_bytes() == ref


def file_same(path: Path, ref: bytes) -> None:
    assert path.read_bytes() == ref


def onnx_partial(path: Path, ref) -> None:
    if path.exists():
        import onnx

        onnx.checker.check_model(onnx.load(str(path)))


@pytest.fixture(scope="module")
def work(msl_store, phoenix_dir, tmp_path_factory) -> dict:
    return make_work(msl_store, phoenix_dir, tmp_path_factory.mktemp("kill"))


def make_work(msl_store: Path, phoenix_dir: Path, d: Path) -> dict:
    """The inputs of every writing command, in folder ``d``: two shards, a gloss table, a tiny run, a corpus."""
    src = PoseStore(msl_store)
    for name, part in (("a", range(0, 43)), ("b", range(43, 86))):
        with StoreWriter(d / f"{name}.h5", src.layout, src.provenance) as w:
            for i in part:
                w.add(src.read(i))
    table = d / "glosses.csv"
    table.write_text("video,start,end,gloss\n" + "".join(f"{src.ids[i]},0.0,0.5,{src.info(i).label}\n" for i in range(86)))
    small = {"preprocess": {"subset": "upper_body_hands", "length": 16, "streams": ["joint"]}}
    cfg = write_config(d, [{"path": str(msl_store)}], train={"epochs": 1}, data=small)
    r = cli("train", cfg, "-o", d / "run", "--no-progress", "--threads", "1", env=_env())
    assert r.returncode == 0, r.stderr
    return {"dir": d, "msl": msl_store, "table": table, "run": d / "run",
            "corpus": phoenix_dir / "phoenix2014" / "train.csv"}


def cases(w: dict, out: Path) -> dict[str, Case]:
    d = w["dir"]
    return {
        "merge": Case(("merge", d / "a.h5", d / "b.h5", "-o", out / "m.h5"), out / "m.h5", journal_of(out / "m.h5"),
                      store_partial, store_reference, store_same),
        "import": Case(("import", "numpy", REPO / "data/msl150/keypoints_sample.npz", "--spec", "msl150", "--trim",
                        "-o", out / "i.h5"), out / "i.h5", journal_of(out / "i.h5"), store_partial, store_reference, store_same),
        "stitch": Case(("stitch", w["msl"], "-o", out / "s.h5", "--sentences", "120"), out / "s.h5", journal_of(out / "s.h5"),
                       store_partial, store_reference, store_same),
        "segment": Case(("segment", w["msl"], w["table"], "-o", out / "g.h5", "--window", "1", "--fps", "30"), out / "g.h5",
                        journal_of(out / "g.h5"), store_partial, store_reference, store_same),
        "lm train": Case(("lm", "train", w["corpus"], "-o", out / "p.arpa", "--order", "4"), out / "p.arpa",
                         temp_of(out / "p.arpa"), file_partial, Path.read_bytes, file_same),
        "export": Case(("export", w["run"], "-o", out / "r.onnx"), out / "r.onnx", temp_of(out / "r.onnx"),
                       onnx_partial, lambda p: None, onnx_partial),
        "fuse": Case(("fuse", w["run"], w["run"], "--store", w["msl"], "-o", out / "f.md"), out / "f.md",
                     temp_of(out / "f.md"), file_partial, Path.read_bytes, file_same),
    }


@pytest.mark.parametrize("name", ["merge", "import", "stitch", "segment", "lm train", "export", "fuse"])
def test_killed_at_any_moment(work, tmp_path, name):
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "kill"
    ref_dir.mkdir()
    kill_dir.mkdir()
    ref_case = cases(work, ref_dir)[name]
    t0 = time.monotonic()
    r = cli(*ref_case.args, env=_env())
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    reference = ref_case.reference(ref_case.target)

    case = cases(work, kill_dir)[name]
    landed = [kill(case.args, case.writing)[0]]
    case.check(case.target, reference)
    for f in FRACTIONS:
        landed.append(kill(case.args, f * took)[0])
        case.check(case.target, reference)
    assert any(landed), f"{name}: no kill landed while the command ran ({took:.2f} s uninterrupted)"
    finished = case.target.exists() and not case.target.with_name(case.target.name + ".journal").exists()
    if name in ("stitch", "segment") and finished:
        case.same(case.target, reference)  # the last kill came after it ended: a new store is never redone
        return
    again = cli(*case.args, "--force", env=_env()) if name in ("lm train", "export", "fuse") else cli(*case.args, env=_env())
    assert again.returncode == 0, again.stderr
    case.same(case.target, reference)
