"""The modules' long-lived WebSockets, served by the `websockets` library on a port of
their own (``HEXAGONE_LIVE_PORT``) beside the pages, not through the ASGI server.

Why not through the ASGI server (measured in bench/chat, bench/README.md): granian gives
every WebSocket a 128 KiB read buffer (about 180 KiB a connection in all, uvicorn 57), and
ASGI has no way to write one frame to many sockets: each needs a task that wakes and
awaits its own ``send`` through the framework's and the server's wrappers, which at 1,000
listeners made a fan-out's p99 4.4 times that of a bare ``websockets`` server. Here a
connection costs what the library costs (about 13 KiB), and :func:`broadcast` writes one
encoded frame to every socket at once, without a task per socket.

Every web process serves this port (``reuse_port``: the kernel spreads the connections),
in the same event loop as its pages, so a module's live handler shares the process's
database pool and event bus. A module declares its paths (``Module.live``: a path →
handler); the handshake is checked here as the pages' middleware checks a request:

- under ``/api/v1/`` a bearer token only, anywhere else a session cookie only, with its
  second factor done, from a page of ours (``Origin``, RFC 6455 § 10.2: no CSRF token
  exists at a handshake, and another site's page could open the socket with the cookie);
- the organisation subscribes to the module (404 otherwise, as its pages answer).

A refusal is an HTTP answer before the upgrade (401, 403, 404, with a one-line reason). A
socket outlives the sign-in that opened it: :meth:`Caller.still_signed_in` asks again.

Behind a reverse proxy the proxy routes the live paths to this port and
``HEXAGONE_LIVE_URL`` says where pages find it (docs/deployment.md); without one, pages
connect to the base URL's host on this port (``make run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import cookie_parser
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.asyncio.server import broadcast as _broadcast
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from hexagone.core import websockets as ws
from hexagone.core.auth import SESSION_COOKIE, Principal, principal_from_bearer, principal_from_session_token
from hexagone.core.config import Settings, get_settings

if TYPE_CHECKING:
    from hexagone.core.modules import Registry

log = logging.getLogger("hexagone.live")

API_PREFIX = "/api/v1/"
MAX_FRAME = 64 * 1024  # a frame larger than this closes the socket (1009): a chat message's 10,000 characters fit
MAX_BEHIND = 1 << 20  # bytes waiting in a socket's buffer past which :func:`broadcast` closes it (1013)
MAX_INCOMING = 16  # frames received but not yet read by the handler, per socket
DEFAULT_PORTS = {"http": 80, "https": 443}
CLOSE_WITHIN = 10.0  # seconds a closing handshake may take before the connection is cut
PING_EVERY = 30.0  # seconds between two pings of a socket, and the time it has to answer


@dataclass
class Caller:
    """Who opened a socket, and with what: what the handler needs to serve them and to
    ask later whether they may still be served."""

    principal: Principal
    path: str
    query: Mapping[str, str]
    bearer: str | None = field(default=None, repr=False)
    session: str | None = field(default=None, repr=False)

    async def still_signed_in(self) -> Principal | None:
        """The caller as they are now (signed out, a revoked token or a disabled account:
        ``None``), for handlers to ask every :func:`recheck_seconds`."""
        if self.bearer is not None:
            return await principal_from_bearer(self.bearer)
        principal = await principal_from_session_token(self.session or "")
        return principal if principal is not None and not _owes_second_factor(principal) else None


def _owes_second_factor(principal: Principal) -> bool:
    """A session still owing its second factor, or owing its enrolment where the
    organisation requires one: the pages send it to those pages; a socket is refused."""
    return principal.mfa_pending or principal.needs_mfa_setup


Handler = Callable[[ServerConnection, Caller], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """A module's live path: ``/<module>/…`` for its pages, ``/api/v1/<module>/…`` for programs."""

    module: str
    handler: Handler


def recheck_seconds() -> float:
    return get_settings().websocket_recheck_seconds


