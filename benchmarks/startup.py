"""Start-up time of ``slr-pose --help``, ``slr-pose inspect STORE`` and ``import slr_pose.keypoints``,
for two source trees side by side (e.g. a commit before a change and the working tree).

Each case is a fresh interpreter started with the tree as its working directory and
first on ``sys.path`` (so the same installed dependencies serve both trees); the
trees alternate run by run so that machine load falls on both alike. Reported:
median and minimum wall time over the runs, and whether torch was imported.

Usage: python benchmarks/startup.py --before /path/to/old/tree [--runs 15] [--out benchmarks/results/startup.md]
       (the 'after' tree is this repository unless --after is given)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MSL = REPO / "data" / "msl150" / "keypoints_sample.npz"
# run in the tree: the tree's slr_pose comes first on sys.path, whatever is installed
PRELUDE = "import sys; TREE = sys.argv[1]; sys.path.insert(0, '.'); "
REPORT = ("; import slr_pose; assert slr_pose.__file__.startswith(TREE), slr_pose.__file__; "
          "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr)")


def cli_code(*args: str) -> str:
    return (PRELUDE + f"sys.argv = ['slr-pose', *{list(args)!r}]\nfrom slr_pose.cli.main import cli\n"
            "try:\n    cli(prog_name='slr-pose')\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
            + REPORT.lstrip("; "))


def one_run(tree: Path, code: str) -> tuple[float, bool]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(tree)], cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed in {tree}: {r.stderr[-800:]}")
    return wall, r.stderr.splitlines()[-1] == "TORCH"


def describe(tree: Path) -> str:
    """The tree's commit (and whether it has changes beyond it), or its path outside git."""
    git = ["git", "-C", str(tree)]
    r = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"`{tree}`"
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return f"commit {r.stdout.strip()}" + (" with uncommitted changes" if dirty.stdout.strip() else "")


def make_store(path: Path) -> None:
    """The bundled MSL-150 keypoints (86 real sequences) as a pose store, made with this tree."""
    subprocess.run([sys.executable, "-m", "slr_pose", "import", "numpy", str(MSL), "--spec", "msl150",
                    "--language", "mfs", "--trim", "-o", str(path)], check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the old source tree (e.g. a git worktree)")
    ap.add_argument("--after", type=Path, default=REPO)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "startup.md")
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "msl.h5"
        make_store(store)
        cases = {
            "slr-pose --help": cli_code("--help"),
            "slr-pose inspect STORE": cli_code("inspect", str(store)),
            "import slr_pose.keypoints": PRELUDE + "import slr_pose.keypoints" + REPORT,
        }
        times = {(c, t): [] for c in cases for t in trees}
        torch = {}
        for c, code in cases.items():
            for name, tree in trees.items():  # one warm-up each: the OS file cache, numba's cache
                one_run(tree, code)
            for _ in range(args.runs):
                for name, tree in trees.items():
                    wall, used = one_run(tree, code)
                    times[c, name].append(wall)
                    torch[c, name] = used
    load_after = os.getloadavg()[0]

    def cell(c: str, t: str) -> str:
        v = times[c, t]
        return f"{1000 * statistics.median(v):.0f} ms (min {1000 * min(v):.0f})"

    rows = [f"| `{c}` | {cell(c, 'before')} | {cell(c, 'after')} | "
            f"{statistics.median(times[c, 'after']) / statistics.median(times[c, 'before']):.2f}x | "
            f"{'yes' if torch[c, 'before'] else 'no'} / {'yes' if torch[c, 'after'] else 'no'} |" for c in cases]
    text = "\n".join([
        "# Start-up time: `slr-pose --help`, `slr-pose inspect`, `import slr_pose.keypoints`",
        "",
        f"Run {datetime.date.today().isoformat()} on {platform.machine()} with {os.cpu_count()} cores, no GPU, "
        f"Python {platform.python_version()}; load average {load:.2f} before and "
        f"{load_after:.2f} after the run (another job was using the machine when the load is above 0). "
        f"`python benchmarks/startup.py --before OLD_TREE --runs {args.runs}`.",
        "",
        f"Trees: before = {describe(trees['before'])}, after = {describe(trees['after'])}. Data: the bundled MSL-150 keypoints "
        "(86 real sequences) imported into a store. Wall time of a fresh interpreter per run, median and minimum "
        f"over {args.runs} runs per tree, the trees alternating run by run.",
        "",
        "| command | before | after | after / before | torch imported (before / after) |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
    ])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
