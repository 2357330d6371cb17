"""Every command on bad input: a non-zero exit, one line on stderr, no traceback, and the good store beside
the bad input byte for byte as it was. Outputs never clobber a store, a run or a file of another kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner, Result

from slr_pose.cli.main import cli
from slr_pose.keypoints.store import PoseStore
from tests.conftest import MSL_KEYPOINTS, MSL_VIDEOS
from tests.training.test_trainer import write_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(*args) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def place(msl_store, tmp_path_factory) -> dict[str, Path]:
    return make_place(msl_store, tmp_path_factory.mktemp("bad"))


def make_place(msl_store: Path, d: Path) -> dict[str, Path]:
    """A good store and a tiny run beside every kind of damaged input, in folder ``d``."""
    good = shutil.copyfile(msl_store, d / "good.h5")
    paths = {"good": Path(good), "dir": d}

    def damaged(name: str, edit) -> None:
        p = Path(shutil.copyfile(msl_store, d / f"{name}.h5"))
        with h5py.File(p, "r+") as f:
            edit(f)
        paths[name] = p

    damaged("no_xyz", lambda f: f.__delitem__("frames/xyz"))
    damaged("bad_provenance", lambda f: f.attrs.__setitem__("provenance", "{oops"))
    damaged("negative_length", lambda f: f["samples/length"].__setitem__(0, -344))
    damaged("short_ids", lambda f: f["samples/id"].resize((3,)))
    flipped = Path(shutil.copyfile(msl_store, d / "flipped.h5"))
    with h5py.File(flipped, "r") as f:
        chunks = [f["frames/xyz"].id.get_chunk_info(i) for i in range(f["frames/xyz"].id.get_num_chunks())]
    raw = bytearray(flipped.read_bytes())
    for c in chunks:  # every chunk damaged: whatever a command reads, it meets one
        for k in range(8):
            raw[c.byte_offset + c.size // 2 + k] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    paths["flipped"] = flipped
    (d / "text.h5").write_text("not a store\n")
    (d / "empty.h5").write_bytes(b"")
    paths["text"], paths["empty"] = d / "text.h5", d / "empty.h5"
    cfg = write_config(d, [{"path": str(good)}], train={"epochs": 1},
                       data={"preprocess": {"subset": "upper_body_hands", "length": 16, "streams": ["joint"]}})
    r = run("train", cfg, "-o", d / "run", "--no-progress")
    assert r.exit_code == 0, r.output
    paths["run"], paths["config"] = d / "run", cfg
    (d / "notes.txt").write_text("my notes\n")
    (d / "glosses.txt").write_text("A B C\nB C\n")
    paths["notes"], paths["glosses"] = d / "notes.txt", d / "glosses.txt"
    return paths


def snapshot(place: dict[str, Path]) -> dict[str, bytes]:
    files = [p for p in place["dir"].rglob("*") if p.is_file() and "eval" not in p.parts]
    return {str(p): p.read_bytes() for p in files}


BAD_STORES = ("no_xyz", "bad_provenance", "negative_length", "short_ids", "flipped", "text", "empty")


def commands_on(bad: str, p: dict[str, Path]) -> list[tuple]:
    """Every command that reads a store, given the bad one (with the good one beside it where it takes two)."""
    out = p["dir"] / "out"
    b = p[bad]
    return [
        ("inspect", b),
        ("inspect", b, "--plot", "ambulancia_1", "-o", out.with_suffix(".png")),
        ("evaluate", p["run"], b, "-o", out),
        ("predict", p["run"], b, "--id", "ambulancia_1"),
        ("vssign", "suggest", p["run"], b, "-o", out.with_suffix(".csv")),
        ("fuse", p["run"], "--store", b, "-o", out.with_suffix(".md")),
        ("merge", b, p["good"], "-o", out.with_suffix(".h5")),
        ("merge", b, "-o", p["good"]),
        ("stitch", b, "-o", out.with_suffix(".h5")),
        ("phoenix", "attach", p["glosses"], b, "-o", out.with_suffix(".h5")),
        ("import", "numpy", MSL_KEYPOINTS, "--spec", "msl150", "-o", b),
    ]


#: Commands that never read what is damaged in that store: they may succeed (nothing is written either way).
#: The summary reads no landmark chunk; importing samples already stored reads none.
UNTOUCHED = {("flipped", "inspect", False), ("flipped", "import", True)}


@pytest.mark.parametrize("bad", BAD_STORES)
def test_every_reader_on_a_damaged_store(place, bad):
    before = snapshot(place)
    for args in commands_on(bad, place):
        r = run(*args)
        err = r.stderr.strip().splitlines()
        if (bad, args[0], len(args) > 2) in UNTOUCHED and r.exit_code == 0:
            assert snapshot(place) == before, args
            continue
        assert r.exit_code != 0, (args, r.output)
        assert len(err) == 1 and err[0].startswith("Error: "), (args, r.stderr)
        assert "Traceback" not in r.output and not isinstance(r.exception, (KeyError, OSError, ValueError)), args
        assert snapshot(place) == before, args  # nothing stored was touched
        assert not (place["dir"] / "out.h5").exists() and not (place["dir"] / "out.h5.journal").exists(), args


def test_verify_on_each_damaged_store(place):
    for bad in BAD_STORES:
        r = run("verify", place[bad])
        assert r.exit_code == 1 and "Traceback" not in r.output, (bad, r.output)
        assert "intact" in r.output.splitlines()[-1] or r.stderr.startswith("Error: "), (bad, r.output)
    ok = run("verify", place["good"])
    assert ok.exit_code == 0 and ok.output.splitlines()[-1] == "86 of 86 samples intact (checksums compared for 86); store intact"


def clobbering(p: dict[str, Path]) -> list[tuple]:
    """Commands whose -o names the good store, the run, or a file of another kind."""
    g, rd, notes = p["good"], p["run"], p["notes"]
    return [
        ("lm", "train", p["glosses"], "-o", g),
        ("lm", "train", p["glosses"], "-o", rd),
        ("lm", "train", p["glosses"], "-o", notes, "--force"),
        ("vssign", "suggest", rd, g, "-o", g, "--force"),
        ("export", rd, "-o", g),
        ("export", rd, "-o", rd),
        ("phoenix", "manifest", p["glosses"], "-o", g, "--force"),
        ("fuse", rd, "--store", g, "-o", g),
        ("inspect", g, "--plot", "ambulancia_1", "-o", g),
        ("train", p["config"], "-o", g),
        ("train", p["config"], "-o", p["dir"]),
        ("fewshot", p["config"], "--source", rd, "-o", g),
        ("stitch", g, "-o", g),
        ("segment", g, p["glosses"], "-o", g),
        ("phoenix", "attach", p["glosses"], g, "-o", g),
        ("verify", g, "--salvage", g),
        ("extract", MSL_VIDEOS[0], "-o", notes),
        ("import", "numpy", MSL_KEYPOINTS, "--spec", "msl150", "-o", notes),
        ("merge", g, "-o", notes),
    ]


def test_no_command_overwrites_a_store_a_run_or_another_kind(place):
    before = snapshot(place)
    for args in clobbering(place):
        r = run(*args)
        err = r.stderr.strip().splitlines()
        assert r.exit_code != 0 and len(err) == 1 and err[0].startswith("Error: "), (args, r.output)
        assert "Traceback" not in r.output, args
        assert snapshot(place) == before, args


def test_own_kind_is_replaced_only_with_force(place, tmp_path):
    out = tmp_path / "m.arpa"
    assert run("lm", "train", place["glosses"], "-o", out).exit_code == 0
    first = out.read_bytes()
    again = run("lm", "train", place["glosses"], "-o", out, "--order", "2")
    assert again.exit_code == 1 and again.stderr == f"Error: {out} exists: add --force to replace it\n"
    assert out.read_bytes() == first
    forced = run("lm", "train", place["glosses"], "-o", out, "--order", "2", "--force")
    assert forced.exit_code == 0 and out.read_bytes() != first and "ngram 3=" not in out.read_text()


def test_bounds_are_usage_errors_naming_the_range(place, tmp_path):
    cases = [
        (("lm", "train", place["glosses"], "-o", tmp_path / "x.arpa", "--order", "11"), "1<=x<=10"),
        (("predict", place["run"], place["good"], "--id", "ambulancia_1", "--window", "1"), "x>=2"),
        (("predict", place["run"], place["good"], "--id", "ambulancia_1", "--lookahead", "0"), "x>=1"),
    ]
    for args, rng in cases:
        r = run(*args)
        err = r.stderr.strip().splitlines()
        assert r.exit_code == 2 and len(err) == 1 and rng in err[0] and "--help" in err[0], (args, r.stderr)
    # continuous-signing options given to an isolated-sign run are refused, not ignored
    r = run("predict", place["run"], place["good"], "--id", "ambulancia_1", "--window", "64")
    assert r.exit_code == 1 and r.stderr.startswith("Error: --window is for continuous-signing runs")


@pytest.mark.parametrize("mistake", ["model", "missing_store", "truncated_store"])
def test_a_failed_train_leaves_nothing_that_blocks_the_rerun(place, tmp_path, mistake):
    store = tmp_path / "s.h5"
    shutil.copyfile(place["good"], store)
    if mistake == "missing_store":
        store.unlink()
    elif mistake == "truncated_store":
        data = store.read_bytes()
        store.write_bytes(data[: len(data) // 3])
    sections = {"model": {"name": "no_such_model"}} if mistake == "model" else {}
    small = {"preprocess": {"subset": "upper_body_hands", "length": 16, "streams": ["joint"]}}
    bad_cfg = write_config(tmp_path, [{"path": str(store)}], name="bad.yaml", train={"epochs": 1}, data=small, **sections)
    r = run("train", bad_cfg, "-o", tmp_path / "run", "--no-progress")
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1, r.output
    assert not (tmp_path / "run").exists()
    shutil.copyfile(place["good"], store)
    good_cfg = write_config(tmp_path, [{"path": str(store)}], name="good.yaml", train={"epochs": 1}, data=small)
    fixed = run("train", good_cfg, "-o", tmp_path / "run", "--no-progress")
    assert fixed.exit_code == 0, fixed.output
    assert (tmp_path / "run" / "checkpoints" / "last.pt").exists()


def test_a_run_that_died_before_its_first_checkpoint_takes_another_config(place, tmp_path):
    """A run folder left by an older slr-pose (config written, no checkpoint) does not block."""
    small = {"preprocess": {"subset": "upper_body_hands", "length": 16, "streams": ["joint"]}}
    cfg = write_config(tmp_path, [{"path": str(place["good"])}], train={"epochs": 1}, data=small)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "config.yaml").write_text("task: islr\nmodel: {name: something_else}\n")
    r = run("train", cfg, "-o", tmp_path / "run", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "something_else" not in (tmp_path / "run" / "config.yaml").read_text()


def test_a_damaged_checkpoint_says_what_to_delete(place, tmp_path):
    run_dir = Path(shutil.copytree(place["run"], tmp_path / "run"))
    last = run_dir / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    r = run("train", place["config"], "-o", run_dir, "--no-progress", "--set", "train.epochs=2")
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: {last} cannot be resumed (")
    assert r.stderr.strip().endswith(f"delete {run_dir} to train from the start")


def test_an_extraction_where_every_input_fails_leaves_nothing(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    r = run("extract", junk, "-o", tmp_path / "s.h5")
    assert r.exit_code == 1 and "failed 1" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4", "s.h5.failures.csv"]


def test_a_store_without_a_path_in_a_config_is_one_line(place, tmp_path):
    cfg = write_config(tmp_path, [{"language": "mfs"}])
    r = run("train", cfg, "-o", tmp_path / "run")
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and "path" in r.stderr, r.output
    assert PoseStore(place["good"]) is not None
