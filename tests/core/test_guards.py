"""Every guard against every kind of caller: the principal-kind × guard matrix.

The routes are read from the application itself (pages from the Starlette router, the
JSON API from FastAPI's), and each route's guard from its endpoint: ``login_required``,
``admin_required``, or none (a public page) for pages; ``current_principal``,
``admin_principal`` or none for the API. A new route is therefore covered as soon as it
exists, by the expectations of its guard in the tables below.

Each kind of caller gets its own organisation (with every module) and sends one request
to every route, path parameters filled with ids that exist nowhere: what is checked is
whether the guard lets the caller through, not what the page then does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from starlette.routing import Mount, Route

from hexagone.app import create_app, load_registry
from hexagone.core import api as core_api
from hexagone.core.auth import SESSION_COOKIE, open_session
from hexagone.core.db import system_session, utcnow
from hexagone.core.modules import under
from hexagone.core.security import new_token, token_digest
from hexagone.core.web import (
    BASIC_AUTH_AREAS,
    MFA_PENDING_PATHS,
    MFA_SETUP_PATHS,
    SELF_AUTHENTICATED_PATHS,
    admin_required,
    login_required,
    wants_json,
)
from hexagone.identity.models import OrgRole, User
from hexagone.identity.oidc.models import OidcToken
from tests.factories import TestOrg, TestUser, csrf_token, make_org, make_user
from tests.oidc.factories_oidc import make_app


class Kind(Enum):
    ANONYMOUS = "anonymous"
    USER = "session of a user"
    ADMIN = "session of an admin"
    GUEST = "session of a guest"
    MFA_PENDING = "session owing its second factor"
    MFA_SETUP = "session owing its MFA set-up"
    TOKEN_USER = "api token of a user"
    TOKEN_ADMIN = "api token of an admin"
    TOKEN_INVALID = "invalid token"


class Outcome(Enum):
    PASS = "let through"  # whatever the page then answers, short of a refusal or a 5xx
    ADMITTED = "let through, the page may refuse"  # 403 or 404 by the page's own rules (a guest has no mailbox)
    LOGIN = "sent to the login form"
    FORBIDDEN = "403"
    UNAUTHENTICATED = "401 JSON"  # the API's answer to a caller it does not know
    TOKEN_REFUSED = "401 JSON, tokens open /api/v1 only"
    TOKEN_INVALID = "401 JSON, invalid token"
    ANY = "anything but a 5xx"  # a public route
    SECOND_FACTOR = "sent to /login/mfa"  # the MFA gate, before any guard
    MFA_SETUP = "sent to /account/mfa"  # the MFA gate, before any guard
    NOT_FOUND = "404"  # the subscription gate, before any guard
    BASIC_CHALLENGE = "401 asking for Basic credentials"  # a protocol's area (WebDAV), before the gate


API_PREFIX = "/api/v1"
TOKEN_KINDS = (Kind.TOKEN_USER, Kind.TOKEN_ADMIN, Kind.TOKEN_INVALID)
P, L, F, U, A = Outcome.PASS, Outcome.LOGIN, Outcome.FORBIDDEN, Outcome.UNAUTHENTICATED, Outcome.ANY

# What each guard answers to each kind of caller, with a complete second factor. The
# MFA gate (a session owing its second factor or its set-up, outside the paths it may
# reach) and the subscription gate (anonymous callers under a module's prefix) answer
# before any guard: see ``expected``.
PAGE_GUARDS: dict[str, dict[Kind, Outcome]] = {
    "login_required": {
        Kind.ANONYMOUS: L,
        Kind.USER: P,
        Kind.ADMIN: P,
        Kind.GUEST: Outcome.ADMITTED,
        **dict.fromkeys(TOKEN_KINDS, Outcome.TOKEN_REFUSED),
    },
    "admin_required": {
        Kind.ANONYMOUS: L,
        Kind.USER: F,
        Kind.ADMIN: P,
        Kind.GUEST: F,
        **dict.fromkeys(TOKEN_KINDS, Outcome.TOKEN_REFUSED),
    },
    "public": {
        Kind.ANONYMOUS: A,
        Kind.USER: A,
        Kind.ADMIN: A,
        Kind.GUEST: A,
        **dict.fromkeys(TOKEN_KINDS, Outcome.TOKEN_REFUSED),
    },
}
API_GUARDS: dict[str, dict[Kind, Outcome]] = {
    "current_principal": {
        Kind.ANONYMOUS: U,
        Kind.USER: P,
        Kind.ADMIN: P,
        Kind.GUEST: Outcome.ADMITTED,
        Kind.TOKEN_USER: P,
        Kind.TOKEN_ADMIN: P,
        Kind.TOKEN_INVALID: Outcome.TOKEN_INVALID,
    },
    "admin_principal": {
        Kind.ANONYMOUS: U,
        Kind.USER: F,
        Kind.ADMIN: P,
        Kind.GUEST: F,
        Kind.TOKEN_USER: F,
        Kind.TOKEN_ADMIN: P,
        Kind.TOKEN_INVALID: Outcome.TOKEN_INVALID,
    },
    "public": {
        Kind.ANONYMOUS: A,
        Kind.USER: A,
        Kind.ADMIN: A,
        Kind.GUEST: A,
        Kind.TOKEN_USER: A,
        Kind.TOKEN_ADMIN: A,
        Kind.TOKEN_INVALID: Outcome.TOKEN_INVALID,
    },
}


@dataclass(frozen=True)
class Target:
    path: str  # with its parameters filled in
    method: str
    guard: str
    api: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.guard})"


def _guard_codes() -> dict[object, str]:
    """The code of each page decorator's wrapper: a guarded endpoint runs that code."""

    async def probe(*_args: Any) -> Any:
        return None

    return {guard(probe).__code__: guard.__name__ for guard in (login_required, admin_required)}


