"""WebSocket close codes, for every module, and what the ASGI app does with a WebSocket.

Sockets are served by the core's live server (:mod:`hexagone.core.live`), not through the
ASGI app; a WebSocket that reaches the app anyway (an old client, a wrong port) meets its
guards, whose refusals must become a close (:func:`denials_as_close`): an HTTP body is
not something every ASGI server can send on a WebSocket.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

# Close codes (RFC 6455 § 7.4.1, and the private range for what it does not name).
UNSUPPORTED = 1003  # a binary frame where text is expected
INVALID_DATA = 1007  # a frame that is not the JSON it must be
POLICY = 1008  # refused: not signed in, another site's page, flooding
TRY_AGAIN = 1013  # the client does not read fast enough: reconnect and resume
SIGNED_OUT = 4401  # the sign-in that opened the socket is over


def denials_as_close(scope: Scope, send: Send) -> Send:
    """``send`` for a handshake, where an HTTP answer (a 401, a 404 from the core's
    guards) becomes a close unless the server can send HTTP answers on a WebSocket
    (the ``websocket.http.response`` extension)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        return send

    async def closing(message: Message) -> None:
        if message["type"] == "websocket.http.response.start":
            await send({"type": "websocket.close", "code": POLICY})
        elif message["type"] != "websocket.http.response.body":
            await send(message)

    return closing
