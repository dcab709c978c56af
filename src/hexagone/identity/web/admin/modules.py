"""Admin console: the applications (modules) the organisation subscribes to, à la carte.
An application left unticked disappears from everyone's navigation and its pages and API
answer 404 for the organisation, at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.pages import done, me, page_or_submit, render
from hexagone.core.shell import registry
from hexagone.core.web import admin_required
from hexagone.identity.service import orgs


def _available() -> list[str]:
    return [module.name for module in registry().subscribable]


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        org = await orgs.get_org(db, admin.org_id)
    return render(
        request,
        "identity/admin/modules.html",
        {"modules": registry().subscribable, "subscribed": set(org.modules)},
        error,
    )


async def _save(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    chosen = [value for value in form.getlist("module") if isinstance(value, str)]
    await orgs.set_modules(db, admin, chosen, _available())
    return done("/admin/modules", "saved")


modules_page = page_or_submit(admin_required, _save, _page)


ROUTES = [Route("/admin/modules", modules_page, methods=["GET", "POST"])]
