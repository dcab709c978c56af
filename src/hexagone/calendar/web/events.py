"""One event's pages: its detail (with the viewer's answer when invited), the form that
creates or changes it, the form that moves or resizes it (one occurrence or the series:
the keyboard's way, and the one without JavaScript; the drag-and-drop of the script posts
to it too), and deleting it. Every change goes through :mod:`agenda` with the ETag the
form was built with, so a change made meanwhile elsewhere is reported, not overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.calendar.service import agenda
from hexagone.calendar.web import common
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, ServiceError
from hexagone.core.forms import field, parse_uuid, required_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required

REMINDERS = (None, 0, 5, 15, 30, 60, 1440)
FORM_FIELDS = (
    "summary",
    "calendar",
    "all_day",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "timezone",
    "location",
    "description",
    "repeat",
    "until",
    "count",
    "attendees",
    "reminder",
    "meeting",
    "etag",
)


def event_url(calendar_id: uuid.UUID, event_id: uuid.UUID, occurrence: str = "", suffix: str = "") -> str:
    query = f"?{urlencode({'occurrence': occurrence})}" if occurrence else ""
    return f"/calendar/events/{calendar_id}/{event_id}{suffix}{query}"


def _ids(params: Mapping[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    return parse_uuid(params["calendar_id"]), parse_uuid(params["event_id"])


async def _occurrence(
    db: AsyncSession, principal: Principal, viewer: common.Viewer, event: agenda.Event, occurrence: str
) -> agenda.Occurrence | None:
    """The occurrence a link names (its recurrence id), else the event's first one."""
    start = event.fields.start
    if occurrence:
        moment = _recurrence_moment(occurrence)
        low = moment - timedelta(days=1)
    else:
        low = start if isinstance(start, datetime) else datetime.combine(start, time())
        low = (low if low.tzinfo else low.replace(tzinfo=viewer.zone)) - timedelta(days=1)
    found = await agenda.occurrences(db, principal, low, low + timedelta(days=3), viewer.zone, [event.calendar_id])
    mine = [o for o in found if o.event_id == event.event_id]
    if occurrence:
        return next((o for o in mine if o.recurrence_id == occurrence), None)
    return mine[0] if mine else None


def _recurrence_moment(text: str) -> datetime:
    for shape in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S", "%Y%m%d"):
        try:
            moment = datetime.strptime(text, shape)
        except ValueError:
            continue
        if not agenda.MIN_YEAR <= moment.year <= agenda.MAX_YEAR:
            break
        return moment.replace(tzinfo=common.ZoneInfo("UTC"))
    raise Invalid(_("Unknown occurrence."))


@dataclass(frozen=True)
class Shown:
    """An event's page as the request asks for it: the viewer, the event, and the
    occurrence the link names (its recurrence id), or its first one."""

    viewer: common.Viewer
    event: agenda.Event
    occurrence: str
    shown: agenda.Occurrence | None


async def _load(request: Request, occurrence: str | None = None) -> Shown:
    principal = pages.me(request)
    calendar_id, event_id = _ids(request.path_params)
    occurrence = request.query_params.get("occurrence", "")[:40] if occurrence is None else occurrence
    async with org_session(principal.org_id) as db:
        viewer = await common.viewer(db, principal)
        event = await agenda.event(db, principal, calendar_id, event_id)
        shown = await _occurrence(db, principal, viewer, event, occurrence)
    return Shown(viewer, event, occurrence, shown)


@contextmanager
def _unless_changed_meanwhile() -> Iterator[None]:
    """A form built on an older version of the event: shown again with a message (the
    page kit shows a Conflict again, with its 409), never saved over the other change."""
    try:
        yield
    except PreconditionFailed:
        raise Conflict(
            _(
                "The event was changed by someone else since you opened this page. "
                "Check it, then save again to replace it."
            )
        ) from None


# --- detail ----------------------------------------------------------------------------------------


@login_required
async def detail(request: Request) -> Response:
    return await _detail(request, None)


