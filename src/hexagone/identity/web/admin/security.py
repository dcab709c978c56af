"""Admin console: the organisation's security policy — two-step verification required for
everyone or not — and its mail domains (members' addresses must be in one of them)."""

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
from hexagone.core.forms import field, kept_values
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import orgs


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        org = await orgs.get_org(db, admin.org_id)
    return render(
        request,
        "identity/admin/security.html",
        {"org": org, "values": await kept_values(request, error, "domain")},
        error,
    )


async def _save_policy(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await orgs.set_mfa_required(db, admin, field(form, "mfa_required", 1) == "1")
    return done("/admin/security", "saved")


async def _add_domain(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await orgs.add_domain(db, admin, field(form, "domain", 253))
    return done("/admin/security", "added")


security_page = page_or_submit(admin_required, _save_policy, _page)


ROUTES = [
    Route("/admin/security", security_page, methods=["GET", "POST"]),
    Route("/admin/security/domains", form_endpoint(admin_required, _add_domain, _page), methods=["POST"]),
]
