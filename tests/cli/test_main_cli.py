"""The ``slr-pose`` entry point: its version, and an example in the help of every command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from slr_pose import __version__
from slr_pose.cli.main import COMMANDS, cli


def _leaf_commands() -> list[tuple[str, ...]]:
    """Every command a user runs: the top-level ones, and each subcommand of a group."""
    out = []
    for name in sorted(COMMANDS):
        cmd = cli.get_command(click.Context(cli), name)
        assert cmd is not None, f"{name} is listed in COMMANDS but cannot be loaded"
        if isinstance(cmd, click.Group):
            out += [(name, sub) for sub in sorted(cmd.commands)]
        else:
            out.append((name,))
    return out


def _help(*path: str) -> str:
    r = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def _examples(text: str, path: tuple[str, ...]) -> list[str]:
    """Lines of an ``Example:`` / ``Examples:`` block that run the command at ``path``."""
    block = re.search(r"^\s*Examples?:\n((?:[ \t]+\S.*\n?)+)", text, re.M)
    assert block, f"`slr-pose {' '.join(path)} --help` has no Example block"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith(f"slr-pose {' '.join(path)} ")]


def test_version_exactly():
    r = CliRunner().invoke(cli, ["--version"])
    assert (r.exit_code, r.output) == (0, f"slr-pose, version {__version__}\n")
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_installed_script_prints_the_version():
    script = Path(sys.executable).with_name("slr-pose")
    if not script.exists():
        pytest.skip("slr-pose is not installed beside this interpreter")
    run = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"slr-pose, version {__version__}\n", "")


def test_every_command_is_listed_in_the_top_level_help():
    text = _help()
    listed = re.search(r"^Commands:\n((?:  .*\n?)+)", text, re.M).group(1)
    assert sorted(ln.split()[0] for ln in listed.splitlines()) == sorted(COMMANDS)
    assert "slr-pose extract videos/ -o poses.h5" in text


@pytest.mark.parametrize("path", _leaf_commands(), ids=" ".join)
def test_every_command_help_has_an_example(path):
    assert _examples(_help(*path), path), f"no example in `slr-pose {' '.join(path)} --help` runs that command"


@pytest.mark.parametrize("group", sorted(n for n in COMMANDS if isinstance(cli.get_command(click.Context(cli), n), click.Group)))
def test_every_group_help_has_an_example(group):
    assert _examples(_help(group), (group,)), f"no example in `slr-pose {group} --help`"


def test_the_import_group_shows_each_format():
    examples = _examples(_help("import"), ("import",))
    formats = sorted(cli.get_command(click.Context(cli), "import").commands)
    assert formats == ["kaggle", "numpy", "pose"]
    assert sorted(e.split()[2] for e in examples) == formats


def test_face_choices_equal_the_layouts():
    """The CLI writes the --face choices out (so --help needs no numpy); they must stay the layout module's."""
    from slr_pose.cli.options import FACE_DETAIL
    from slr_pose.keypoints import layout

    assert FACE_DETAIL == layout.FACE_DETAIL


def test_help_imports_neither_numpy_nor_torch():
    """`slr-pose --help` lists every command, so it imports every command module: they must stay light."""
    import subprocess
    import sys

    code = ("import sys\nfrom slr_pose.cli.main import cli\ntry:\n    cli(['--help'], prog_name='slr-pose')\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('numpy', 'torch', 'h5py', 'mediapipe') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "[]", r.stderr