async def _detail(request: Request, error: ServiceError | None) -> Response:
    calendar_id, event_id = _ids(request.path_params)
    loaded = await _load(request)
    viewer, event, shown, occurrence = loaded.viewer, loaded.event, loaded.shown, loaded.occurrence
    calendar = next(c for c in viewer.calendars if c.id == calendar_id)
    return pages.render(
        request,
        "calendar/event.html",
        {
            "event": event,
            "shown": shown,
            "calendar": calendar,
            "occurrence": occurrence,
            "when": common.occurrence_when(shown) if shown else "",
            "invited": any(a.email == event.answers_as for a in event.attendees),
            "back": common.view_url("week", shown.start.date(), viewer) if shown else "/calendar/week",
            "url": event_url(calendar_id, event_id, occurrence),
            "move_url": event_url(calendar_id, event_id, occurrence, "/move"),
            "delete_url": event_url(calendar_id, event_id, occurrence, "/delete"),
            "edit_url": event_url(calendar_id, event_id, "", "/edit"),
        },
        error,
    )


async def _reply(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    calendar_id, event_id = _ids(params)
    with _unless_changed_meanwhile():
        await agenda.reply(db, principal, calendar_id, event_id, field(form, "partstat", 20), etag=_etag(form))
    return pages.done(event_url(calendar_id, event_id, field(form, "occurrence", 40)), "event_answered")


def _etag(form: FormData) -> str | None:
    return field(form, "etag", 100) or None


def read_only() -> Forbidden:
    return Forbidden(_("You may read this calendar's events, not change them."))


# --- create and change -------------------------------------------------------------------------------


def _fields(form: FormData, zone_name: str) -> agenda.EventFields:
    all_day = field(form, "all_day", 2) == "1"
    start_day = common.parse_date(field(form, "start_date", 10))
    end_day = common.parse_date(field(form, "end_date", 10) or start_day.isoformat())
    start: date | datetime = start_day
    end: date | datetime = end_day
    if not all_day:
        start = datetime.combine(start_day, common.parse_time(field(form, "start_time", 8) or "09:00"))
        end = datetime.combine(end_day, common.parse_time(field(form, "end_time", 8) or "10:00"))
    count_text = field(form, "count", 6).strip()
    if count_text and not count_text.isdigit():
        raise Invalid(_("Give the number of times as a number."))
    reminder = field(form, "reminder", 6).strip()
    if reminder and not reminder.isdigit():
        raise Invalid(_("Unknown reminder."))
    until = field(form, "until", 10).strip()
    attendees = field(form, "attendees", 20_000).replace(",", "\n").replace(";", "\n").split()
    return agenda.EventFields(
        summary=field(form, "summary", 500),
        start=start,
        end=end,
        all_day=all_day,
        timezone=field(form, "timezone", 64) or zone_name,
        location=field(form, "location", 500),
        description=field(form, "description", 10_000),
        repeat=field(form, "repeat", 10),
        until=common.parse_date(until) if until else None,
        count=int(count_text) if count_text else None,
        attendees=tuple(attendees),
        reminder_minutes=int(reminder) if reminder else None,
        meeting=field(form, "meeting", 2) == "1",
    )


def _typed_from(event: agenda.Event) -> dict[str, str]:
    f = event.fields
    start, end = f.start, f.end
    return {
        "summary": f.summary,
        "calendar": str(event.calendar_id),
        "all_day": "1" if f.all_day else "",
        "start_date": (start.date() if isinstance(start, datetime) else start).isoformat(),
        "start_time": common.clock(start) if isinstance(start, datetime) else "09:00",
        "end_date": (end.date() if isinstance(end, datetime) else end).isoformat(),
        "end_time": common.clock(end) if isinstance(end, datetime) else "10:00",
        "timezone": f.timezone,
        "location": f.location,
        "description": f.description,
        "repeat": f.repeat,
        "until": f.until.isoformat() if f.until else "",
        "count": str(f.count) if f.count else "",
        "attendees": "\n".join(f.attendees),
        "reminder": "" if f.reminder_minutes is None else str(f.reminder_minutes),
        "meeting": "1" if event.meeting_url else "",
        "etag": event.etag,
    }


def _typed_new(request: Request, viewer: common.Viewer) -> dict[str, str]:
    """A new event's fields from the slot clicked (``date``, ``time``) or now."""
    day = common.day_param(request, viewer.zone)
    at = common.parse_time(request.query_params.get("time", "") or "09:00")
    start = datetime.combine(day, at)
    end = start + timedelta(hours=1)
    asked = request.query_params.get("calendar", "")
    writable = [str(c.id) for c in viewer.writable]
    return {
        **dict.fromkeys(FORM_FIELDS, ""),
        "calendar": asked if asked in writable else (writable[0] if writable else ""),
        "start_date": day.isoformat(),
        "start_time": common.clock(start),
        "end_date": end.date().isoformat(),
        "end_time": common.clock(end),
        "timezone": getattr(viewer.zone, "key", "Europe/Paris"),
        "all_day": "1" if request.query_params.get("all_day") == "1" else "",
    }


async def _form_page(request: Request, error: ServiceError | None) -> Response:
    principal = pages.me(request)
    editing = "event_id" in request.path_params
    async with org_session(principal.org_id) as db:
        viewer = await common.viewer(db, principal)
        event = None
        if editing:
            calendar_id, event_id = _ids(request.path_params)
            event = await agenda.event(db, principal, calendar_id, event_id)
            if not event.writable:
                raise read_only()
    if error is not None and request.method == "POST":
        form = await request.form()
        typed = {name: value[:20_000] if isinstance(value := form.get(name, ""), str) else "" for name in FORM_FIELDS}
        if isinstance(error, Conflict) and event is not None:
            typed["etag"] = event.etag  # saving again overwrites the other change, knowingly
    else:
        typed = _typed_from(event) if event is not None else _typed_new(request, viewer)
    zone_name = getattr(viewer.zone, "key", "Europe/Paris")
    zones = list(dict.fromkeys([typed["timezone"] or zone_name, zone_name, *common.ZONES]))
    return pages.render(
        request,
        "calendar/event_form.html",
        {
            "viewer": viewer,
            "event": event,
            "typed": typed,
            "zones": zones,
            "reminders": REMINDERS,
            "meeting_offered": bool(get_settings().meeting_url_template) or bool(event and event.meeting_url),
            "action": event_url(event.calendar_id, event.event_id, "", "/edit") if event else "/calendar/events/new",
            "cancel": event_url(event.calendar_id, event.event_id) if event else "/calendar/week",
        },
        error,
    )


async def _create(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    calendar_id = required_uuid(form, "calendar")
    zone = await agenda.viewer_zone(db, principal)
    event_id = await agenda.create(db, principal, calendar_id, _fields(form, getattr(zone, "key", "Europe/Paris")))
    return pages.done(event_url(calendar_id, event_id), "event_created")


async def _update(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    calendar_id, event_id = _ids(params)
    zone = await agenda.viewer_zone(db, principal)
    fields = _fields(form, getattr(zone, "key", "Europe/Paris"))
    with _unless_changed_meanwhile():
        await agenda.update(db, principal, calendar_id, event_id, fields, etag=_etag(form))
    return pages.done(event_url(calendar_id, event_id), "event_saved")


# --- move ---------------------------------------------------------------------------------------------


async def _move_page(request: Request, error: ServiceError | None) -> Response:
    calendar_id, event_id = _ids(request.path_params)
    posted = field(await request.form(), "occurrence", 40) if request.method == "POST" else None
    loaded = await _load(request, posted)
    viewer, event, shown, occurrence = loaded.viewer, loaded.event, loaded.shown, loaded.occurrence
    if shown is None:
        raise NotFound(_("No such event."))
    if not event.writable:
        raise read_only()
    last = shown.end - timedelta(days=1) if shown.all_day else shown.end
    typed = {
        "start_date": shown.start.date().isoformat(),
        "start_time": common.clock(shown.start),
        "end_date": last.date().isoformat(),
        "end_time": common.clock(shown.end),
        "scope": "one" if shown.recurring else "series",
    }
    if error is not None and request.method == "POST":
        form = await request.form()
        typed.update({k: v[:20] for k in typed if isinstance(v := form.get(k, ""), str)})
    return pages.render(
        request,
        "calendar/move.html",
        {
            "event": event,
            "shown": shown,
            "occurrence": occurrence,
            "typed": typed,
            "zone": getattr(viewer.zone, "key", ""),
            "when": common.occurrence_when(shown),
            "action": event_url(calendar_id, event_id, "", "/move"),
            "cancel": event_url(calendar_id, event_id, occurrence),
        },
        error,
    )


async def _move(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    """Moves to the form's days and times (in the viewer's zone); ``scope`` ``one`` moves
    only the occurrence, ``series`` shifts every occurrence by as much as this one moved."""
    calendar_id, event_id = _ids(params)
    zone = await agenda.viewer_zone(db, principal)
    viewer = common.Viewer(principal, [], [calendar_id], zone)
    event = await agenda.event(db, principal, calendar_id, event_id)
    occurrence = field(form, "occurrence", 40)
    shown = await _occurrence(db, principal, viewer, event, occurrence)
    if shown is None:
        raise Invalid(_("Unknown occurrence."))
    start_day = common.parse_date(field(form, "start_date", 10))
    end_day = common.parse_date(field(form, "end_date", 10) or start_day.isoformat())
    start: date | datetime
    end: date | datetime
    if shown.all_day:
        start, end = start_day, end_day + timedelta(days=1)
    else:
        start = datetime.combine(start_day, common.parse_time(field(form, "start_time", 8)), tzinfo=zone)
        end = datetime.combine(end_day, common.parse_time(field(form, "end_time", 8)), tzinfo=zone)
    one = field(form, "scope", 10) == "one" and bool(shown.recurrence_id)
    if shown.recurrence_id and not one:  # the series: moved as this occurrence moved
        first = await _occurrence(db, principal, viewer, event, "")
        if first is None:
            raise Invalid(_("Unknown occurrence."))
        shift = _as_moment(start, zone) - shown.start
        length = _as_moment(end, zone) - _as_moment(start, zone)
        new_start = first.start + shift
        start, end = (new_start.date(), new_start.date() + length) if shown.all_day else (new_start, new_start + length)
    with _unless_changed_meanwhile():
        await agenda.move(
            db,
            principal,
            calendar_id,
            event_id,
            start=start,
            end=end,
            recurrence_id=shown.recurrence_id if one else "",
            etag=_etag(form),
        )
    return pages.done(event_url(calendar_id, event_id, shown.recurrence_id if one else ""), "event_moved", form)


def _as_moment(value: date | datetime, zone: common.ZoneInfo) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time(), tzinfo=zone)


# --- delete -------------------------------------------------------------------------------------------


async def _delete_page(request: Request, error: ServiceError | None) -> Response:
    calendar_id, event_id = _ids(request.path_params)
    loaded = await _load(request)
    event, shown, occurrence = loaded.event, loaded.shown, loaded.occurrence
    if not event.writable:
        raise read_only()
    return pages.render(
        request,
        "calendar/delete.html",
        {
            "event": event,
            "shown": shown,
            "occurrence": occurrence,
            "when": common.occurrence_when(shown) if shown else "",
            "action": event_url(calendar_id, event_id, "", "/delete"),
            "cancel": event_url(calendar_id, event_id, occurrence),
        },
        error,
    )


async def _delete(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    calendar_id, event_id = _ids(params)
    one = field(form, "scope", 10) == "one"
    with _unless_changed_meanwhile():
        await agenda.delete(
            db,
            principal,
            calendar_id,
            event_id,
            recurrence_id=field(form, "occurrence", 40) if one else "",
            etag=_etag(form),
        )
    return pages.done("/calendar/week", "event_deleted", form)


EVENT = "/events/{calendar_id:uuid}/{event_id:uuid}"
ROUTES = [
    Route("/events/new", pages.page_or_submit(login_required, _create, _form_page), methods=["GET", "POST"]),
    Route(EVENT, detail),
    Route(EVENT + "/reply", pages.form_endpoint(login_required, _reply, _detail), methods=["POST"]),
    Route(EVENT + "/edit", pages.page_or_submit(login_required, _update, _form_page), methods=["GET", "POST"]),
    Route(EVENT + "/move", pages.page_or_submit(login_required, _move, _move_page), methods=["GET", "POST"]),
    Route(EVENT + "/delete", pages.page_or_submit(login_required, _delete, _delete_page), methods=["GET", "POST"]),
]
