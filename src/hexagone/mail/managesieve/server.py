"""The ManageSieve listener: one per ``hexagone serve`` worker, on
``HEXAGONE_MANAGESIEVE_PORT``, with IMAP's accept loop."""

from __future__ import annotations

from hexagone.core.config import get_settings
from hexagone.mail.imap.server import listen
from hexagone.mail.managesieve.session import Session
from hexagone.mail.managesieve.wire import response


async def serve() -> None:
    """Accept ManageSieve clients until cancelled, then say BYE to those still connected."""
    settings = get_settings()
    bye = response("BYE", "Server shutting down")
    await listen("ManageSieve", settings.managesieve_port, lambda c: Session(c, settings), bye)
