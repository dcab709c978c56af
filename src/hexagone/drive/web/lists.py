"""The drive's other pages: a drive's trash (restore, delete for good, empty), the
person's favourites, recent files and what others shared with them, and a space
drive's custom fields (defined by its managers)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field, parse_uuid, required_uuid
from hexagone.core.i18n import N_
from hexagone.core.web import login_required
from hexagone.drive import service
from hexagone.drive.web.common import folder_url, render


def _trash_url(drive_id: uuid.UUID) -> str:
    return f"/drive/drives/{drive_id}/trash"


async def trash_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    drive_id = parse_uuid(request.path_params["drive_id"])
    async with org_session(principal.org_id) as db:
        entries = await service.in_trash(db, principal, drive_id)
        return await render(
            request, "drive/trash.html", db, drive_id, {"entries": entries, "drive_id": drive_id}, error
        )


@login_required
async def trash(request: Request) -> Response:
    return await trash_page(request)


async def trash_action(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    """Restore or delete for good one node of the trash, or empty it all."""
    drive_id = parse_uuid(params["drive_id"])
    action = field(form, "action", 16)
    if action == "empty":
        await service.empty_trash(db, principal, drive_id)
        return pages.done(_trash_url(drive_id), "drive_emptied")
    node_id = required_uuid(form, "node_id")
    if action == "purge":
        await service.purge(db, principal, node_id)
        return pages.done(_trash_url(drive_id), "drive_purged")
    restored = await service.restore(db, principal, node_id)
    assert restored.parent_id is not None
    return pages.done(folder_url(restored.parent_id), "drive_restored")


LISTS = {
    "favourites": (N_("Favourites"), service.favourites, N_("Nothing in your favourites yet.")),
    "recent": (N_("Recent files"), service.recent, N_("No file opened lately.")),
    "shared": (N_("Shared with me"), service.shared_with_me, N_("Nothing is shared with you yet.")),
}


@login_required
async def listing(request: Request) -> Response:
    principal = pages.me(request)
    kind = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    title, read, empty = LISTS[kind]
    async with org_session(principal.org_id) as db:
        entries = await read(db, principal)
        context = {"entries": entries, "title": title, "empty": empty, "kind": kind}
        return await render(request, "drive/list.html", db, None, context)


def _fields_url(drive_id: uuid.UUID) -> str:
    return f"/drive/drives/{drive_id}/fields"


async def fields_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    drive_id = parse_uuid(request.path_params["drive_id"])
    async with org_session(principal.org_id) as db:
        defined = await service.fields(db, principal, drive_id)
        return await render(
            request, "drive/fields.html", db, drive_id, {"fields": defined, "drive_id": drive_id}, error
        )


@login_required
async def fields(request: Request) -> Response:
    return await fields_page(request)


async def fields_action(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    """Define a field (text, number, date, or choice among lines), or remove one."""
    drive_id = parse_uuid(params["drive_id"])
    if field(form, "action", 16) == "remove":
        await service.remove_field(db, principal, required_uuid(form, "field_id"))
        return pages.done(_fields_url(drive_id), "drive_field_removed")
    choices = [c.strip() for c in field(form, "choices", 20_000).splitlines() if c.strip()]
    await service.define_field(db, principal, drive_id, field(form, "label", 200), field(form, "kind", 16), choices)
    return pages.done(_fields_url(drive_id), "drive_field_defined")
