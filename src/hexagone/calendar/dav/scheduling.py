"""CalDAV scheduling (RFC 6638): each user's scheduling inbox and outbox.

::

    /calendar/dav/schedule/<user id>/inbox/             the iTIP messages delivered to them
    /calendar/dav/schedule/<user id>/inbox/<name>.ics   one message (GET, DELETE)
    /calendar/dav/schedule/<user id>/outbox/            POST a VFREEBUSY REQUEST: free/busy

Scheduling itself is implicit (RFC 6638 3): a PUT or DELETE of an event with attendees
is scheduled by the service (:mod:`hexagone.calendar.service.scheduling`), which also
puts the messages into the recipients' inboxes (:mod:`hexagone.calendar.service.inbox`).
The inbox is read like a collection (PROPFIND, calendar-multiget, calendar-query,
sync-collection) and its messages deleted once shown; nothing is written into it by a
client. Only their owner reaches either box (the policy's ``Mailbox`` rule): anybody
else gets 404, as for a home.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element

import icalendar
from starlette.responses import Response

from hexagone.calendar import ical
from hexagone.calendar.dav import filters, props, targets
from hexagone.calendar.dav.context import Context, need_privileges
from hexagone.calendar.dav.namespaces import CALDAV, CS
from hexagone.calendar.dav.propfind import describe
from hexagone.calendar.dav.props import SYNC_TOKEN_PREFIX, Node
from hexagone.calendar.dav.reports import CALENDAR_DATA
from hexagone.calendar.dav.resources import etag_header
from hexagone.calendar.policy import INBOX, OUTBOX
from hexagone.calendar.service import freebusy, inbox, scheduling
from hexagone.calendar.service.objects import ObjectEntry, StoredObject
from hexagone.core import policy
from hexagone.core.dav import xml
from hexagone.core.dav.bodies import Wanted, wanted
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.headers import propfind_depth
from hexagone.core.dav.xml import DAV, href, tag, text
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _

SUCCESS = "2.0;Success"
UNKNOWN_USER = "3.7;Invalid calendar user"
_INBOX_REPORTS = (tag(CALDAV, "calendar-query"), tag(CALDAV, "calendar-multiget"), tag(DAV, "sync-collection"))


def owns(path: str) -> bool:
    """Whether the request path is in the scheduling part of the tree."""
    return path.startswith(targets.SCHEDULE) or path == targets.SCHEDULE[:-1]


def target(ctx: Context) -> tuple[str, str]:
    """The box the path names (INBOX or OUTBOX) and the message in it (""), or 404 when it
    is not the caller's own (the policy decides: nothing tells whether it exists)."""
    parts = [unquote(p) for p in ctx.request.url.path[len(targets.SCHEDULE) :].split("/") if p]
    if len(parts) not in (2, 3) or parts[1] not in (INBOX, OUTBOX) or (len(parts) == 3 and parts[1] != INBOX):
        raise DavError(404, _("Not found."))
    try:
        owner = uuid.UUID(parts[0])
    except ValueError:
        raise DavError(404, _("Not found.")) from None
    if not policy.abilities(ctx.principal, inbox.mailbox(ctx.principal, owner, parts[1])).get("view"):
        raise DavError(404, _("Not found."))
    return parts[1], parts[2] if len(parts) == 3 else ""


async def handle(ctx: Context) -> Response:
    kind, name = target(ctx)
    method = ctx.request.method
    if method == "PROPFIND":
        return await _propfind(ctx, kind, name)
    if method in ("GET", "HEAD") and name:
        return await _get(ctx, name, head=method == "HEAD")
    if method == "DELETE" and name:
        return await _delete(ctx, name)
    if method == "REPORT":
        if kind == INBOX and not name:
            return await _report(ctx)
        raise DavError(403, _("This report is not supported here."), tag(DAV, "supported-report"))
    if method == "POST" and kind == OUTBOX:
        return await _post(ctx)
    if method in ("GET", "HEAD", "POST"):
        raise DavError(405, _("This method does not apply here."))
    raise DavError(403, _("Scheduling messages are delivered by the server, not written."), need_privileges())


