"""The viewer's calendars: creating one with its colour, changing one's name, colour and
time zone, sharing it with members and groups, subscribing to an ICS feed (fetched by a
job: :mod:`..service.feeds`), importing an .ics into a calendar and exporting one as an
.ics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.calendar.models import Access, CollectionKind
from hexagone.calendar.service import agenda, calendar_files, collections
from hexagone.calendar.web import common
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, kept_values, parse_uuid, required_uuid, upload
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required
from hexagone.identity.service import org_groups

PATH = "/calendar/calendars"
ACCESSES = (Access.FREEBUSY, Access.READ, Access.WRITE, Access.DELEGATE)
MAX_ICS_BYTES = 10 * 1024 * 1024


async def _page(request: Request, error: ServiceError | None) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id, write=True) as db:
        viewer = await common.viewer(db, principal)
        shares = {
            c.id: await collections.shares_of(db, principal, c.id) for c in viewer.calendars if c.abilities.get("share")
        }
        groups = await org_groups(db) if shares else []
        await db.commit()
    typed = await kept_values(request, error, "name", "color", "url", "feed_name")
    zone_name = getattr(viewer.zone, "key", "Europe/Paris")
    return pages.render(
        request,
        "calendar/calendars.html",
        {
            "viewer": viewer,
            "shares": shares,
            "groups": groups,
            "accesses": ACCESSES,
            "typed": typed,
            "zones": list(dict.fromkeys([zone_name, *common.ZONES])),
            "imported": request.query_params.get("imported", ""),
        },
        error,
    )


async def _create(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await collections.create(
        db,
        principal,
        CollectionKind.CALENDAR,
        name=field(form, "name", 200),
        color=field(form, "color", 9) or "#3465a4",
    )
    return pages.done(PATH, "calendar_created")


async def _change(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    zone_name = field(form, "timezone", 64)
    agenda.zone(zone_name)
    await collections.change(
        db,
        principal,
        parse_uuid(params["calendar_id"]),
        name=field(form, "name", 200),
        color=field(form, "color", 9),
        timezone=zone_name,
    )
    return pages.done(PATH, "calendar_saved")


async def _subscribe(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await calendar_files.subscribe(
        db,
        principal,
        url=field(form, "url", 2000),
        name=field(form, "feed_name", 200),
        color=field(form, "color", 9) or "#3465a4",
    )
    return pages.done(PATH, "calendar_subscribed")


async def _import(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    data = await upload(form, "file", MAX_ICS_BYTES)
    if data is None:
        raise Invalid(_("Choose an .ics file to import."))
    result = await calendar_files.import_ics(db, principal, required_uuid(form, "calendar"), data)
    if result.refused and not (result.created or result.updated):
        raise Invalid(_("No event of the file could be imported: %(reason)s", reason=result.refused[0]))
    return pages.done(f"{PATH}?imported={result.created + result.updated}", "calendar_imported")


async def _share(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    calendar_id = parse_uuid(params["calendar_id"])
    access = field(form, "access", 16)
    if group_id := field(form, "group_id", 64):
        await collections.share(db, principal, calendar_id, group_id=parse_uuid(group_id), access=access)
    else:
        await collections.share_with_address(db, principal, calendar_id, field(form, "address", 320), access)
    return pages.done(PATH, "calendar_shared")


async def _unshare(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    user_id, group_id = field(form, "user_id", 64), field(form, "group_id", 64)
    await collections.unshare(
        db,
        principal,
        parse_uuid(params["calendar_id"]),
        user_id=parse_uuid(user_id) if user_id else None,
        group_id=parse_uuid(group_id) if group_id else None,
    )
    return pages.done(PATH, "calendar_unshared")


@login_required
async def export(request: Request) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        name, text = await calendar_files.export_ics(db, principal, parse_uuid(request.path_params["calendar_id"]))
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


ROUTES = [
    Route("/calendars", pages.page_or_submit(login_required, _create, _page), methods=["GET", "POST"]),
    Route("/calendars/subscribe", pages.form_endpoint(login_required, _subscribe, _page), methods=["POST"]),
    Route("/calendars/import", pages.form_endpoint(login_required, _import, _page), methods=["POST"]),
    Route("/calendars/{calendar_id:uuid}", pages.form_endpoint(login_required, _change, _page), methods=["POST"]),
    Route("/calendars/{calendar_id:uuid}/shares", pages.form_endpoint(login_required, _share, _page), methods=["POST"]),
    Route(
        "/calendars/{calendar_id:uuid}/shares/remove",
        pages.form_endpoint(login_required, _unshare, _page),
        methods=["POST"],
    ),
    Route("/calendars/{calendar_id:uuid}/export.ics", export),
]
