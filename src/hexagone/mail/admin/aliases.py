"""Mail admin: extra addresses — aliases of a person's or shared mailbox, and the
addresses of groups (distribution lists)."""

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
from hexagone.core.forms import field, parse_uuid
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import org_domains, org_groups
from hexagone.mail.service import administration

PATH = "/mail/admin/aliases"


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        aliases = await administration.list_aliases(db, admin)
        groups = await org_groups(db)
        domains = await org_domains(db)
    values = dict.fromkeys(("address", "target", "group_address"), "")
    if error is not None:
        form = await request.form()
        values.update({name: str(form.get(name, ""))[:320] for name in values})
    return render(
        request,
        "mail/admin/aliases.html",
        {"aliases": aliases, "groups": groups, "domains": domains, "values": values},
        error,
    )


async def _add(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await administration.add_alias(db, admin, field(form, "address", 320), field(form, "target", 320))
    return done(PATH, "alias_added")


async def _add_group(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await administration.add_group_address(
        db, admin, field(form, "group_address", 320), parse_uuid(field(form, "group_id", 64))
    )
    return done(PATH, "alias_added")


async def _remove(db: AsyncSession, admin: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    await administration.remove_alias(db, admin, params["alias_id"])
    return done(PATH, "alias_removed")


ROUTES = [
    Route("/admin/aliases", page_or_submit(admin_required, _add, _page), methods=["GET", "POST"]),
    Route("/admin/aliases/group", form_endpoint(admin_required, _add_group, _page), methods=["POST"]),
    Route("/admin/aliases/{alias_id:uuid}/remove", form_endpoint(admin_required, _remove, _page), methods=["POST"]),
]
