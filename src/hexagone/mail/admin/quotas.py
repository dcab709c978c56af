"""Mail admin: how full each mailbox is, and its quota."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field
from hexagone.core.pages import done, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.mail.service import administration

PATH = "/mail/admin/quotas"


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        rows = await administration.list_quotas(db, admin, get_settings().mail_default_quota_bytes)
    return render(request, "mail/admin/quotas.html", {"rows": rows, "mib": administration.MIB}, error)


async def _save(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await administration.set_quota(
        db, admin, field(form, "address", 320), administration.parse_quota_mib(field(form, "quota_mb", 20))
    )
    return done(PATH, "quota_saved")


ROUTES = [Route("/admin/quotas", page_or_submit(admin_required, _save, _page), methods=["GET", "POST"])]
