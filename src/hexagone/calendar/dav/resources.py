"""GET, HEAD, PUT and DELETE of resources, and DELETE of collections (RFC 4918 9.4,
9.6, 9.7; RFC 4791 5.3.2 and 5.3.4; RFC 6352 6.3.2; RFC 6638 3.2.10 and 8): ETags,
If-Match and If-None-Match, Schedule-Tag and If-Schedule-Tag-Match, content types, and
the CalDAV/CardDAV preconditions of a write."""

from __future__ import annotations

from starlette.responses import Response

from hexagone.calendar.dav import props
from hexagone.calendar.dav.context import Context
from hexagone.calendar.dav.namespaces import CALDAV, CARDDAV
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, objects, scheduling
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, href, tag
from hexagone.core.i18n import _

_TYPES: dict[str, tuple[str, ...]] = {
    CollectionKind.CALENDAR: ("text/calendar",),
    CollectionKind.ADDRESS_BOOK: ("text/vcard", "text/x-vcard"),
}


def etag_header(etag: str) -> str:
    return f'"{etag}"'


def _etags(value: str) -> list[str]:
    """The entity tags of an If-Match / If-None-Match header (weak ones compared as strong)."""
    return [t.strip().removeprefix("W/").strip('"') for t in value.split(",") if t.strip()]


def _if_schedule_tag(ctx: Context) -> str | None:
    """The schedule tag of If-Schedule-Tag-Match (RFC 6638 8.3: one entity tag), or None
    without the header."""
    value = ctx.header("if-schedule-tag-match")
    if not value.strip():
        return None
    return (_etags(value) or [""])[0]


def _tag_headers(etag: str | None, schedule_tag: str) -> dict[str, str]:
    """ETag (when given) and Schedule-Tag (RFC 6638 8.2: a scheduling object resource only)."""
    headers = {"etag": etag_header(etag)} if etag is not None else {}
    if schedule_tag:
        headers["schedule-tag"] = etag_header(schedule_tag)
    return headers


async def get(ctx: Context, *, head: bool = False) -> Response:
    target = ctx.target
    if target.kind != "object":
        raise DavError(405, _("This is a collection: use PROPFIND or REPORT."))
    assert target.reach is not None
    ctx.require("view")
    stored = await objects.get(ctx.db, target.reach, target.name)
    headers = _tag_headers(stored.etag, stored.schedule_tag)
    if if_none := ctx.header("if-none-match"):
        tags = _etags(if_none)
        if "*" in tags or stored.etag in tags:
            return Response(status_code=304, headers=headers)
    body = b"" if head else stored.data.encode()
    response = Response(body, media_type=props.content_type(stored), headers=headers)
    if head:
        response.headers["content-length"] = str(stored.size)
    return response


async def put(ctx: Context) -> Response:
    target = ctx.target
    if target.kind != "object":
        raise DavError(405, _("A calendar or address book is created with MKCALENDAR or MKCOL."))
    reach = ctx.require("write")
    kind = reach.collection.kind
    calendar = kind == CollectionKind.CALENDAR
    media = ctx.header("content-type").split(";")[0].strip().lower()
    if media and not media.startswith(_TYPES[kind]):
        condition = tag(CALDAV, "supported-calendar-data") if calendar else tag(CARDDAV, "supported-address-data")
        raise DavError(403, _("This collection stores {kind} only.").format(kind=_TYPES[kind][0]), condition)
    try:
        data = ctx.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DavError(403, _("The resource is not UTF-8 text."), _valid_data(calendar)) from exc
    if_match = ctx.header("if-match")
    if_none = ctx.header("if-none-match")
    create_only = if_none.strip() == "*"
    # Creating only: there is nothing before (a resource there makes the write fail).
    before = [] if create_only else await objects.many(ctx.db, reach, [target.name])
    try:
        stored = await scheduling.store(
            ctx.db,
            ctx.principal,
            reach,
            target.name,
            data,
            before=before[0].data if before else None,
            if_match=(_etags(if_match) or [""])[0] if if_match else None,
            if_none_match=create_only,
            if_schedule_tag=_if_schedule_tag(ctx),
        )
    except objects.UidConflict as exc:
        path = target.path.rsplit("/", 1)[0] + "/" + exc.name
        condition = tag(CALDAV, "no-uid-conflict") if calendar else tag(CARDDAV, "no-uid-conflict")
        raise DavError(403, str(exc), condition, href(path)) from exc
    except objects.Refused as exc:
        namespace = CALDAV if calendar else CARDDAV
        raise DavError(403, str(exc), tag(namespace, exc.condition)) from exc
    # Scheduling may have changed what was stored (a room's answer written into the
    # organiser's event, answers kept under If-Schedule-Tag-Match): then no ETag, so the
    # client fetches it (RFC 4791 5.3.4). The Schedule-Tag is the stored one, which such
    # a change keeps.
    now = await objects.current_tags(ctx.db, reach, target.name)
    await ctx.db.commit()
    etag, schedule_tag = now if now is not None else (None, "")
    as_sent = etag == stored.etag == objects.etag_of(data)
    headers = _tag_headers(stored.etag if as_sent else None, schedule_tag)
    return Response(status_code=204 if before else 201, headers=headers)


def _valid_data(calendar: bool) -> str:
    return tag(CALDAV, "valid-calendar-data") if calendar else tag(CARDDAV, "valid-address-data")


async def delete(ctx: Context) -> Response:
    target = ctx.target
    if target.kind == "collection":
        assert target.reach is not None
        ctx.require("manage")
        await collections.remove(ctx.db, ctx.principal, target.reach.collection.id)
        await ctx.db.commit()
        return Response(status_code=204)
    if target.kind != "object":
        raise DavError(403, _("This cannot be deleted."), tag(DAV, "need-privileges"))
    reach = ctx.require("write")
    if_match = ctx.header("if-match")
    before = await objects.many(ctx.db, reach, [target.name])
    if not before:
        raise DavError(404, _("No such resource."))
    await scheduling.discard(
        ctx.db,
        ctx.principal,
        reach,
        target.name,
        before=before[0].data,
        if_match=(_etags(if_match) or [""])[0] if if_match else None,
        if_schedule_tag=_if_schedule_tag(ctx),
        reply=ctx.header("schedule-reply").strip().upper() != "F",  # RFC 6638 8.1
    )
    await ctx.db.commit()
    return Response(status_code=204)
