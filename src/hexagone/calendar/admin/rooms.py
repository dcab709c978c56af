"""Calendar admin: rooms and equipment, booked by inviting their address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.calendar.service import resources
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field
from hexagone.core.i18n import _
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import org_domains

PATH = "/calendar/admin"
FIELDS = ("name", "address", "kind", "capacity")


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        listed = await resources.listing(db)
        domains = await org_domains(db)
    values = dict.fromkeys(FIELDS, "")
    if error is not None:
        form = await request.form()
        values.update({name: str(form.get(name, ""))[:320] for name in values})
    context = {"resources": listed, "domains": domains, "values": values, "kinds": resources}
    return render(request, "calendar/admin/rooms.html", context, error)


def _capacity(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise Invalid(_("The capacity is a number of seats."))
    return int(text)


async def _create(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await resources.create(
        db,
        admin,
        name=field(form, "name", 200),
        address=field(form, "address", 320),
        kind=field(form, "kind", 16) or resources.ROOM,
        capacity=_capacity(field(form, "capacity", 8)),
    )
    return done(PATH, "resource_created")


async def _remove(db: AsyncSession, admin: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    await resources.remove(db, admin, params["resource_id"])
    return done(PATH, "resource_removed")


ROUTES = [
    Route("/admin", page_or_submit(admin_required, _create, _page), methods=["GET", "POST"]),
    Route("/admin/{resource_id:uuid}/remove", form_endpoint(admin_required, _remove, _page), methods=["POST"]),
]
