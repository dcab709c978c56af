"""The IMAP listener: one per ``hexagone serve`` worker (``SO_REUSEPORT`` lets every
worker bind the same port and the kernel spread connections between them).

:func:`listen` is the accept loop of the line protocols served over
:class:`~hexagone.mail.imap.connection.Connection` (IMAP here, ManageSieve too)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from hexagone.core.config import get_settings
from hexagone.mail.imap.connection import Connection
from hexagone.mail.imap.notify import hub
from hexagone.mail.imap.session import Session

log = logging.getLogger("hexagone.mail.imap")


async def listen(name: str, port: int, session: Callable[[Connection], object], bye: bytes) -> None:
    """Accept clients on ``port`` until cancelled, each served by the session made by
    ``session``; then send ``bye`` to the ones still connected."""
    host = get_settings().resolved_mail_listen_host
    connections: set[Connection] = set()

    def connection() -> Connection:
        conn = Connection(session)
        connections.add(conn)
        return conn

    loop = asyncio.get_running_loop()
    server = await loop.create_server(connection, host, port, reuse_port=True, start_serving=True)
    log.info("%s listening on %s:%d", name, host, port)
    try:
        while True:
            await asyncio.sleep(60)
            connections.difference_update([c for c in connections if c.closed])
    finally:
        server.close()
        for conn in connections:
            if not conn.closed:
                conn.write(bye)
                conn.close()
            if conn.task is not None:
                conn.task.cancel()
        with contextlib.suppress(Exception):
            await server.wait_closed()


async def serve() -> None:
    """Accept IMAP clients until cancelled, then say BYE to the ones still connected."""
    settings = get_settings()
    notifications = asyncio.create_task(hub.run(), name="imap-notifications")
    try:
        await listen("IMAP", settings.imap_port, lambda c: Session(c, settings), b"* BYE Server shutting down\r\n")
    finally:
        notifications.cancel()
