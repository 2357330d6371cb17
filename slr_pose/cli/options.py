"""Options that several commands share, declared once."""

from __future__ import annotations

import click

#: ``--force``: replace an existing output file of the command's own kind (never a store, a run or another kind).
force_option = click.option(
    "--force", is_flag=True,
    help="Replace the output file if it exists (only a file of the kind this command writes).",
)
