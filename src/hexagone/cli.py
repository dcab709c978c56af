"""The ``hexagone`` command: the core's commands (serve, migrate) and those of every
installed module, each contributed by its descriptor (``Module.cli``), so that this file
names no module and a module added through ``HEXAGONE_MODULES`` brings its commands.

Every command pays for what this file imports, so it imports what building the command
needs: the registry, whose pages, API and servers load only when read (see
:class:`~hexagone.core.modules.Lazy`). Each command imports what it runs.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from pydantic import ValidationError

from hexagone.app import load_registry
from hexagone.core.config import get_settings
from hexagone.server import serve as run_server

app = typer.Typer(help="Hexagone, the sovereign collaborative suite.", no_args_is_help=True, add_completion=False)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Hexagone, the sovereign collaborative suite."""
    ctx.obj = load_registry()  # what hexagone.core.cli.registry gives the modules' commands


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from hexagone.migrations import upgrade  # Alembic: a fifth of a second no other command needs

    upgrade(get_settings())
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    parts: Annotated[
        str | None,
        typer.Option(help="What this process runs: web, protocols, jobs (comma separated; default all three)."),
    ] = None,
) -> None:
    """Serve the web app and the API, every module's servers (IMAP, SMTP) and the job worker:
    all in one process by default, or each part in processes of its own (--parts)."""
    if parts is not None:  # through the environment, so that the web workers inherit it
        os.environ["HEXAGONE_SERVE_PARTS"] = parts
        get_settings.cache_clear()
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--parts") from None
    run_server(
        settings, host=host or settings.host, port=port or settings.http_port, workers=workers or settings.workers
    )


blobs_app = typer.Typer(help="The blob store (files, mail bodies, attachments).", no_args_is_help=True)
app.add_typer(blobs_app, name="blobs")


@blobs_app.command()
def rewrap() -> None:
    """Seal the keys of the encrypted blob store with HEXAGONE_BLOB_MASTER_KEY, the former
    master key being in HEXAGONE_BLOB_MASTER_KEY_PREVIOUS; the blobs are not rewritten."""
    from hexagone.core import blobs
    from hexagone.core.blobs.encrypted import Encrypted
    from hexagone.core.cli import run

    store = blobs.get_store()
    if not isinstance(store, Encrypted):
        typer.echo("error: HEXAGONE_BLOB_ENCRYPTION is off: there is no key to seal", err=True)
        raise typer.Exit(2)
    try:
        count = run(store.keys.rewrap)
    except blobs.WrongMasterKey as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{count} key(s) sealed again with the master key")


for module in load_registry():
    if module.cli is not None:
        app.add_typer(module.cli)


def main() -> None:
    app()