def public_url(settings: Settings, path: str) -> str:
    """Where a page finds the live ``path``: ``HEXAGONE_LIVE_URL`` behind a proxy, else
    the base URL's host on the live port."""
    if settings.live_url:
        return settings.live_url.rstrip("/") + path
    base = urlsplit(settings.resolved_base_url)
    scheme = "wss" if base.scheme == "https" else "ws"
    host = base.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"{scheme}://{host}:{settings.live_port}{path}"


def connect_source(settings: Settings) -> str:
    """The live server's origin, for the pages' ``connect-src``."""
    url = urlsplit(public_url(settings, "/"))
    return f"{url.scheme}://{url.netloc}"


def _from_our_pages(origin: str | None, settings: Settings) -> bool:
    if not origin:
        return False
    theirs, ours = urlsplit(origin.lower()), urlsplit(settings.resolved_base_url.lower())
    return (theirs.scheme, theirs.hostname, theirs.port or DEFAULT_PORTS.get(theirs.scheme)) == (
        ours.scheme,
        ours.hostname,
        ours.port or DEFAULT_PORTS.get(ours.scheme),
    )


def _refusal(connection: ServerConnection, status: HTTPStatus, reason: str) -> Response:
    return connection.respond(status, reason + "\n")


class Listener:
    """The handshake's checks, then the module's handler, for every live path."""

    def __init__(self, routes: Mapping[str, Route], settings: Settings):
        self.routes = routes
        self.settings = settings
        # The handshake's caller, until its handler takes it (gone with a client that left between)
        self._callers: weakref.WeakKeyDictionary[ServerConnection, Caller] = weakref.WeakKeyDictionary()

    async def check(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        route = self.routes.get(url.path)
        if route is None:
            return _refusal(connection, HTTPStatus.NOT_FOUND, "not found")
        if any(len(request.headers.get_all(name)) > 1 for name in ("Authorization", "Cookie", "Origin")):
            return _refusal(connection, HTTPStatus.BAD_REQUEST, "a credential header is repeated")
        authorization = request.headers.get("Authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        session = ""
        if url.path.startswith(API_PREFIX):
            principal = await principal_from_bearer(bearer) if bearer else None
            if principal is None:
                return _refusal(connection, HTTPStatus.UNAUTHORIZED, "a valid access token is required")
        elif bearer:
            return _refusal(connection, HTTPStatus.UNAUTHORIZED, "access tokens open /api/v1 only")
        else:
            session = cookie_parser(request.headers.get("Cookie", "")).get(SESSION_COOKIE, "")
            principal = await principal_from_session_token(session)
            if principal is None:
                return _refusal(connection, HTTPStatus.NOT_FOUND, "not found")  # as the module's pages
            if _owes_second_factor(principal):
                return _refusal(connection, HTTPStatus.UNAUTHORIZED, "the second factor is still owed")
            if not _from_our_pages(request.headers.get("Origin"), self.settings):
                return _refusal(connection, HTTPStatus.FORBIDDEN, "not from one of our pages")
        if route.module not in principal.org_modules:
            return _refusal(connection, HTTPStatus.NOT_FOUND, "not found")
        self._callers[connection] = Caller(
            principal=principal,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            bearer=bearer or None,
            session=session or None,
        )
        return None

    async def serve(self, connection: ServerConnection) -> None:
        caller = self._callers.pop(connection)
        # The handshake's headers are read (the caller holds what counts): about 4 KiB a
        # socket kept for nothing (tracemalloc in bench/chat).
        for handshake in (connection.request, connection.response):
            if handshake is not None:
                handshake.headers.clear()
        await self.routes[caller.path].handler(connection, caller)


def live_routes(registry: Registry) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for module in registry:
        for path, handler in module.live.items():
            inner = path.removeprefix(API_PREFIX[:-1])
            if not inner.startswith(f"/{module.name}/"):
                raise RuntimeError(f"module {module.name}: the live path {path!r} is not under /{module.name}/")
            routes[path] = Route(module.name, handler)
    return routes


async def serve_live(registry: Registry, settings: Settings) -> None:
    """Listen until cancelled (a task of the web process: :func:`hexagone.app.background`)."""
    routes = live_routes(registry)
    if not routes:
        return
    listener = Listener(routes, settings)
    async with serve(
        listener.serve,
        settings.host,
        settings.live_port,
        process_request=listener.check,
        compression=None,  # a deflate context per socket is ~300 KiB; our frames are small
        ping_interval=None,  # one task pings them all: keep_alive
        max_size=MAX_FRAME,
        max_queue=MAX_INCOMING,
        reuse_port=True,
    ) as server:
        log.info("live sockets on %s:%s (%s)", settings.host, settings.live_port, ", ".join(sorted(routes)))
        pinging = asyncio.create_task(keep_alive(server), name="live-pings")
        try:
            await server.serve_forever()
        finally:
            pinging.cancel()


async def keep_alive(server: Server, every: float = PING_EVERY) -> None:
    """Ping every socket each :data:`PING_EVERY` seconds and drop those that did not
    answer the previous ping: a peer gone without a word (a laptop shut, a network lost)
    no longer holds its socket. The library would do it with a task and a timer per
    socket (about a KiB each); here one task does it for all. A socket with data still
    unsent is not pinged (the ping would wait behind it): TCP or :func:`broadcast` ends it."""
    pongs: weakref.WeakKeyDictionary[ServerConnection, Awaitable[float]] = weakref.WeakKeyDictionary()
    while True:
        await asyncio.sleep(every)
        for socket in server.connections:  # a new set each time
            pong = pongs.get(socket)
            if isinstance(pong, asyncio.Future) and not pong.done():
                socket.transport.abort()
            elif not socket.transport.get_write_buffer_size():
                with contextlib.suppress(ConnectionClosed):
                    pongs[socket] = await socket.ping()


async def close(socket: ServerConnection, code: int, reason: str) -> None:
    """Close a socket its handler no longer reads, within :data:`CLOSE_WITHIN` or cut.
    What the client still sends is read and thrown away meanwhile, for the library stops
    reading once :data:`MAX_INCOMING` frames wait, and would then never see the client's
    answer to the close; and a client that reads nothing would hold the close for ever
    (the library waits for its buffers to drain before its own close timeout starts)."""

    async def discard() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _frame in socket:
                pass

    discarding = asyncio.create_task(discard())
    try:
        await _close_within(socket, code, reason)
    finally:
        discarding.cancel()


_closing: set[asyncio.Task[None]] = set()


def close_soon(socket: ServerConnection, code: int, reason: str) -> None:
    """:func:`close` without waiting here (a broadcast is synchronous), once per socket."""
    if socket.state is not State.OPEN:
        return  # already closing
    task = asyncio.get_running_loop().create_task(_close_within(socket, code, reason))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def _close_within(socket: ServerConnection, code: int, reason: str) -> None:
    """The closing handshake, cut after :data:`CLOSE_WITHIN` (or when it fails)."""
    try:
        async with asyncio.timeout(CLOSE_WITHIN):
            await socket.close(code, reason)
    except (TimeoutError, ConnectionClosed):
        socket.transport.abort()


def _keeping_up(sockets: Iterable[ServerConnection]) -> Iterator[ServerConnection]:
    for socket in sockets:
        transport = socket.transport
        if transport is not None and transport.get_write_buffer_size() > MAX_BEHIND:
            close_soon(socket, ws.TRY_AGAIN, "not reading fast enough")
            continue
        yield socket


def broadcast(sockets: Iterable[ServerConnection], frame: bytes) -> None:
    """One text frame (UTF-8 JSON) to many sockets, written to each at once. A socket
    whose client has left more than :data:`MAX_BEHIND` unread is closed (1013: reconnect
    and resume) instead of growing the server's memory."""
    _broadcast(_keeping_up(sockets), frame, text=True)
