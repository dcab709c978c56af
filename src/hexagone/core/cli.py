"""What every module's commands share, so that ``hexagone …`` behaves the same whichever
module a command comes from: ``--json`` prints exactly one JSON object, a service error
prints its message on standard error and exits with code 2, and the process' connections
are closed when the command ends.

A module contributes commands through its descriptor (``Module.cli``, a Typer whose
commands and groups join the root command); a command that needs the installed modules
reads them from the context (:func:`registry`), which the root command fills.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from hexagone.core import blobs, pubsub
from hexagone.core.db import dispose_engine
from hexagone.core.exceptions import ServiceError
from hexagone.core.modules import Registry
from hexagone.core.pubsub import events

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine: a service error is a message and exit code 2; the
    events it committed are published and the connections closed before the process ends."""

    async def wrapped() -> T:
        try:
            return await make()
        finally:
            await events.flush()
            await pubsub.close_bus()
            await blobs.close_store()
            await dispose_engine()

    try:
        return asyncio.run(wrapped())
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False) if as_json else human)


def registry(ctx: typer.Context) -> Registry:
    """The installed modules, as the root command loaded them."""
    loaded = ctx.find_root().obj
    assert isinstance(loaded, Registry), "the root command puts the registry in its context"
    return loaded
