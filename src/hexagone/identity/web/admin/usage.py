"""Admin console: the overview (/admin) and the usage page, counted the way Hexagone
prices: active spaces and their storage; people counted, guests free."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.db import org_session
from hexagone.core.pages import me, render
from hexagone.core.web import admin_required
from hexagone.identity.service import usage


async def _usage(request: Request, template: str) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        counted = await usage.org_usage(db, admin)
    return render(request, template, {"usage": counted, "active_days": usage.ACTIVE_WINDOW.days})


@admin_required
async def overview(request: Request) -> Response:
    return await _usage(request, "identity/admin/index.html")


@admin_required
async def usage_page(request: Request) -> Response:
    return await _usage(request, "identity/admin/usage.html")


ROUTES = [
    Route("/admin", overview),
    Route("/admin/usage", usage_page),
]