# --- properties ---------------------------------------------------------------------------------


async def _box_props(ctx: Context, kind: str) -> dict[str, str]:
    principal = ctx.principal
    me = href(targets.principal_path(principal))
    found = {
        tag(DAV, "current-user-principal"): me,
        tag(DAV, "owner"): me,
        tag(DAV, "supported-report-set"): "",
    }
    if kind == OUTBOX:
        return found | {
            tag(DAV, "resourcetype"): "<D:collection/><C:schedule-outbox/>",
            tag(DAV, "displayname"): text(_("Scheduling outbox")),
            tag(DAV, "current-user-privilege-set"): "<D:privilege><D:read/></D:privilege>"
            "<D:privilege><C:schedule-send/></D:privilege>",
        }
    seq = await inbox.sync_seq(ctx.db, principal)
    found |= {
        tag(DAV, "resourcetype"): "<D:collection/><C:schedule-inbox/>",
        tag(DAV, "displayname"): text(_("Scheduling inbox")),
        tag(DAV, "current-user-privilege-set"): "<D:privilege><D:read/></D:privilege>"
        "<D:privilege><D:unbind/></D:privilege><D:privilege><C:schedule-deliver/></D:privilege>",
        tag(DAV, "supported-report-set"): "".join(
            f"<D:supported-report><D:report>{xml.element(r)}</D:report></D:supported-report>" for r in _INBOX_REPORTS
        ),
        tag(DAV, "sync-token"): text(_token(ctx, seq)),
        tag(CS, "getctag"): str(seq),
        tag(CALDAV, "supported-calendar-component-set"): '<C:comp name="VEVENT"/><C:comp name="VTODO"/>',
    }
    default = await scheduling.default_calendar(ctx.db, principal.user_id)
    if default is not None:
        path = targets.collection_path(principal, default)
        found[tag(CALDAV, "schedule-default-calendar-URL")] = href(path)
    return found


def _box_response(ctx: Context, kind: str, available: dict[str, str], want: Wanted) -> str:
    path = targets.mailbox_path(ctx.principal, kind)
    if want.propname:
        return xml.response(path, xml.propstat(dict.fromkeys(available, ""), []))
    if want.allprop:
        chosen = {k: v for k, v in available.items() if k not in props.NOT_IN_ALLPROP or k in want.names}
        return xml.response(path, xml.propstat(chosen, []))
    return xml.response(
        path,
        xml.propstat(
            {n: available[n] for n in want.names if n in available}, [n for n in want.names if n not in available]
        ),
    )


def _node(ctx: Context, info: ObjectEntry) -> Node:
    return Node(targets.mailbox_path(ctx.principal, INBOX) + info.name, "object", obj=info)


async def _propfind(ctx: Context, kind: str, name: str) -> Response:
    depth = propfind_depth(ctx.request)
    want = wanted(xml.parse(ctx.body, tag(DAV, "propfind")))
    if name:
        return xml.multistatus([describe(ctx, _node(ctx, await inbox.get(ctx.db, ctx.principal, name)), want)])
    parts = [_box_response(ctx, kind, await _box_props(ctx, kind), want)]
    if depth == "1" and kind == INBOX:
        parts += [describe(ctx, _node(ctx, info), want) for info in await inbox.listing(ctx.db, ctx.principal)]
    return xml.multistatus(parts)


# --- messages ------------------------------------------------------------------------------------


async def _get(ctx: Context, name: str, *, head: bool) -> Response:
    stored = await inbox.get(ctx.db, ctx.principal, name)
    headers = {"etag": etag_header(stored.etag)}
    if stored.etag in [t.strip().removeprefix("W/").strip('"') for t in ctx.header("if-none-match").split(",")]:
        return Response(status_code=304, headers=headers)
    response = Response(b"" if head else stored.data.encode(), media_type=props.content_type(stored), headers=headers)
    if head:
        response.headers["content-length"] = str(stored.size)
    return response


