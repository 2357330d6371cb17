"""``slr-pose``: the entry point. Commands live in modules by topic (``extract.py``: extract and merge) and are
imported only when one runs (or when ``--help`` lists them), so start-up stays fast.
"""

from __future__ import annotations

import importlib

import click

from slr_pose import __version__
from slr_pose.errors import SlrPoseError

# command name -> "module:function" (modules under slr_pose.cli)
COMMANDS = {
    "extract": "extract:extract",
    "merge": "extract:merge",
    "verify": "verify:verify",
    "models": "models:models",
    "frames": "frames:frames",
    "import": "importing:import_group",
    "inspect": "inspect:inspect",
    "train": "train:train",
    "evaluate": "evaluate:evaluate",
    "predict": "predict:predict",
    "vssign": "vssign:vssign",
    "fewshot": "fewshot:fewshot",
    "lm": "lm:lm",
    "segment": "continuous:segment",
    "stitch": "continuous:stitch",
    "phoenix": "continuous:phoenix",
    "boston104": "continuous:boston104",
    "elan": "continuous:elan",
    "export": "export:export",
    "live": "live:live",
    "fuse": "fuse:fuse",
    "ablate": "fuse:ablate",
}


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line (click's default adds the usage and a hint on three more)."""

    def show(self, file=None) -> None:
        where = self.ctx.command_path if self.ctx else "slr-pose"
        click.echo(f"Error: {self.format_message()} (see '{where} --help')", err=True)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; user errors become one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if self._load(n) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            mod = importlib.import_module(f"slr_pose.cli.{module}")
        except ModuleNotFoundError as e:
            if e.name == f"slr_pose.cli.{module}":
                return None  # command not built yet
            raise
        return getattr(mod, attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SlrPoseError as e:
            raise click.ClickException(str(e)) from None
        except click.UsageError as e:
            if isinstance(e, (OneLineUsageError, click.exceptions.NoArgsIsHelpError)):
                raise  # already one line, or a group's help asked for by giving no command
            raise OneLineUsageError(e.format_message(), e.ctx) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slr-pose")
def cli() -> None:
    """Sign language recognition from body, hand and face landmarks.

    \b
    Typical use:
      slr-pose extract videos/ -o poses.h5
      slr-pose inspect poses.h5
      slr-pose train config.yaml -o runs/first
    """


def main() -> None:  # console-script entry point
    cli(prog_name="slr-pose")


if __name__ == "__main__":
    main()
