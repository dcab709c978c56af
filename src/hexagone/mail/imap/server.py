"""The IMAP listener: one per ``hexagone serve`` worker (``SO_REUSEPORT`` lets every
worker bind the same port and the kernel spread connections between them)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hexagone.core.config import get_settings
from hexagone.mail.imap.connection import Connection
from hexagone.mail.imap.notify import hub
from hexagone.mail.imap.session import Session

log = logging.getLogger("hexagone.mail.imap")


async def serve() -> None:
    """Accept IMAP clients until cancelled, then say BYE to the ones still connected."""
    settings = get_settings()
    connections: set[Connection] = set()

    def connection() -> Connection:
        conn = Connection(lambda c: Session(c, settings))
        connections.add(conn)
        return conn

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        connection, settings.resolved_mail_listen_host, settings.imap_port, reuse_port=True, start_serving=True
    )
    log.info("IMAP listening on %s:%d", settings.resolved_mail_listen_host, settings.imap_port)
    notifications = asyncio.create_task(hub.run(), name="imap-notifications")
    try:
        while True:
            await asyncio.sleep(60)
            connections.difference_update([c for c in connections if c.closed])
    finally:
        notifications.cancel()
        server.close()
        for conn in connections:
            if not conn.closed:
                conn.write(b"* BYE Server shutting down\r\n")
                conn.close()
            if conn.task is not None:
                conn.task.cancel()
        with contextlib.suppress(Exception):
            await server.wait_closed()
