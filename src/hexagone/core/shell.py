"""The shell every page shares: navigation of the subscribed modules, unified search,
the notification centre, the language switch, per-organisation branding, health checks —
and the gate that makes an unsubscribed module invisible (404)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hexagone.core import failures, i18n, notifications, pubsub, templating
from hexagone.core.auth import Principal
from hexagone.core.db import get_engine, org_session
from hexagone.core.modules import AddressSuggestion, HomePanel, NavItem, Registry, SearchHit, under
from hexagone.core.web import LANG_COOKIE, error_response, login_required, principal_of, safe_next

TEMPLATES_DIR = Path(__file__).parent / "templates"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND = "#000091"
log = logging.getLogger("hexagone.shell")

_registry: Registry | None = None


def install(registry: Registry) -> None:
    global _registry
    _registry = registry
    templating.add_context_processor(_shell_context)


def registry() -> Registry:
    assert _registry is not None
    return _registry


def _navigation(principal: Principal | None) -> tuple[list[NavItem], list[NavItem]]:
    """The entries of the modules ``principal``'s organisation subscribes to that they
    may see, and those of the admin console."""
    nav: list[NavItem] = []
    admin_nav: list[NavItem] = []
    if principal is not None and not principal.mfa_pending:
        for module in registry().visible_to(principal.org_modules):
            nav.extend(item for item in module.nav if item.guests or not principal.is_guest)
            admin_nav.extend(module.admin_nav)
    return nav, admin_nav


def _shell_context(request: Request) -> dict[str, Any]:
    principal = principal_of(request)
    nav, admin_nav = _navigation(principal)
    in_admin = request.url.path.startswith("/admin") or any(request.url.path.startswith(i.path) for i in admin_nav)
    return {
        "principal": principal,
        "nav": nav,
        "admin_nav": admin_nav,
        "in_admin": in_admin,
        "csrf_token": request.scope.get("csrf_token", ""),
        "current_path": request.url.path,
    }


class SubscriptionGate:
    """``/<module>/…`` and ``/api/v1/<module>/…`` answer 404 to an organisation that does
    not subscribe to ``<module>``, and ``/<module>/…`` to anonymous callers — except a
    module's public routes, which anyone may reach. The extra prefixes a module declares
    (``Module.prefixes``: ``/dav/files``) are guarded as its ``/<module>/``. An anonymous
    API call goes on to the API's guard, which answers 401 as on every other API path: a
    client without its token is told to authenticate, and learns nothing of any
    organisation."""

    def __init__(self, app: ASGIApp, registry: Registry):
        self.app = app
        subscribable = registry.subscribable
        self.names = {m.name for m in subscribable}
        self.prefixes = [(prefix, m.name) for m in subscribable for prefix in m.prefixes]
        self.public = {path for m in registry for r in m.public_routes if (path := getattr(r, "path", None))}

    def _module(self, path: str) -> str:
        """The subscribable module whose URLs ``path`` (without ``/api/v1``) is among, or ''."""
        name = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        if name in self.names:
            return name
        return next((owner for prefix, owner in self.prefixes if under(path, prefix)), "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.names:
            path: str = scope["path"]
            in_api = path.startswith("/api/v1/")
            if in_api:
                path = path[7:]
            name = self._module(path)
            if name and scope["path"] not in self.public:
                principal = scope.get("principal")
                if (principal is None and not in_api) or (principal is not None and name not in principal.org_modules):
                    return await error_response(scope, 404, "not found")(scope, receive, send)
        await self.app(scope, receive, send)


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(_request: Request) -> Response:
    """Up when the database answers, and the pub/sub server too when there is one."""

    async def database_ready() -> None:
        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))

    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": database_ready}
    bus = pubsub.get_bus()
    if bus.scheme != "memory":
        checks["pubsub"] = bus.ping
    report: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(2):
                await check()
            report[name] = "up"
        except Exception:  # readiness says "not ready", it does not crash
            report[name] = "down"
    ready = all(state == "up" for state in report.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", **report}, status_code=200 if ready else 503)


async def set_language(request: Request) -> Response:
    form = await request.form()
    lang = str(form.get("lang", ""))
    if lang not in i18n.LANGUAGES:
        return error_response(request.scope, 400, i18n.gettext("Unknown language."))
    response = RedirectResponse(safe_next(str(form.get("next", "")), "/"), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    principal = principal_of(request)
    if principal is not None:
        for handler in _language_handlers:
            await handler(principal, lang)
    return response


_language_handlers: list[Any] = []


def on_language_change(handler: Any) -> None:
    """Identity stores the choice on the user's profile through this hook."""
    _language_handlers.append(handler)