def _page_guard(endpoint: Callable[..., Any]) -> str:
    return _guard_codes().get(getattr(endpoint, "__code__", None), "public")


def _api_guard(dependant: Dependant) -> str:
    calls = set(_calls(dependant))
    for guard in (core_api.admin_principal, core_api.current_principal):
        if guard in calls:
            return guard.__name__
    return "public"


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _fill(path: str) -> str:
    """Path parameters filled with values that name nothing."""
    parts = []
    for piece in path.split("{"):
        if "}" not in piece:
            parts.append(piece)
            continue
        parameter, rest = piece.split("}", 1)
        kind = parameter.partition(":")[2]
        parts.append({"uuid": str(uuid.uuid4()), "int": "0"}.get(kind, "x") + rest)
    return "".join(parts)


def _method(methods: set[str] | None) -> str:
    methods = methods or {"GET"}
    return "GET" if "GET" in methods else (sorted(methods - {"HEAD"}) or ["HEAD"])[0]


def _walk(routes: list[Any], prefix: str = "") -> Iterator[Target]:
    for route in routes:
        if isinstance(route, Mount) and prefix + route.path == API_PREFIX:
            for context in iter_route_contexts(route.app.routes):
                api_route = context.route
                guard = _api_guard(api_route.dependant) if isinstance(api_route, APIRoute) else "public"
                yield Target(
                    _fill(prefix + route.path + context.path), _method(set(context.methods or ())), guard, True
                )
        elif isinstance(route, Mount) and route.path != "/static":
            yield from _walk(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield Target(_fill(prefix + route.path), _method(route.methods), _page_guard(route.endpoint), False)


TARGETS = sorted(_walk(create_app().routes), key=lambda t: (t.method != "GET", t.path))


def _module_names() -> set[str]:
    return {module.name for module in load_registry().subscribable}


def _under_a_module_prefix(path: str) -> bool:
    """Among the extra prefixes a module declares (``Module.prefixes``), gated as its own."""
    return any(under(path, prefix) for module in load_registry().subscribable for prefix in module.prefixes)


def _public_module_paths() -> set[str]:
    return {
        path for module in load_registry() for route in module.public_routes if (path := getattr(route, "path", None))
    }


def expected(target: Target, kind: Kind) -> Outcome:
    """The outcome of the guard's table, unless a gate answers before it: the MFA gate
    for a session that owes its second factor or its set-up (a redirect, or 401 where
    the answer is JSON), the subscription gate for an anonymous caller under a
    module's pages."""
    path = target.path
    if path in SELF_AUTHENTICATED_PATHS:
        return A  # no cookie, no gate: the endpoint checks its caller by its own rules
    in_json = wants_json({"type": "http", "path": path, "headers": []})
    if kind is Kind.MFA_PENDING and not path.startswith(MFA_PENDING_PATHS):
        return U if in_json else Outcome.SECOND_FACTOR
    if kind is Kind.MFA_SETUP and not path.startswith(MFA_SETUP_PATHS):
        return U if in_json else Outcome.MFA_SETUP
    table = API_GUARDS if target.api else PAGE_GUARDS
    outcome = table[target.guard].get(kind, table[target.guard][Kind.USER])  # a session past its gate
    module = path.removeprefix(API_PREFIX).split("/")[1]
    # The API's guard answers anonymous calls itself (401), under a module's prefix too.
    in_module = module in _module_names() or _under_a_module_prefix(path)
    basic_area = any(area.covers(path, target.method) for area in BASIC_AUTH_AREAS)
    if kind is Kind.ANONYMOUS and basic_area:
        return Outcome.BASIC_CHALLENGE  # its clients sign in with every request: no gate asks first
    if kind is Kind.ANONYMOUS and not target.api and in_module and path not in _public_module_paths():
        return Outcome.NOT_FOUND
    return outcome


def check(response: httpx.Response, outcome: Outcome) -> bool:
    status, location = response.status_code, response.headers.get("location", "")
    if status >= 500:
        return False
    match outcome:
        case Outcome.SECOND_FACTOR:
            return status == 303 and location == "/login/mfa"
        case Outcome.MFA_SETUP:
            return status == 303 and location == "/account/mfa"
        case Outcome.NOT_FOUND:
            return status == 404
        case Outcome.BASIC_CHALLENGE:
            return status == 401 and response.headers.get("www-authenticate", "").startswith("Basic ")
        case Outcome.LOGIN:
            return status == 303 and location.startswith("/login?next=")
        case Outcome.FORBIDDEN:
            return status == 403
        case Outcome.UNAUTHENTICATED:
            return status == 401 and _error(response) != ""
        case Outcome.TOKEN_REFUSED:
            return status == 401 and _error(response) in (None, "access tokens open /api/v1 only")
        case Outcome.TOKEN_INVALID:
            return status == 401 and _error(response) in (None, "invalid or expired access token")
        case Outcome.PASS:
            return status not in (401, 403) and not location.startswith(("/login", "/account/mfa"))
        case Outcome.ADMITTED:
            return status != 401 and not location.startswith(("/login", "/account/mfa"))
    return True  # Outcome.ANY


def _error(response: httpx.Response) -> str | None:
    """The API's error message ("" when there is none); None for a HEAD, whose answer
    has no body to carry one (its status is all that can be checked)."""
    if response.request.method == "HEAD":
        return None
    return str(response.json().get("error", ""))


@dataclass
class Caller:
    kind: Kind
    user: TestUser | None = None
    token: str | None = None

    async def credentials(self, client: httpx.AsyncClient) -> dict[str, str]:
        """The token's header, or a new session cookie for every request (a route may
        end the one it is given)."""
        if self.kind in TOKEN_KINDS:
            return {"authorization": f"Bearer {self.token or new_token()}"}
        if self.user is None:
            return {}
        async with system_session() as db:
            value, _row = await open_session(
                db,
                user_id=self.user.id,
                org_id=self.user.org_id,
                max_age=3600,
                mfa_verified=self.kind is not Kind.MFA_PENDING,
                ip="127.0.0.1",
                user_agent="test_guards",
            )
            await db.commit()
        client.cookies.set(SESSION_COOKIE, value)
        return {}


async def caller(kind: Kind) -> Caller:
    org = await make_org(modules=tuple(sorted(_module_names())), mfa_required=kind is Kind.MFA_SETUP)
    roles = {Kind.ADMIN: OrgRole.ADMIN, Kind.TOKEN_ADMIN: OrgRole.ADMIN, Kind.GUEST: OrgRole.GUEST}
    role = roles.get(kind, OrgRole.USER)
    if kind in (Kind.ANONYMOUS, Kind.TOKEN_INVALID):
        return Caller(kind)
    user = await make_user(org, role=role, mfa=kind is Kind.MFA_PENDING)
    if kind in (Kind.TOKEN_USER, Kind.TOKEN_ADMIN):
        return Caller(kind, user, await api_token(user))
    return Caller(kind, user)


async def api_token(user: TestUser) -> str:
    """An access token with the ``api`` scope, as the token endpoint issues it."""
    client = await make_app(TestOrg(id=user.org_id, name="", domain=""))
    token = new_token()
    async with system_session() as db:
        db.add(
            OidcToken(
                org_id=user.org_id,
                oidc_client_id=client.id,
                user_id=user.id,
                family_id=uuid.uuid4(),
                access_digest=token_digest(token),
                scope="openid api",
                created_at=utcnow(),
                access_expires_at=utcnow() + timedelta(hours=1),
            )
        )
        await db.commit()
    return token


def test_every_route_has_a_known_guard() -> None:
    assert {t.guard for t in TARGETS if t.api} <= set(API_GUARDS)
    assert {"login_required", "admin_required"} <= {t.guard for t in TARGETS if not t.api}
    assert {"current_principal", "admin_principal"} <= {t.guard for t in TARGETS if t.api}


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name.lower())
async def test_every_guard_answers_every_kind_of_caller(base_url: str, kind: Kind) -> None:
    who = await caller(kind)
    wrong = []
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as client:
        token = await csrf_token(client)  # also sets the CSRF cookie, for the unsafe requests
        for target in TARGETS:
            headers = await who.credentials(client)
            if target.method != "GET" and kind not in TOKEN_KINDS:
                headers["x-csrf-token"] = token
            response = await client.request(target.method, target.path, headers=headers)
            outcome = expected(target, kind)
            if not check(response, outcome):
                wrong.append(
                    f"{target}: expected {outcome}, got {response.status_code} "
                    f"{response.headers.get('location', '')} {response.text[:80]!r}"
                )
    assert not wrong, "\n".join(wrong)


