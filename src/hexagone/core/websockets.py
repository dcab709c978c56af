"""What every WebSocket endpoint needs from the core, whichever module serves it.

- The handshake carries the caller like any request (the session cookie, or a bearer
  token under ``/api/v1``; :class:`~hexagone.core.web.RequestContextMiddleware` resolves
  it), but CSRF tokens do not exist there: a page of another site can open a socket to
  us with the person's cookie. :func:`same_origin` is the check (RFC 6455 § 10.2): a
  cookie-authenticated handshake must come from one of our pages.
- A socket outlives the sign-in that opened it: :func:`still_signed_in` asks again (a
  sign-out, a revoked session, a disabled account end it), for endpoints to call every
  ``HEXAGONE_WEBSOCKET_RECHECK_SECONDS`` (:func:`recheck_seconds`).
- A refusal before the handshake is accepted is a close (the client sees HTTP 403), never
  an HTTP body, which an ASGI server may not be able to send on a WebSocket.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Message, Scope, Send

from hexagone.core.auth import SESSION_COOKIE, Principal, principal_from_bearer, principal_from_session_token
from hexagone.core.config import get_settings

# Close codes (RFC 6455 § 7.4.1, and the private range for what it does not name).
NORMAL = 1000
GOING_AWAY = 1001
UNSUPPORTED = 1003  # a binary frame where text is expected
INVALID_DATA = 1007  # a frame that is not the JSON it must be
POLICY = 1008  # refused: not signed in, another site's page, flooding
TOO_BIG = 1009
TRY_AGAIN = 1013  # the client does not read fast enough: reconnect and resume
SIGNED_OUT = 4401  # the sign-in that opened the socket is over


def same_origin(scope: Scope) -> bool:
    """The handshake's ``Origin`` is this server (as the client addressed it, or the
    configured base URL). Programs that send no ``Origin`` use a bearer token."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if not origin:
        return False
    host = urlsplit(origin).netloc.lower()
    return host in {headers.get("host", "").lower(), urlsplit(get_settings().resolved_base_url).netloc.lower()}


def recheck_seconds() -> float:
    return get_settings().websocket_recheck_seconds


async def still_signed_in(scope: Scope) -> Principal | None:
    """The caller as they are now, from the credentials the handshake carried."""
    if scope.get("auth_method") == "bearer":
        authorization = Headers(scope=scope).get("authorization", "")
        return await principal_from_bearer(authorization[7:].strip())
    token = cookie_parser(Headers(scope=scope).get("cookie", "")).get(SESSION_COOKIE, "")
    principal = await principal_from_session_token(token)
    return principal if principal is not None and not principal.mfa_pending else None


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
