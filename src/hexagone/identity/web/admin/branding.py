"""Admin console: the organisation's name, brand colour (refused when white text on it
would be hard to read) and logo (PNG or JPEG, previewed, removable)."""

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
from hexagone.core.forms import field, kept_values, upload
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import orgs
from hexagone.identity.service.branding import MIN_CONTRAST, contrast_with_white


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        org = await orgs.get_org(db, admin.org_id)
    values = await kept_values(request, error, "name", "primary")
    if not values["name"] and not values["primary"]:
        values = {"name": org.name, "primary": org.brand_primary}
    return render(
        request,
        "identity/admin/branding.html",
        {
            "org": org,
            "values": values,
            "contrast": contrast_with_white(org.brand_primary),
            "min_contrast": MIN_CONTRAST,
        },
        error,
    )


async def _save(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await orgs.set_branding(
        db,
        admin,
        name=field(form, "name", 200),
        primary=field(form, "primary", 7).strip(),
        logo=await upload(form, "logo"),
    )
    return done("/admin/branding", "saved")


async def _remove_logo(db: AsyncSession, admin: Principal, _form: FormData, _params: Mapping[str, Any]) -> Response:
    await orgs.remove_logo(db, admin)
    return done("/admin/branding", "saved")


branding_page = page_or_submit(admin_required, _save, _page)


ROUTES = [
    Route("/admin/branding", branding_page, methods=["GET", "POST"]),
    Route("/admin/branding/logo/remove", form_endpoint(admin_required, _remove_logo, _page), methods=["POST"]),
]