async def test_every_unsafe_route_refuses_a_session_without_its_csrf_token(base_url: str) -> None:
    who = await caller(Kind.ADMIN)
    wrong = []
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as client:
        await csrf_token(client)  # the cookie is there; the request does not repeat it
        for target in TARGETS:
            if target.method in ("GET", "HEAD", "OPTIONS") or target.path in SELF_AUTHENTICATED_PATHS:
                continue  # safe methods change nothing: no CSRF token asked
            response = await client.request(target.method, target.path, headers=await who.credentials(client))
            if response.status_code != 403 or "CSRF" not in response.text:
                wrong.append(f"{target}: {response.status_code} {response.text[:80]!r}")
    assert not wrong, "\n".join(wrong)


async def test_api_token_of_an_admin_creates_no_account_through_the_admin_pages(base_url: str) -> None:
    """The attack of issue 13: an administrator's token posted to the admin console, no
    CSRF token. It is refused, and no account is made."""
    admin = await caller(Kind.TOKEN_ADMIN)
    email = f"{uuid.uuid4().hex[:10]}@elsewhere.test"
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/admin/users/new",
            headers=await admin.credentials(client),
            data={"email": email, "display_name": "Intruder", "role": "admin"},
        )
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    async with system_session() as db:
        assert await db.scalar(select(User.id).where(User.email == email)) is None
