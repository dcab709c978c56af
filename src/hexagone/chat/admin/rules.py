"""Chat admin: the retention of messages (a number of days; empty: for ever) and the
keeping of edited and deleted texts for the audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.chat import service
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, me, page_or_submit, render
from hexagone.core.web import admin_required

PATH = "/chat/admin"


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        rules = await service.current_rules(db, admin.org_id)
    values = {
        "retention_days": "" if rules.retention_days is None else str(rules.retention_days),
        "keep_history": rules.keep_history,
    }
    if error is not None and request.method == "POST":
        form = await request.form()
        values = {
            "retention_days": field(form, "retention_days", 20),
            "keep_history": field(form, "keep_history", 10) == "1",
        }
    context = {"values": values, "max_days": service.MAX_RETENTION_DAYS}
    return render(request, "chat/admin/rules.html", context, error)


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise Invalid(_("Days messages are kept: type a whole number, or leave it empty to keep them for ever."))
    return int(text)


async def _save(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await service.change_rules(
        db,
        admin,
        retention_days=_days(field(form, "retention_days", 20)),
        keep_history=field(form, "keep_history", 10) == "1",
    )
    return done(PATH, "chat_rules_saved")


ROUTES = [Route("/admin", page_or_submit(admin_required, _save, _page), methods=["GET", "POST"])]
