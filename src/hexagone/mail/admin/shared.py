"""Mail admin: shared mailboxes (contact@, accueil@) and who may read, write in and send
as each of them."""

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
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, parse_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.mail.service import administration

PATH = "/mail/admin/shared"
ACCESS = ("read", "write")


async def _list(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        shared = await administration.list_shared(db, admin)
    values = {"address": "", "name": ""}
    if error is not None:
        form = await request.form()
        values = {name: str(form.get(name, ""))[:320] for name in values}
    return render(request, "mail/admin/shared.html", {"shared": shared, "values": values}, error)


async def _create(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    mailbox = await administration.create_shared(db, admin, field(form, "address", 320), field(form, "name", 200))
    return done(f"{PATH}/{mailbox.id}", "shared_created")


async def _detail(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        mailbox = await administration.get_shared(db, admin, request.path_params["mailbox_id"])
        members = await administration.members_of(db, mailbox)
    return render(request, "mail/admin/shared_detail.html", {"mailbox": mailbox, "members": members}, error)


@admin_required
async def shared_detail(request: Request) -> Response:
    return await _detail(request)


async def _set_member(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    mailbox = await administration.get_shared(db, admin, params["mailbox_id"])
    access = field(form, "access", 10)
    if access not in ACCESS:
        raise Invalid(_("Choose read, or read and write."))
    await administration.set_member(
        db,
        admin,
        mailbox,
        field(form, "email", 320),
        can_write=access == "write",
        can_send_as=field(form, "send_as", 10) == "on",
    )
    return done(f"{PATH}/{mailbox.id}", "member_set")


async def _remove_member(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    mailbox = await administration.get_shared(db, admin, params["mailbox_id"])
    await administration.remove_member(db, admin, mailbox, parse_uuid(field(form, "user_id", 64)))
    return done(f"{PATH}/{mailbox.id}", "member_removed")


ROUTES = [
    Route("/admin/shared", page_or_submit(admin_required, _create, _list), methods=["GET", "POST"]),
    Route("/admin/shared/{mailbox_id:uuid}", shared_detail),
    Route(
        "/admin/shared/{mailbox_id:uuid}/members", form_endpoint(admin_required, _set_member, _detail), methods=["POST"]
    ),
    Route(
        "/admin/shared/{mailbox_id:uuid}/members/remove",
        form_endpoint(admin_required, _remove_member, _detail),
        methods=["POST"],
    ),
]
