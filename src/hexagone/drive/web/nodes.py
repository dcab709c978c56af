"""A file's or folder's own page, the details panel of the drive: what it is, who holds
it checked out, its description, tags and custom fields, its versions (download,
restore), its shares (users, groups, spaces as reader, editor or manager), and the forms
to rename it, move or copy it (a folder picker one level at a time), check it out or in,
mark it as a favourite and put it in the trash. Each form posts to its own path and
comes back here (or to the folder) with a notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, parse_uuid, required_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required
from hexagone.drive import service
from hexagone.drive.api.downloads import send_file
from hexagone.drive.web.common import folder_url, node_url, render
from hexagone.identity.service import group_names, org_groups, people_by_ids, person_by_email

ROLES = ("reader", "editor", "manager")
CONFLICTS = ("error", "rename", "replace")


async def node_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    async with org_session(principal.org_id) as db:
        node = await service.node(db, principal, node_id)
        versions = await service.versions(db, principal, node_id) if not node.is_folder else []
        shares = await service.shares(db, principal, node_id) if node.abilities.get("share") else []
        people = await people_by_ids(
            db,
            {v.created_by for v in versions if v.created_by}
            | {s.user_id for s in shares if s.user_id}
            | ({node.lock.user_id} if node.lock and node.lock.user_id else set()),
        )
        drives_seen = {d.space_id: d.name for d in await service.drives(db, principal) if d.space_id}
        context = {
            "node": node,
            "crumbs": await service.path_of(db, principal, node_id),
            "versions": versions,
            "shares": shares,
            "people": {k: p.display_name or p.email for k, p in people.items()},
            "groups": await org_groups(db) if node.abilities.get("share") else [],
            "group_names": await group_names(db, {s.group_id for s in shares if s.group_id}),
            "spaces": drives_seen,
            "tags": await service.tags(db, principal, node_id),
            "fields": await service.node_fields(db, principal, node_id),
            "values": await service.field_values(db, principal, node_id),
            "favourite": node_id in {n.id for n in await service.favourites(db, principal)},
            "form": await _kept(request, error),
        }
        return await render(request, "drive/node.html", db, node.drive_id, context, error)


async def _kept(request: Request, error: ServiceError | None) -> dict[str, str]:
    """What the person typed, shown again after a refusal."""
    if error is None or request.method != "POST":
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@login_required
async def show(request: Request) -> Response:
    return await node_page(request)


async def rename(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    await service.rename(db, principal, node_id, field(form, "name", 1000))
    return pages.done(node_url(node_id), "drive_renamed", form)


async def trash(db: AsyncSession, principal: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    node = await service.trash(db, principal, parse_uuid(params["node_id"]))
    assert node.parent_id is not None  # a root cannot be trashed
    return pages.done(folder_url(node.parent_id), "drive_trashed")


async def checkout(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    if field(form, "release", 10):
        await service.checkin(db, principal, node_id)
        return pages.done(node_url(node_id), "drive_checked_in")
    await service.checkout(db, principal, node_id)
    return pages.done(node_url(node_id), "drive_checked_out")


async def favourite(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    await service.set_favourite(db, principal, node_id, field(form, "favourite", 10) == "1")
    return pages.done(node_url(node_id), "drive_favourite", form)


async def details(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    """Description, tags (one per line or comma-separated) and the drive's custom fields."""
    node_id = parse_uuid(params["node_id"])
    await service.set_description(db, principal, node_id, field(form, "description", 10_000))
    labels = [t.strip() for line in field(form, "tags", 5000).splitlines() for t in line.split(",")]
    await service.set_tags(db, principal, node_id, [t for t in labels if t])
    defined = await service.node_fields(db, principal, node_id)
    if defined:
        await service.set_field_values(
            db, principal, node_id, {f.id: field(form, f"field-{f.id}", 1000) for f in defined}
        )
    return pages.done(node_url(node_id), "drive_details_saved")


async def add_share(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    """Share with one grantee: a member by address, a group or a space chosen in a list."""
    node_id = parse_uuid(params["node_id"])
    await service.node(db, principal, node_id)  # someone who does not see it learns nothing more
    role = field(form, "role", 16)
    if role not in ROLES:
        raise Invalid(_("A share gives the role reader, editor or manager."))
    grantee = field(form, "grantee", 400).strip()
    kind, _sep, value = grantee.partition(":")
    if kind == "group":
        await service.share(db, principal, node_id, role, group_id=parse_uuid(value))
    elif kind == "space":
        await service.share(db, principal, node_id, role, space_id=parse_uuid(value))
    else:
        address = field(form, "email", 320).strip()
        person = await person_by_email(db, address) if address else None
        if person is None or person.org_id != principal.org_id:
            raise Invalid(_("Nobody of your organisation has this address."))
        await service.share(db, principal, node_id, role, user_id=person.id)
    return pages.done(node_url(node_id), "drive_shared")


async def remove_share(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    await service.unshare(db, principal, required_uuid(form, "share_id"))
    return pages.done(node_url(node_id), "drive_unshared")


async def restore_version(
    db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]
) -> Response:
    node_id = parse_uuid(params["node_id"])
    await service.restore_version(db, principal, node_id, required_uuid(form, "version_id"))
    return pages.done(node_url(node_id), "drive_version_restored")


@login_required
async def download_version(request: Request) -> Response:
    return await send_file(
        pages.me(request),
        parse_uuid(request.path_params["node_id"]),
        request.headers.get("range"),
        version_id=parse_uuid(request.path_params["version_id"]),
    )


async def place_page(request: Request, error: ServiceError | None = None) -> Response:
    """Move or copy, one folder level at a time: the folders of ``in`` (the node's own
    folder at first), each a link one level down, and the buttons to put it here."""
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    async with org_session(principal.org_id) as db:
        node = await service.node(db, principal, node_id)
        where = request.query_params.get("in")
        target_id = parse_uuid(where) if where else (node.parent_id or node.id)
        number = pages.page_number(request)
        listing = await service.list_folder(db, principal, target_id, offset=(number - 1) * 200, limit=200)
        context = {
            "node": node,
            "target": listing.folder,
            "folders": [e for e in listing.entries if e.is_folder and e.id != node.id],
            "crumbs": await service.path_of(db, principal, target_id),
            "pager": pages.pager(request, number, has_next=listing.has_more),
        }
        return await render(request, "drive/place.html", db, node.drive_id, context, error)


@login_required
async def choose_place(request: Request) -> Response:
    return await place_page(request)


async def place(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    target = required_uuid(form, "folder_id")
    on_conflict = field(form, "on_conflict", 16) or "error"
    if on_conflict not in CONFLICTS:
        raise Invalid(_("Unknown choice for a name already taken."))
    if field(form, "mode", 8) == "copy":
        await service.copy(db, principal, node_id, target, on_conflict=on_conflict)  # type: ignore[arg-type]
        return pages.done(folder_url(target), "drive_copied")
    await service.move(db, principal, node_id, target, on_conflict=on_conflict)  # type: ignore[arg-type]
    return pages.done(folder_url(target), "drive_moved")
