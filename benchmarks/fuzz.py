"""Property-based fuzzing of every reader of user files: cases run, failures found, seconds.

Each target of ``tests/fuzz/targets.py`` (a reader, a hypothesis strategy of
damaged real files and the property check) runs through hypothesis with the
given budget. A failing case is recorded and the run goes on, so one bug does
not hide the next: failures are counted by exception type and the place that
raised it, with the first message seen, and are not shrunk (``pytest tests/fuzz`` shrinks them).

Usage: python benchmarks/fuzz.py [--examples 1000] [--only NAME ...] [--seed N] [--out benchmarks/results/fuzz.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.fuzz import seeds  # noqa: E402
from tests.fuzz.targets import NEEDS_SHARED, TARGETS  # noqa: E402


def failure_kind(e: BaseException) -> tuple[str, str]:
    """``(type and place, first line)``: the place is the innermost frame in slr_pose, else the innermost."""
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if f"{os.sep}slr_pose{os.sep}" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(e).__name__} at {where}", (str(e).splitlines() or [""])[0][:120]


def fuzz(strategy, check, examples: int, seed: int | None) -> tuple[int, dict, float]:
    """Cases run, failures as ``{type and place: [count, first message]}``, seconds."""
    cases, failures = 0, {}

    def case(value) -> None:
        nonlocal cases
        cases += 1
        try:
            check(value)
        except Exception as e:  # noqa: BLE001 - every failure is what is being counted
            kind, message = failure_kind(e)
            failures.setdefault(kind, [0, message])[0] += 1

    test = settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(
        given(strategy)(case)
    )
    if seed is not None:
        test = hypothesis.seed(seed)(test)
    start = time.perf_counter()
    test()
    return cases, failures, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1000, help="hypothesis examples per reader")
    ap.add_argument("--only", nargs="*", default=None, help="target names (default: all)")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "fuzz.md")
    args = ap.parse_args()
    names = args.only or list(TARGETS)
    load_before = os.getloadavg()
    rows, found, skipped = [], {}, []
    for name in names:
        if name in NEEDS_SHARED and not seeds.SHARED.is_dir():
            skipped.append(name)
            continue
        strategy, check = TARGETS[name]
        cases, failures, seconds = fuzz(strategy, check, args.examples, args.seed)
        failed = sum(count for count, _ in failures.values())
        rows.append((name, cases, failed, seconds))
        found[name] = failures
        print(f"{name}: {cases} cases, {failed} failures, {seconds:.1f} s", flush=True)
    load_after = os.getloadavg()
    seed = f" --seed {args.seed}" if args.seed is not None else ""
    lines = [
        "# Fuzzing the readers of user files",
        "",
        f"Run {datetime.date.today()} on {platform.platform()} ({os.cpu_count()} CPUs, no GPU; load average "
        f"{load_before[0]:.1f} before the run, {load_after[0]:.1f} after), hypothesis {hypothesis.__version__}.",
        f"`python benchmarks/fuzz.py --examples {args.examples}{seed}`: each reader gets damaged copies of real",
        "files (bytes flipped, cut, inserted, deleted; lines and fields replaced with odd values; arrays, tables,",
        "configs and checkpoints edited by structure; a folder in place of the file) from `tests/fuzz/targets.py`.",
        "A case fails when the reader raises anything but one `SlrPoseError` with a one-line message, returns",
        "data that breaks its own promises, or runs past 30 s. Seconds include making each reader's seed once",
        "(the checkpoint target trains a one-epoch run first).",
        "",
        "| reader | cases run | failures | seconds |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {cases} | {fails} | {seconds:.1f} |" for name, cases, fails, seconds in rows]
    total = sum(r[3] for r in rows)
    lines += ["", f"{sum(r[1] for r in rows)} cases in {total:.0f} s."]
    if skipped:
        lines += ["", f"Skipped (no `../shared/data` here): {', '.join(skipped)}."]
    failing = {n: f for n, f in found.items() if f}
    lines += ["", "## Failures", ""]
    if not failing:
        lines.append("None.")
    for name, failures in failing.items():
        ranked = sorted(failures.items(), key=lambda kv: -kv[1][0])
        lines += [f"- {name}: {count} x {kind}: {message}" for kind, (count, message) in ranked]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
