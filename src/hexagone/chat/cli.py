"""``hexagone chat …``: a conversation exported as JSON (what its members can export from
the API), and the retention applied at once.

``--json`` prints one JSON object; a refusal (no such user or conversation) is a message
on standard error and exit code 2.
"""

from __future__ import annotations

import sys
import uuid
from typing import Annotated

import typer

from hexagone.core.cli import JsonFlag, emit, run

app = typer.Typer(help="Chat: export a conversation, apply retention.", no_args_is_help=True)
cli = typer.Typer()
cli.add_typer(app, name="chat")


@app.command("export")
def export(
    channel: Annotated[str, typer.Argument(help="The conversation's id.")],
    user: Annotated[str, typer.Option("--user", help="The e-mail of a member, as whom it is read.")],
) -> None:
    """Write a conversation and all its messages as JSON on standard output."""

    async def write() -> None:
        from hexagone.chat.service import channel_json
        from hexagone.core.db import org_session
        from hexagone.core.exceptions import Invalid
        from hexagone.identity.service import principal_for_email

        try:
            channel_id = uuid.UUID(channel)
        except ValueError:
            raise Invalid("not a conversation id") from None
        principal = await principal_for_email(user)
        async with org_session(principal.org_id) as db:
            async for piece in channel_json(db, principal, channel_id):
                sys.stdout.buffer.write(piece)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()

    run(write)


@app.command("purge")
def purge(as_json: JsonFlag = False) -> None:
    """Apply every organisation's retention period now (the workers do it every six hours)."""

    async def apply() -> int:
        from hexagone.chat.service.retention import purge as purge_all

        return await purge_all()

    deleted = run(apply)
    emit(as_json, {"deleted": deleted}, f"{deleted} messages deleted")
