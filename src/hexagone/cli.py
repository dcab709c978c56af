"""The ``hexagone`` command: the core's commands (serve, migrate) and those of every
installed module, each contributed by its descriptor (``Module.cli``), so that this file
names no module and a module added through ``HEXAGONE_MODULES`` brings its commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hexagone.app import load_registry
from hexagone.core.config import get_settings
from hexagone.migrations import upgrade
from hexagone.server import serve as run_server

app = typer.Typer(help="Hexagone, the sovereign collaborative suite.", no_args_is_help=True, add_completion=False)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Hexagone, the sovereign collaborative suite."""
    ctx.obj = load_registry()  # what hexagone.core.cli.registry gives the modules' commands


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    upgrade(get_settings())
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Serve the web app, the API and every module's servers in one process."""
    settings = get_settings()
    run_server(
        settings, host=host or settings.host, port=port or settings.http_port, workers=workers or settings.workers
    )


for module in load_registry():
    if module.cli is not None:
        app.add_typer(module.cli)


def main() -> None:
    app()
