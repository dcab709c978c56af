"""The chat's WebSocket endpoint: ``/chat/live`` for the pages (the session cookie, from
one of our pages) and ``/api/v1/chat/live`` for programs (a bearer token).

On opening, the socket is registered with the hub first, then told where the log stands
(``hello`` with the organisation's last event number, ``head``), then, if the client gave
``?after=<n>``, sent every event after *n* in its conversations (or ``reset`` if too much
was missed: reload). Events the hub pushed meanwhile follow, those already replayed
skipped: nothing is lost or doubled across a reconnection.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from hexagone.chat.live.connection import Connection, run
from hexagone.chat.live.hub import hub
from hexagone.chat.service import channels, events
from hexagone.core import websockets as ws
from hexagone.core.auth import Principal
from hexagone.core.db import org_session


def _after(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("after")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError("after is an event number")
    return int(raw)


async def live(websocket: WebSocket) -> None:
    principal: Principal | None = websocket.scope.get("principal")
    if principal is None or principal.mfa_pending:
        return await websocket.close(ws.POLICY)
    if websocket.scope.get("auth_method") == "session" and not ws.same_origin(websocket.scope):
        return await websocket.close(ws.POLICY)
    try:
        after = _after(websocket)
    except ValueError:
        return await websocket.close(ws.POLICY)
    the_hub = hub()
    await the_hub.start()
    async with org_session(principal.org_id) as db:
        followed = await channels.visible_ids(db, principal)
    connection = Connection(the_hub, websocket, principal, followed)
    the_hub.add(connection)
    try:
        await websocket.accept()
        async with org_session(principal.org_id) as db:
            now = await events.last_seq(db, principal.org_id)
            replay = (
                await events.since(db, principal.org_id, principal.user_id, followed, after)
                if after is not None
                else None
            )
        connection.last_seq = after or 0
        await connection.send({"type": "hello", "head": now, "user": str(principal.user_id)})
        if replay is not None and not replay.complete:
            await connection.send({"type": "reset", "head": now})
        elif replay is not None:
            for frame in replay.events:
                await connection.send(frame)
        await run(connection)
    finally:
        the_hub.remove(connection)
