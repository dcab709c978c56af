"""The chat's WebSocket, at :data:`~hexagone.chat.live.PAGE_PATH` for the pages and
:data:`~hexagone.chat.live.API_PATH` for programs; the core's live server has checked
the handshake (:mod:`hexagone.core.live`).

On opening, the socket is registered with the hub first, then told where the log stands
(``hello`` with the organisation's last event number, ``head``), then, if the client gave
``?after=<n>``, sent every event after *n* in its conversations (or ``reset`` if too much
was missed: reload). Events the hub pushed meanwhile are held and follow, those already
replayed skipped: nothing is lost or doubled across a reconnection.
"""

from __future__ import annotations

from collections.abc import Mapping

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from hexagone.chat.live.connection import Closing, Connection, followed_by
from hexagone.chat.live.hub import hub
from hexagone.chat.service import events
from hexagone.core import websockets as ws
from hexagone.core.db import org_session
from hexagone.core.live import Caller, close


def _after(query: Mapping[str, str]) -> int | None:
    raw = query.get("after")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError("after is an event number")
    return int(raw)


async def _standing(connection: Connection, after: int | None) -> tuple[int, events.Replay | None]:
    """The organisation's last event number, and what the client missed after ``after``.
    (The database session is gone when this returns: kept in the handler's frame, it
    would live as long as the socket.)"""
    principal = connection.principal
    async with org_session(principal.org_id) as db:
        now = await events.last_seq(db, principal.org_id)
        if after is None:
            return now, None
        return now, await events.since(db, principal.org_id, principal.user_id, connection.channels, after)


async def live(socket: ServerConnection, caller: Caller) -> None:
    principal = caller.principal
    try:
        after = _after(caller.query)
    except ValueError as error:
        return await socket.close(ws.POLICY, str(error))
    the_hub = hub()
    await the_hub.start()
    connection = Connection(the_hub, socket, caller, await followed_by(principal))
    the_hub.add(connection)
    try:
        now, replay = await _standing(connection, after)
        connection.last_seq = after or 0
        await connection.send({"type": "hello", "head": now, "user": str(principal.user_id)})
        if replay is not None and not replay.complete:
            await connection.send({"type": "reset", "head": now})
        elif replay is not None:
            for frame in replay.events:
                await connection.send(frame)
        await connection.caught_up()
        await connection.read()
    except Closing as closing:
        await close(socket, closing.code, closing.reason)
    except ConnectionClosed:
        pass  # the client left
    finally:
        the_hub.remove(connection)
