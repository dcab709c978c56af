"""HTTP plumbing shared by every page and API: who is calling, in which language, CSRF,
body limits, security headers, and errors that never show a stack trace.

These are plain ASGI middlewares (no per-request task switching as with
``BaseHTTPMiddleware``): they sit on the path of every request and must stay cheap.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hexagone.core import i18n
from hexagone.core.auth import SESSION_COOKIE, Principal, principal_from_bearer, principal_from_session_token
from hexagone.core.config import Settings
from hexagone.core.exceptions import ServiceError
from hexagone.core.security import new_token, same, sign
from hexagone.core.websockets import denials_as_close

log = logging.getLogger("hexagone.web")

CSRF_COOKIE = "hx_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# 'self' only, and the live sockets' server (core/live.py: its own port, so not 'self').
# form-action is left out on purpose: after an OpenID Connect login the browser follows a
# redirect from our form to the client application's own host, which Chromium would
# otherwise block.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'{live}; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
OTHER_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")

# Protocol endpoints that authenticate their caller themselves rather than by cookie: an
# OAuth2 client by its own credentials (token, revocation), a resource request by a bearer
# token the endpoint checks against its own rules (userinfo). There the middleware
# resolves no principal and asks for no CSRF token: forgery rides on credentials the
# browser adds by itself, and these paths accept none. Modules add theirs at import time.
SELF_AUTHENTICATED_PATHS: set[str] = set()


def add_self_authenticated_paths(*paths: str) -> None:
    SELF_AUTHENTICATED_PATHS.update(paths)


# Paths whose clients sign in with HTTP Basic on every request (CalDAV, CardDAV): programs
# that keep no cookie and know no CSRF token. There a request carrying Basic credentials
# is resolved by the module's resolver (None: 401 asking for credentials, as a request
# with none at all) and needs no CSRF token: a browser adds remembered Basic credentials
# by itself only to what another site can make it send (GET, HEAD, a form's POST), which
# such endpoints must not let change anything. Without Basic credentials the session
# cookie works as everywhere, CSRF token included. An area is a path and everything
# under it, or one exact path, for some methods only (a DAV client asking the site's
# root for its principal). Modules add theirs at import.
BasicResolver = Callable[[str, str, Scope], Awaitable[Principal | None]]


@dataclass(frozen=True)
class BasicArea:
    path: str
    resolver: BasicResolver
    exact: bool = False
    methods: frozenset[str] | None = None

    def covers(self, path: str, method: str) -> bool:
        inside = path == self.path or (not self.exact and path.startswith(self.path + "/"))
        return inside and (self.methods is None or method in self.methods)


BASIC_AUTH_AREAS: list[BasicArea] = []


def allow_basic_auth(
    path: str, resolver: BasicResolver, *, exact: bool = False, methods: frozenset[str] | None = None
) -> None:
    BASIC_AUTH_AREAS.append(BasicArea(path, resolver, exact, methods))


def basic_challenge(scope: Scope) -> Response:
    response = error_response(scope, 401, "authentication required")
    response.headers["www-authenticate"] = 'Basic realm="Hexagone", charset="UTF-8"'
    return response


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


# The only paths where an OAuth2 access token stands for its user: the JSON API. A token
# is a credential an application holds; it is not a browser session, so it opens no page
# (no admin console, no MFA settings, no webmail) and is refused outright elsewhere.
TOKEN_PATH_PREFIX = "/api/"


# Paths that take uploads larger than ``max_body_bytes`` (a message with its attachments),
# each with its own limit. Modules add theirs at import time.
BODY_LIMITS: dict[str, int] = {}


def allow_large_bodies(path: str, limit: int) -> None:
    BODY_LIMITS[path] = limit


# Path prefixes whose request bodies reach the application as they arrive instead of
# being buffered first (file uploads: a drive's form, WebDAV's PUT), each with its limit.
STREAMED_BODIES: dict[str, int] = {}
# How much of a streamed body is read ahead for its CSRF token (the form's first field).
CSRF_HEAD = 64 * 1024


def allow_streamed_bodies(prefix: str, limit: int) -> None:
    """Hand the bodies of requests under ``prefix`` (whole segments: ``/dav`` covers
    ``/dav/x``, not ``/davx``) to the application as they arrive, never held whole in
    memory, up to ``limit`` bytes: past it the application reads a disconnect (and a
    ``Content-Length`` above it is refused with 413 before anything is read). A form
    posted there by a browser carries its CSRF token in the ``X-CSRF-Token`` header or as
    the first field of a multipart body, which is read ahead for it."""
    STREAMED_BODIES[prefix.rstrip("/")] = limit


def _streamed_limit(path: str) -> int | None:
    for prefix, limit in STREAMED_BODIES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return limit
    return None


# Paths a user who still owes a second factor may reach.
MFA_PENDING_PATHS = (
    "/login/mfa",
    "/logout",
    "/static/",
    "/healthz",
    "/readyz",
    "/lang",
    "/branding.css",
    "/branding/logo",
)
MFA_SETUP_PATHS = (*MFA_PENDING_PATHS, "/account/mfa")


def wants_json(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    # The OpenID provider answers applications in JSON, except on the two pages a browser visits.
    browser_oidc = path.startswith(("/oidc/authorize", "/oidc/logout"))
    if path.startswith("/api/") or (path.startswith("/oidc/") and not browser_oidc):
        return True
    accept = Headers(scope=scope).get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(scope: Scope, status: int, message: str) -> Response:
    if wants_json(scope):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return PlainTextResponse(message, status_code=status)


def token_refused(message: str) -> Response:
    """401 to a bearer token where it opens nothing (RFC 6750 §3), always in JSON: the
    caller is a program, which must learn that the token is wrong, not be shown a login
    page or, worse, be served as if it were anonymous."""
    response = JSONResponse({"error": message, "status": 401}, status_code=401)
    response.headers["www-authenticate"] = f'Bearer error="invalid_token", error_description="{message}"'
    return response


def body_too_large(scope: Scope) -> Response:
    """413, and the connection closed after it: what is left of the body is not read."""
    response = error_response(scope, 413, "request body too large")
    response.headers["connection"] = "close"
    return response


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, secure_cookies: bool, live_source: str = ""):
        self.app = app
        self.hsts = secure_cookies
        policy = CONTENT_SECURITY_POLICY.format(live=f" {live_source}" if live_source else "")
        self.headers = [(b"content-security-policy", policy.encode()), *OTHER_SECURITY_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # raw header pairs: a response may already set one of them (it wins)
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _value in raw}
                raw += [header for header in self.headers if header[0] not in present]
                if self.hsts:
                    raw.append(HSTS)
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


# Up to this size an oversize body whose Content-Length says so is read and thrown away
# before the 413, so that the client (still sending) sees the error; beyond it, answering
# and closing is cheaper. A chunked body announces no size: it is never drained (the
# client decides how long it goes on), the 413 goes out as soon as the limit is passed.
DRAIN_LIMIT = 32 * 1024 * 1024


async def drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyTooLarge("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_head(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """Read the first :data:`CSRF_HEAD` bytes of a body (less if it is shorter) and return
    them with a ``receive`` that gives them again, then the rest as it arrives, counting:
    past ``limit`` bytes in all it says the client went away."""
    head = bytearray()
    more = True
    while more and len(head) < CSRF_HEAD:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyTooLarge("client went away")
        head += message.get("body", b"")
        more = message.get("more_body", False)
    if len(head) > limit:
        raise BodyTooLarge
    size = len(head)
    replayed = False

    async def streamed() -> Message:
        nonlocal replayed, size
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": bytes(head), "more_body": more}
        if not more:
            return {"type": "http.disconnect"}
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            return {"type": "http.disconnect"}
        return message

    return bytes(head), streamed


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def parse_cookies(scope: Scope) -> dict[str, str]:
    """Starlette's parser, as browsers read cookies: a malformed pair is skipped, never a
    500 (and fifty times cheaper than ``http.cookies.SimpleCookie`` on every request)."""
    raw = Headers(scope=scope).get("cookie")
    return cookie_parser(raw) if raw else {}


def _names_a_nul(scope: Scope) -> bool:
    """A NUL in the path or the query string: no page or protocol of ours has one, and
    no database keeps one (PostgreSQL's text refuses it), so it is refused here once for
    every route rather than turning into a 500 wherever a search reaches the database."""
    return "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")


class RequestContextMiddleware:
    """Resolves the principal and language, enforces CSRF and the MFA gate, buffers
    bodies up to the configured limit (413 beyond; uploads under a prefix given to
    :func:`allow_streamed_bodies` are streamed instead), and sets ``scope['csrf_token']``."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.secret = settings.resolved_secret_key
        self.secure = settings.resolved_base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            send = denials_as_close(scope, send)
        headers = Headers(scope=scope)
        cookies = parse_cookies(scope)
        principal: Principal | None = None
        self_authenticated = scope["path"] in SELF_AUTHENTICATED_PATHS
        authorization = headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " and not self_authenticated else ""
        method = scope.get("method", "GET")
        basic = next((a.resolver for a in BASIC_AUTH_AREAS if a.covers(scope["path"], method)), None)
        basic_auth = basic is not None and authorization[:6].lower() == "basic "
        if bearer:
            if not scope["path"].startswith(TOKEN_PATH_PREFIX):
                return await token_refused("access tokens open /api/v1 only")(scope, receive, send)
            principal = await principal_from_bearer(bearer)
            if principal is None:
                return await token_refused("invalid or expired access token")(scope, receive, send)
        elif basic is not None and basic_auth:
            credentials = _basic_credentials(authorization)
            try:
                principal = await basic(*credentials, scope) if credentials else None
            except ServiceError as exc:  # too many attempts
                return await error_response(scope, exc.status, str(exc))(scope, receive, send)
            if principal is None:
                return await basic_challenge(scope)(scope, receive, send)
        elif cookies.get(SESSION_COOKIE) and not self_authenticated:
            principal = await principal_from_session_token(cookies[SESSION_COOKIE])
        if basic is not None and principal is None:
            return await basic_challenge(scope)(scope, receive, send)
        scope["principal"] = principal
        scope["auth_method"] = "bearer" if bearer else "basic" if basic_auth else ("session" if principal else None)
        i18n.set_language(
            (principal.locale if principal else None)
            or cookies.get(LANG_COOKIE)
            or i18n.negotiate(headers.get("accept-language"))
            or (principal.org_default_locale if principal else None)
            or i18n.DEFAULT_LANGUAGE
        )

        if _names_a_nul(scope):
            message = i18n.gettext("An address may not contain a NUL character.")
            return await error_response(scope, 400, message)(scope, receive, send)

        csrf_cookie = cookies.get(CSRF_COOKIE, "")
        new_csrf_cookie = None
        if len(csrf_cookie) < 32:
            csrf_cookie = new_csrf_cookie = new_token()
        scope["csrf_token"] = sign(self.secret, "csrf:" + csrf_cookie)

        if scope["type"] == "http":
            streamed = _streamed_limit(scope["path"])
            limit = streamed or max(self.settings.max_body_bytes, BODY_LIMITS.get(scope["path"], 0))
            length = headers.get("content-length")
            if length is not None and not length.isdigit():
                return await error_response(scope, 400, "invalid Content-Length")(scope, receive, send)
            if length is not None and int(length) > limit:
                if int(length) <= DRAIN_LIMIT:
                    await drain(receive)  # so the client reads our answer instead of a reset
                return await body_too_large(scope)(scope, receive, send)
            if scope["method"] not in SAFE_METHODS:
                try:
                    if streamed:
                        body, receive = await read_head(receive, limit)
                    else:
                        body = await read_body(receive, limit)
                        receive = replay(body)
                except BodyTooLarge:
                    return await body_too_large(scope)(scope, receive, send)
                exempt = bearer or self_authenticated or basic_auth
                if not exempt and not self._csrf_ok(scope, headers, body, new_csrf_cookie):
                    refused = error_response(scope, 403, "CSRF token missing or invalid; reload the page")
                    if streamed:  # the rest of the body is still coming: read it away, or close
                        if length is not None and int(length) <= DRAIN_LIMIT:
                            await drain(receive)
                        else:
                            refused.headers["connection"] = "close"
                    return await refused(scope, receive, send)

        gate = self._mfa_gate(scope, principal)
        if gate is not None:
            return await gate(scope, receive, send)

        if new_csrf_cookie is None or scope["type"] != "http":  # a WebSocket's frames pass untouched
            return await self.app(scope, receive, send)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{CSRF_COOKIE}={new_csrf_cookie}; Path=/; HttpOnly; SameSite=Lax"
                MutableHeaders(scope=message).append("set-cookie", cookie + ("; Secure" if self.secure else ""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _csrf_ok(self, scope: Scope, headers: Headers, body: bytes, new_cookie: str | None) -> bool:
        if new_cookie is not None:
            return False  # no cookie yet: nothing to compare with
        expected = scope["csrf_token"]
        supplied = headers.get(CSRF_HEADER, "")
        if not supplied:
            ctype = headers.get("content-type", "")
            if ctype.startswith("application/x-www-form-urlencoded"):
                supplied = parse_qs(body.decode("latin-1")).get(CSRF_FIELD, [""])[0]
            elif ctype.startswith("multipart/form-data"):
                supplied = _multipart_field(body, CSRF_FIELD)
        return bool(supplied) and same(supplied, expected)

    def _mfa_gate(self, scope: Scope, principal: Principal | None) -> Response | None:
        if principal is None or principal.session_id is None:
            return None
        path = scope["path"]
        if principal.mfa_pending and not path.startswith(MFA_PENDING_PATHS):
            target = "/login/mfa"
        elif principal.needs_mfa_setup and not path.startswith(MFA_SETUP_PATHS):
            target = "/account/mfa"
        else:
            return None
        if wants_json(scope) or scope["type"] == "websocket":
            return JSONResponse({"error": "second factor required", "status": 401}, status_code=401)
        return RedirectResponse(target, status_code=303)


def _multipart_field(body: bytes, name: str) -> str:
    """The value of a small text field in a buffered multipart body (the CSRF token)."""
    marker = f'name="{name}"'.encode()
    at = body.find(marker)
    if at < 0:
        return ""
    start = body.find(b"\r\n\r\n", at)
    end = body.find(b"\r\n", start + 4)
    if start < 0 or end < 0:
        return ""
    return body[start + 4 : end].decode("latin-1").strip()


def principal_of(request: Request) -> Principal | None:
    return request.scope.get("principal")


def session_principal(request: Request) -> Principal | None:
    """The caller signed in with the session cookie. Pages accept nothing else: the
    middleware lets no access token reach them, and this says so once more for every page."""
    principal = principal_of(request)
    return principal if principal is not None and principal.session_id is not None else None


Endpoint = Callable[..., Awaitable[Response]]


def login_required(endpoint: Endpoint) -> Endpoint:
    """Pages only: redirect a visitor without a session to the login form, then back."""

    @wraps(endpoint)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Response:
        if session_principal(request) is None:
            return _to_login(request)
        return await endpoint(request, *args, **kwargs)

    return wrapper


def admin_required(endpoint: Endpoint) -> Endpoint:
    """Pages of the organisation's administrators: the login form without a session, 403
    to anyone else."""

    @wraps(endpoint)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Response:
        principal = session_principal(request)
        if principal is None:
            return _to_login(request)
        if not principal.is_admin:
            raise HTTPException(403, i18n.gettext("This page is reserved for the organisation's administrators."))
        return await endpoint(request, *args, **kwargs)

    return wrapper


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: no scheme, no host, no ``//evil`` or ``/\\evil`` tricks."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\r\n\t\\"):
        return default
    return target
