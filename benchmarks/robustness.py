"""Nothing lost, nothing crashes: bad inputs, kills, a full disk and fuzzed readers, counted in one run.

1. Bad inputs: every command that reads a store, on seven kinds of damaged
   store (flipped chunk bytes, a deleted dataset, bad provenance JSON, a
   negative length, a short id column, a text file, an empty file), and every
   command whose ``-o`` names a store, a run or a file of another kind. Each
   must exit non-zero with one line on stderr and no traceback, and every file
   beside it must be byte for byte as before.
2. SIGKILL: each writing command (merge, import, stitch, segment, lm train,
   export, fuse) killed at seeded random moments of its uninterrupted run time,
   and once the moment it is seen writing. After each kill the target is the
   old complete file or the new complete one; the rerun must give exactly what
   an uninterrupted run gives.
3. A full disk: a commit on a small tmpfs (ENOSPC) and under a file-size limit
   (EFBIG): the store unchanged, one line, the rerun completes.
4. Fuzzing: every reader target of ``tests/fuzz`` (pose stores included) with
   the given hypothesis budget, through ``benchmarks/fuzz.py``.

Usage: python benchmarks/robustness.py [--kills 8] [--examples 300] [--out benchmarks/results/robustness.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from slr_pose.cli.main import cli  # noqa: E402
from tests.cli import test_bad_inputs as bad  # noqa: E402
from tests.cli import test_kill as kills  # noqa: E402
from tests.keypoints.store import test_disk_full as disk  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def msl_store(folder: Path) -> Path:
    path = folder / "msl.h5"
    r = subprocess.run([sys.executable, "-m", "slr_pose", "import", "numpy", str(REPO / "data/msl150/keypoints_sample.npz"),
                        "--spec", "msl150", "--trim", "--language", "mfs", "-o", str(path)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return path


def bad_inputs(msl: Path, folder: Path) -> list[tuple]:
    place = bad.make_place(msl, folder)
    rows = []
    scenarios = [(f"damaged store: {b}", args) for b in bad.BAD_STORES for args in bad.commands_on(b, place)]
    scenarios += [("output names a store, a run or another kind", args) for args in bad.clobbering(place)]
    for group, args in scenarios:
        before = bad.snapshot(place)
        r = CliRunner().invoke(cli, [str(a) for a in args])
        err = r.stderr.strip().splitlines()
        untouched = bad.snapshot(place) == before
        allowed = (group.endswith("flipped"), args[0], len(args) > 2) in {(True, "inspect", False), (True, "import", True)}
        clean = (r.exit_code != 0 and len(err) == 1 and err[0].startswith("Error: ")) or (allowed and r.exit_code == 0)
        rows.append((group, " ".join(str(a) if not isinstance(a, Path) else a.name for a in args[:2]), clean,
                     "Traceback" not in r.output, untouched))
    return rows


def kill_runs(msl: Path, folder: Path, n: int, seed: int) -> list[dict]:
    (folder / "work").mkdir()
    work = kills.make_work(msl, SHARED / "phoenix_annotations", folder / "work")
    rng = random.Random(seed)
    out = []
    for name in kills.cases(work, folder).keys():
        ref_dir, kill_dir = folder / f"ref-{name}", folder / f"kill-{name}"
        ref_dir.mkdir()
        kill_dir.mkdir()
        ref = kills.cases(work, ref_dir)[name]
        t0 = time.monotonic()
        r = kills.cli(*ref.args, env=kills._env())
        took = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        reference = ref.reference(ref.target)
        case = kills.cases(work, kill_dir)[name]
        row = {"command": name, "seconds": took, "kills": 0, "landed": 0, "in_write": 0, "broken": 0}
        moments = [case.writing] + [rng.uniform(0.05, 1.0) * took for _ in range(n)]
        for when in moments:
            landed, in_write = kills.kill(case.args, when, case.writing)
            row["kills"] += 1
            row["landed"] += landed
            row["in_write"] += in_write
            try:
                case.check(case.target, reference)
            except AssertionError:
                row["broken"] += 1
        finished = case.target.exists() and not case.target.with_name(case.target.name + ".journal").exists()
        if name in ("stitch", "segment") and finished:
            again_ok = True
        else:
            force = ("--force",) if name in ("lm train", "export", "fuse") else ()
            again_ok = kills.cli(*case.args, *force, env=kills._env()).returncode == 0
        try:
            case.same(case.target, reference)
            row["rerun"] = again_ok
        except AssertionError:
            row["rerun"] = False
        out.append(row)
        print(f"kill {name}: {row}", flush=True)
    return out


def full_disk(folder: Path) -> list[tuple[str, bool]]:
    rows = []
    for name, test in (("file-size limit (EFBIG)", disk.test_file_size_limit), ("small tmpfs (ENOSPC)", disk.test_a_full_tmpfs)):
        where = folder / name.split()[0]
        where.mkdir()
        try:
            test(where)
            rows.append((name, "survived: store unchanged, one line, rerun complete"))
        except pytest.skip.Exception as e:
            rows.append((name, f"not run here ({e})"))
        except AssertionError as e:
            rows.append((name, f"FAILED: {str(e).splitlines()[0][:100]}"))
    return rows


def fuzz_rows(examples: int, seed: int) -> list[tuple]:
    import fuzz

    from tests.fuzz import seeds
    from tests.fuzz.targets import NEEDS_SHARED, TARGETS

    rows = []
    for name, (strategy, check) in TARGETS.items():
        if name in NEEDS_SHARED and not seeds.SHARED.is_dir():
            continue
        cases, failures, seconds = fuzz.fuzz(strategy, check, examples, seed)
        rows.append((name, cases, sum(c for c, _ in failures.values()), seconds,
                     "; ".join(f"{k}: {m}" for k, (_, m) in failures.items())))
        print(f"fuzz {name}: {cases} cases, {rows[-1][2]} failures", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=8, help="random-moment kills per command (plus one while writing)")
    ap.add_argument("--examples", type=int, default=300, help="hypothesis examples per fuzzed reader")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "robustness.md")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="slr-robust-") as tmp:
        tmp = Path(tmp)
        msl = msl_store(tmp)
        (tmp / "bad").mkdir()
        inputs = bad_inputs(msl, tmp / "bad")
        (tmp / "kill").mkdir()
        killed = kill_runs(msl, tmp / "kill", args.kills, args.seed)
        (tmp / "disk").mkdir()
        disk_rows = full_disk(tmp / "disk")
    fuzzed = fuzz_rows(args.examples, args.seed)
    load_after = os.getloadavg()

    lines = [
        "# Robustness: bad inputs, kills, a full disk, fuzzed readers",
        "",
        f"Run {datetime.date.today()} on {platform.platform()} ({os.cpu_count()} CPUs, no GPU; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after). Real data: the bundled MSL-150 keypoints "
        "(86 sequences) and the PHOENIX-2014 training glosses.",
        f"`python benchmarks/robustness.py --kills {args.kills} --examples {args.examples} --seed {args.seed}`",
        "",
        "## Bad inputs through the command line",
        "",
        "| scenario | tried | one clear line | no traceback | files beside it unchanged |",
        "|---|---:|---:|---:|---:|",
    ]
    groups: dict[str, list] = {}
    for row in inputs:
        groups.setdefault(row[0], []).append(row)
    for group, rows in groups.items():
        lines.append(f"| {group} | {len(rows)} | {sum(r[2] for r in rows)} | {sum(r[3] for r in rows)} | {sum(r[4] for r in rows)} |")
    lines.append(f"| **all** | {len(inputs)} | {sum(r[2] for r in inputs)} | {sum(r[3] for r in inputs)} | {sum(r[4] for r in inputs)} |")
    lines += [
        "",
        "## SIGKILL during every command that writes",
        "",
        "A kill *in a write* came while a journal entry or a temporary file of the target existed.",
        "",
        "| command | uninterrupted s | kills | landed while running | in a write | targets broken | rerun equals uninterrupted |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [f"| {k['command']} | {k['seconds']:.1f} | {k['kills']} | {k['landed']} | {k['in_write']} | {k['broken']} | "
              f"{'yes' if k['rerun'] else 'NO'} |" for k in killed]
    lines += ["", "## A full disk during a commit", ""]
    lines += [f"- {name}: {what}" for name, what in disk_rows]
    lines += [
        "",
        "## Fuzzed readers (hypothesis)",
        "",
        "| reader | cases run | failures | seconds |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {cases} | {fails} | {seconds:.1f} |" for name, cases, fails, seconds, _ in fuzzed]
    failing = [(n, why) for n, _, f, _, why in fuzzed if f]
    lost = sum(k["broken"] for k in killed) + sum(not r[4] for r in inputs) + sum(not k["rerun"] for k in killed)
    lines += ["", f"{sum(r[1] for r in fuzzed)} fuzz cases in all; failures: "
              + ("none." if not failing else "; ".join(f"{n}: {w}" for n, w in failing))]
    lines += ["", "## Lost", "",
              f"{lost} stores or files lost or damaged across {len(inputs)} bad inputs and "
              f"{sum(k['kills'] for k in killed)} kills (the goal is 0)."]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