async def _delete(ctx: Context, name: str) -> Response:
    if_match = ctx.header("if-match").strip().removeprefix("W/").strip('"') or None
    await inbox.remove(ctx.db, ctx.principal, name, if_match=if_match)
    await ctx.db.commit()
    return Response(status_code=204)


# --- reports -------------------------------------------------------------------------------------


def _token(ctx: Context, seq: int) -> str:
    return f"{SYNC_TOKEN_PREFIX}{ctx.principal.user_id.hex}:{seq}"


def _data(stored: StoredObject, want: Wanted) -> dict[str, str]:
    return {CALENDAR_DATA: xml.text(stored.data)} if CALENDAR_DATA in want.names else {}


async def _report(ctx: Context) -> Response:
    root = xml.parse(ctx.body)
    if root is None:
        raise DavError(400, _("REPORT needs a body."))
    if root.tag not in _INBOX_REPORTS:
        raise DavError(403, _("This report is not supported here."), tag(DAV, "supported-report"))
    want = wanted(root)
    if root.tag == tag(DAV, "sync-collection"):
        return await _sync(ctx, root, want)
    if root.tag == tag(CALDAV, "calendar-multiget"):
        base = targets.mailbox_path(ctx.principal, INBOX)
        asked = [unquote((e.text or "").strip()) for e in root.findall(tag(DAV, "href"))]
        names = [a[len(base) :] for a in asked if a.startswith(base) and "/" not in a[len(base) :]]
        found = await inbox.many(ctx.db, ctx.principal, names)
        present = {s.name for s in found}
        parts = [describe(ctx, _node(ctx, s), want, _data(s, want)) for s in found]
        parts += [xml.response(a, xml.status(404)) for a in asked if a[len(base) :] not in present]
        return xml.multistatus(parts)
    query = _loose(root)
    found = await inbox.many(ctx.db, ctx.principal, [i.name for i in await inbox.listing(ctx.db, ctx.principal)])
    chosen = [s for s in found if query is None or filters.matches(ical.parse(s.data), query)]
    return xml.multistatus(
        [describe(ctx, _node(ctx, s), want, _data(s, want)) for s in sorted(chosen, key=lambda s: s.seq)]
    )


def _loose(root: Element) -> filters.CalendarQuery | None:
    """A calendar-query on the inbox, checked on each message: its components and
    properties as asked; the top component's time range is not (a client may get more
    than it asked, never less)."""
    parsed = filters.calendar_query(root)
    outer = root.find(tag(CALDAV, "filter"))
    assert outer is not None  # calendar_query refused it otherwise
    top = outer.find(tag(CALDAV, "comp-filter"))
    assert top is not None
    whole = filters.comp_filter(top)
    if parsed.rest is None and parsed.component is None:
        return None
    return filters.CalendarQuery(None, None, None, whole, ranges=False)


async def _sync(ctx: Context, root: Element, want: Wanted) -> Response:
    token = (root.findtext(tag(DAV, "sync-token")) or "").strip()
    prefix = f"{SYNC_TOKEN_PREFIX}{ctx.principal.user_id.hex}:"
    number = token[len(prefix) :] if token.startswith(prefix) else ("0" if not token else "")
    if not number.isdigit():
        raise DavError(403, _("This sync token is not valid for this collection."), tag(DAV, "valid-sync-token"))
    limit_text = (root.findtext(f"{tag(DAV, 'limit')}/{tag(DAV, 'nresults')}") or "").strip()
    limit = int(limit_text) if limit_text.isdigit() and int(limit_text) > 0 else None
    try:
        changes = await inbox.changes(ctx.db, ctx.principal, int(number), limit)
    except Invalid as exc:
        raise DavError(403, str(exc), tag(DAV, "valid-sync-token")) from exc
    data = {}
    if CALENDAR_DATA in want.names and changes.changed:
        data = {s.name: s for s in await inbox.many(ctx.db, ctx.principal, [c.name for c in changes.changed])}
    base = targets.mailbox_path(ctx.principal, INBOX)
    parts = [
        describe(ctx, _node(ctx, info), want, _data(data[info.name], want) if info.name in data else None)
        for info in changes.changed
    ]
    parts += [xml.response(base + name, xml.status(404)) for name in changes.deleted]
    if changes.truncated:
        parts.append(xml.response(base, xml.status(507) + "<D:error><D:number-of-matches-within-limits/></D:error>"))
    return xml.multistatus(parts, f"<D:sync-token>{xml.text(_token(ctx, changes.token))}</D:sync-token>")