async def branding_css(request: Request) -> Response:
    """The organisation's colours as CSS custom properties: a stylesheet, not inline
    styles, so the Content-Security-Policy stays ``style-src 'self'``."""
    principal = principal_of(request)
    colour = principal.org_brand_primary if principal else DEFAULT_BRAND
    if not HEX_COLOUR.match(colour or ""):
        colour = DEFAULT_BRAND
    css = f":root {{ --brand: {colour}; }}\n"
    return Response(css, media_type="text/css", headers={"cache-control": "private, max-age=60"})


async def home_panels(principal: Principal) -> list[HomePanel]:
    """The panels the subscribed modules show on the principal's home page, in module
    order. A module whose panel fails is left out (logged): the home page still opens."""
    if principal.mfa_pending:
        return []
    providers = registry().home_providers(principal.org_modules)
    results = await asyncio.gather(*(p(principal) for p in providers), return_exceptions=True)
    panels = []
    for result in results:
        if isinstance(result, BaseException):
            failures.log_failure(log, "home panel", result)
        elif result is not None:
            panels.append(result)
    return panels


@login_required
async def search(request: Request) -> Response:
    principal = principal_of(request)
    assert principal is not None
    query = request.query_params.get("q", "").strip()[:200]
    hits: list[SearchHit] = []
    if query:
        providers = registry().search_providers(principal.org_modules)
        results = await asyncio.gather(*(p(principal, query, 20) for p in providers))
        hits = [hit for group in results for hit in group]
    template = "core/search_results.html" if request.headers.get("hx-request") else "core/search.html"
    return templating.render(request, template, {"query": query, "hits": hits})


async def suggest_addresses(
    principal: Principal, query: str, limit: int, first: Sequence[AddressSuggestion] = ()
) -> list[AddressSuggestion]:
    """What the subscribed modules' address suggesters offer for ``query`` (the module
    completing recipients passes its own finds as ``first``), one per address, in that
    order: the caller's own finds, then each module's, at most ``limit``."""
    providers = registry().address_suggesters(principal.org_modules)
    results = await asyncio.gather(*(p(principal, query, limit) for p in providers))
    seen: set[str] = set()
    found: list[AddressSuggestion] = []
    for hit in [*first, *(hit for group in results for hit in group)]:
        key = hit.address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            found.append(hit)
    return found[:limit]


@login_required
async def notification_centre(request: Request) -> Response:
    principal = principal_of(request)
    assert principal is not None
    async with org_session(principal.org_id) as db:
        if request.method == "POST":
            await notifications.mark_all_read(db, principal.user_id)
            await db.commit()
            return RedirectResponse("/notifications", status_code=303)
        items = await notifications.latest(db, principal.user_id)
    return templating.render(request, "core/notifications.html", {"items": items})


@login_required
async def badges(request: Request) -> Response:
    """Every count of the shell in one fragment, each put in its place by htmx
    (out-of-band swaps): each navigation entry's badge, and unread notifications (counted
    last: a module's counter may post one, as mail's does for new mail). Pages ask once
    when they load and again every minute."""
    principal = principal_of(request)
    assert principal is not None
    nav, _admin_nav = _navigation(principal)
    counts = [(item.badge_id, await item.badge(principal)) for item in nav if item.badge is not None]
    async with org_session(principal.org_id) as db:
        unread = await notifications.unread_count(db, principal.user_id)
    return templating.render(
        request,
        "core/badges.html",
        {"notifications": unread, "counts": counts},
        headers={"cache-control": "private, no-store"},
    )


async def favicon(_request: Request) -> Response:
    """Browsers ask for /favicon.ico on responses that name no icon (plain text, JSON)."""
    return RedirectResponse(templating.static_url("favicon.svg"), status_code=301)


def routes() -> list[Route]:
    return [
        Route("/favicon.ico", favicon),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/lang", set_language, methods=["POST"]),
        Route("/branding.css", branding_css),
        Route("/search", search),
        Route("/notifications", notification_centre, methods=["GET", "POST"]),
        Route("/shell/badges", badges),
    ]
