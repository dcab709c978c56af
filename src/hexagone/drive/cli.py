"""``hexagone drive …``: the drive's commands (export, import, sweep)."""

from __future__ import annotations

import typer

cli = typer.Typer()
app = typer.Typer(help="Drives: export, import a folder tree, apply retention.", no_args_is_help=True)
cli.add_typer(app, name="drive")