# --- free/busy through the outbox (RFC 6638 5) ---------------------------------------------------------


def _refuse(condition: str, message: str) -> DavError:
    return DavError(403, message, tag(CALDAV, condition))


def _utc(value: Any) -> datetime | None:
    moment = getattr(value, "dt", None)
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if isinstance(moment, date):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return None


def _request(ctx: Context) -> tuple[icalendar.Calendar, Any]:
    """The VFREEBUSY REQUEST of the body, or the precondition it fails."""
    media, _sep, params = ctx.header("content-type").partition(";")
    if media.strip().lower() != "text/calendar":
        raise _refuse("supported-calendar-data", _("Post a text/calendar scheduling message."))
    try:
        calendar = ical.parse(ctx.body.decode("utf-8"))
    except (UnicodeDecodeError, ical.InvalidCalendarData) as exc:
        raise _refuse("valid-calendar-data", _("The body is not valid iCalendar data.")) from exc
    method = str(calendar.get("METHOD", "")).upper()
    declared = next(
        (
            v.strip().strip('"').upper()
            for k, _s, v in (p.partition("=") for p in params.split(";"))
            if k.strip().lower() == "method"
        ),
        method,
    )
    queries = [c for c in calendar.subcomponents if c.name == "VFREEBUSY"]
    if method != "REQUEST" or declared != method or len(queries) != 1:
        raise _refuse(
            "valid-scheduling-message",
            _("The outbox takes a free/busy request: METHOD:REQUEST and one VFREEBUSY."),
        )
    return calendar, queries[0]


async def _post(ctx: Context) -> Response:
    box = inbox.mailbox(ctx.principal, ctx.principal.user_id, OUTBOX)
    policy.require(ctx.principal, box, "schedule-send", _("You may not ask free/busy here."))
    _calendar, query = _request(ctx)
    principal = ctx.principal
    mine = {f"mailto:{principal.email.lower()}", targets.principal_path(principal)}
    organizer = str(query.get("ORGANIZER", "")).strip()
    if organizer.lower() not in mine and organizer not in mine:
        raise _refuse("valid-organizer", _("The ORGANIZER of a free/busy request is you."))
    start, end = _utc(query.get("DTSTART")), _utc(query.get("DTEND"))
    asked = [str(a) for a in ical.as_list(query.get("ATTENDEE"))]
    if start is None or end is None or not asked:
        raise _refuse("valid-scheduling-message", _("A free/busy request has DTSTART, DTEND and attendees."))
    addresses = [ical.mailto_address(a) for a in asked]
    try:
        busy = await freebusy.busy_times(ctx.db, principal, [a for a in addresses if a], start, end)
    except Invalid as exc:
        raise _refuse("valid-scheduling-message", str(exc)) from exc
    uid = str(query.get("UID", "")) or None
    parts = []
    for value, address in zip(asked, addresses, strict=True):
        spans = busy.get(address) if address else None
        status, data = UNKNOWN_USER, ""
        if spans is not None:
            reply = freebusy.vfreebusy(principal.email, address, start, end, spans, uid=uid)
            status, data = SUCCESS, f"<C:calendar-data>{xml.text(reply.to_ical().decode())}</C:calendar-data>"
        parts.append(
            f"<C:response><C:recipient>{href(value)}</C:recipient>"
            f"<C:request-status>{xml.text(status)}</C:request-status>{data}</C:response>"
        )
    body = xml.document(f"<C:schedule-response>{''.join(parts)}</C:schedule-response>")
    return Response(body, status_code=200, media_type=xml.XML_TYPE)
