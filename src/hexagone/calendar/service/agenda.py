"""Events as people live in them, over the store: the occurrences of the calendars a
principal shows in a range (recurrences expanded, in the viewer's zone), and creating,
changing, moving, deleting and answering an event. The web pages and the JSON API call
these; CalDAV writes whole resources, through the same :func:`scheduling.store`.

Every write reads the resource, changes its iCalendar with the ``icalendar`` library
(never text pasted together), and stores it through :func:`scheduling.store` (which
schedules invitations, answers and reminders) with the ETag it
read, or the one the caller last saw: a concurrent change is refused (412) instead of
being overwritten. Every decision of who may do what is the policy's
(:func:`collections.reach` with ``view`` or ``write``).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import collections, delegation, objects, scheduling
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.i18n import _

DEFAULT_ZONE = "Europe/Paris"
PRODID = "-//Hexagone//Calendar//FR"
REPEATS = ("daily", "weekly", "monthly", "yearly")
PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE")
MAX_RANGE = timedelta(days=400)  # a view or an API listing; a year and a bit
MAX_OCCURRENCES = 2000  # per listing: a daily event over a year, several times
MAX_ATTENDEES = 100
MAX_COUNT = 1000
MIN_YEAR, MAX_YEAR = 1900, 2200  # what a calendar means; beyond, time-zone arithmetic overflows
_PART = r"[^@\s<>\"\x00-\x1f\x7f-\x9f]+"  # no space, bracket, quote or control character
_EMAIL = re.compile(rf"^{_PART}@{_PART}\.{_PART}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9@._-]{1,200}$")


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    partstat: str  # NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE…


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event as a view shows it, in the viewer's zone."""

    calendar_id: uuid.UUID
    calendar_name: str
    color: str
    event_id: uuid.UUID  # the stored resource
    uid: str
    recurrence_id: str  # "" for an event that does not repeat; else its original start (iCalendar text)
    summary: str
    location: str
    description: str
    start: datetime
    end: datetime
    all_day: bool
    recurring: bool
    attendees: tuple[Attendee, ...]
    organizer: str
    meeting_url: str
    my_partstat: str  # the viewer's answer when invited, "" otherwise
    etag: str
    writable: bool


@dataclass(frozen=True)
class EventFields:
    """What a person gives to create or change an event. ``start`` and ``end`` are dates
    for an all-day event (``end`` the last day, included), else times in ``timezone``
    (naive, or aware and converted)."""

    summary: str
    start: datetime | date
    end: datetime | date
    all_day: bool = False
    timezone: str = ""
    location: str = ""
    description: str = ""
    repeat: str = ""  # "", daily, weekly, monthly, yearly
    until: date | None = None
    count: int | None = None
    attendees: tuple[str, ...] = ()
    reminder_minutes: int | None = None
    meeting: bool = False  # give it a meeting link from the organisation's template


@dataclass(frozen=True)
class Event:
    """An event as its form shows it: the master's fields, with its resource's ETag."""

    calendar_id: uuid.UUID
    event_id: uuid.UUID
    uid: str
    etag: str
    fields: EventFields
    organizer: str
    attendees: tuple[Attendee, ...]
    meeting_url: str
    writable: bool
    overrides: int = 0  # occurrences changed one by one
    answers_as: str = ""  # the attendee address the viewer answers for here (theirs, or a manager's)
    answers_for: str = ""  # the manager's name when the viewer answers as their delegate


def zone(name: str) -> ZoneInfo:
    """The time zone ``name``; Invalid when there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(_("Unknown time zone: {zone}").format(zone=name[:64])) from None


async def viewer_zone(db: AsyncSession, principal: Principal) -> ZoneInfo:
    """The zone a principal's agenda is shown in: their own first calendar's, else Paris.
    (Profiles carry no time zone yet; the calendar's is the one a person sets.)"""
    name = await db.scalar(
        select(Collection.timezone)
        .where(
            Collection.owner_id == principal.user_id,
            Collection.purpose == Purpose.PERSONAL,
            Collection.kind == CollectionKind.CALENDAR,
        )
        .order_by(Collection.created_at)
        .limit(1)
    )
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


async def calendars(db: AsyncSession, principal: Principal) -> list[collections.CollectionInfo]:
    """The calendars the principal may read, their own created on first use."""
    if not principal.is_guest:
        await collections.ensure_defaults(db, principal)
    found = await collections.visible(db, principal, CollectionKind.CALENDAR)
    return [collections.info(principal, r) for r in found]


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid(_("Give the range with a time zone."))
    if end <= start:
        raise Invalid(_("The end of the range must come after its start."))
    if end - start > MAX_RANGE:
        raise Invalid(_("Ask for at most {days} days at a time.").format(days=MAX_RANGE.days))
    if start.year < MIN_YEAR or end.year > MAX_YEAR:
        raise Invalid(_("Give dates between the years {first} and {last}.").format(first=MIN_YEAR, last=MAX_YEAR))


async def occurrences(
    db: AsyncSession,
    principal: Principal,
    start: datetime,
    end: datetime,
    viewer: ZoneInfo,
    calendar_ids: list[uuid.UUID] | None = None,
) -> list[Occurrence]:
    """The occurrences overlapping [start, end) of the visible calendars (or of those of
    ``calendar_ids`` the principal may read), sorted by start, times in ``viewer``."""
    _check_range(start, end)
    reaches = await collections.visible(db, principal, CollectionKind.CALENDAR)
    if calendar_ids is not None:
        wanted = set(calendar_ids)
        reaches = [r for r in reaches if r.collection.id in wanted]
    found: list[Occurrence] = []
    for reach in reaches:
        writable = _can_write(principal, reach)
        for stored in await objects.overlapping(db, reach, start, end, component="VEVENT"):
            try:
                expanded = ical.occurrences(stored.data, start, end)
            except (ical.InvalidCalendarData, KeyError, ValueError, TypeError):
                continue  # a resource a client stored that cannot be expanded (no DTSTART…) shows nowhere
            for component in expanded:
                found.append(_occurrence(principal, reach, stored, component, viewer, writable))
                if len(found) > MAX_OCCURRENCES:
                    raise Invalid(_("Too many events in this range: ask for a shorter one."))
    found.sort(key=lambda o: (o.start, o.end, o.summary))
    return found


def _can_write(principal: Principal, reach: Reach) -> bool:
    return bool(policy.abilities(principal, reach).get("write"))


def _occurrence(
    principal: Principal,
    reach: Reach,
    stored: objects.StoredObject,
    component: Any,
    viewer: ZoneInfo,
    writable: bool,
) -> Occurrence:
    start_value = component.start
    all_day = not isinstance(start_value, datetime)
    start = _in_zone(start_value, viewer)
    end = _in_zone(component.end, viewer) if component.get("DTEND") or component.get("DURATION") else start
    if all_day and end <= start:
        end = start + timedelta(days=1)
    recurrence = component.get("RECURRENCE-ID")
    attendees = _attendees(component)
    me = principal.email.lower()
    return Occurrence(
        calendar_id=reach.collection.id,
        calendar_name=reach.collection.name,
        color=reach.collection.color,
        event_id=stored.id,
        uid=stored.uid,
        recurrence_id=recurrence_text(recurrence.dt) if recurrence is not None and stored.recurring else "",
        summary=str(component.get("SUMMARY", "")),
        location=str(component.get("LOCATION", "")),
        description=str(component.get("DESCRIPTION", "")),
        start=start,
        end=end,
        all_day=all_day,
        recurring=stored.recurring,
        attendees=attendees,
        organizer=_address(component.get("ORGANIZER")),
        meeting_url=_meeting_url(component),
        my_partstat=next((a.partstat for a in attendees if a.email == me), ""),
        etag=stored.etag,
        writable=writable,
    )


def recurrence_text(moment: date | datetime) -> str:
    """An occurrence's original start as its recurrence id: UTC iCalendar text
    (``20270301T080000Z``), a date's (``20270301``), or a floating time's without ``Z``."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            return moment.strftime("%Y%m%dT%H%M%S")
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return moment.strftime("%Y%m%d")


def _in_zone(moment: date | datetime, viewer: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as an aware datetime in the viewer's zone: a date is the
    viewer's midnight, a floating time the viewer's wall-clock time."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), tzinfo=viewer)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=viewer)
    return moment.astimezone(viewer)


def _address(value: Any) -> str:
    text = str(value or "")
    return text[7:].strip().lower() if text.lower().startswith("mailto:") else text.strip().lower()


def _attendees(component: Any) -> tuple[Attendee, ...]:
    found = []
    for value in ical.as_list(component.get("ATTENDEE")):
        params = getattr(value, "params", {})
        found.append(
            Attendee(
                email=_address(value),
                name=str(params.get("CN", "")),
                partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
            )
        )
    return tuple(found)


def _meeting_url(component: Any) -> str:
    for key in ("X-HEXAGONE-MEETING", "URL"):
        value = str(component.get(key, ""))
        if value.startswith(("https://", "http://")):
            return value
    return ""


# --- reading one event ------------------------------------------------------------------------------


async def _resource(
    db: AsyncSession, principal: Principal, calendar_id: uuid.UUID, event_id: uuid.UUID, ability: str
) -> tuple[Reach, objects.StoredObject]:
    """The event's resource, if the principal may ``ability`` on its calendar. (The store
    finds resources by name; the pages and the API name them by id.)"""
    reach = await collections.reach(db, principal, calendar_id, ability)
    name = await db.scalar(
        select(DavObject.name).where(DavObject.collection_id == reach.collection.id, DavObject.id == event_id)
    )
    if name is None:
        raise NotFound(_("No such event."))
    stored = await objects.get(db, reach, name)
    if stored.component != "VEVENT":
        raise NotFound(_("No such event."))
    return reach, stored


async def event(db: AsyncSession, principal: Principal, calendar_id: uuid.UUID, event_id: uuid.UUID) -> Event:
    """An event's fields (its master's), to show or to change."""
    reach, stored = await _resource(db, principal, calendar_id, event_id, "view")
    actor = await delegation.acting_for(db, principal, reach)
    calendar = ical.parse(stored.data)
    master = ical.master(calendar)
    start = master.start
    all_day = not isinstance(start, datetime)
    end = master.end if (master.get("DTEND") or master.get("DURATION")) else start
    if all_day:
        end = max(start, end - timedelta(days=1))  # DTEND excluded, the form's last day included
    tz = ""
    if isinstance(start, datetime) and start.tzinfo is not None:
        tz = str(getattr(start.tzinfo, "key", "") or master["DTSTART"].params.get("TZID", "") or "UTC")
    rule = ical.as_list(master.get("RRULE"))
    repeat, until, count = "", None, None
    if rule:
        repeat = str(rule[0].get("FREQ", [""])[0]).lower()
        if rule[0].get("UNTIL"):
            moment = rule[0]["UNTIL"][0]
            until = moment.date() if isinstance(moment, datetime) else moment
        if rule[0].get("COUNT"):
            count = int(rule[0]["COUNT"][0])
    alarm = next((a for a in master.walk("VALARM")), None)
    reminder = None
    if alarm is not None and isinstance(getattr(alarm.get("TRIGGER"), "dt", None), timedelta):
        reminder = int(-alarm["TRIGGER"].dt.total_seconds() // 60)
    attendees = _attendees(master)
    return Event(
        calendar_id=reach.collection.id,
        event_id=stored.id,
        uid=stored.uid,
        etag=stored.etag,
        fields=EventFields(
            summary=str(master.get("SUMMARY", "")),
            start=start,
            end=end,
            all_day=all_day,
            timezone=tz,
            location=str(master.get("LOCATION", "")),
            description=str(master.get("DESCRIPTION", "")),
            repeat=repeat if repeat in REPEATS else "",
            until=until,
            count=count,
            attendees=tuple(a.email for a in attendees),
            reminder_minutes=reminder,
            meeting=bool(_meeting_url(master)),
        ),
        organizer=_address(master.get("ORGANIZER")),
        attendees=attendees,
        meeting_url=_meeting_url(master),
        writable=_can_write(principal, reach),
        overrides=sum(1 for c in calendar.walk("VEVENT") if "RECURRENCE-ID" in c),
        answers_as=actor.address,
        answers_for=actor.name if actor.sent_by else "",
    )


# --- writing ------------------------------------------------------------------------------------------


def meeting_link(template: str) -> str:
    """A new meeting room's URL from the organisation's template ("" without one)."""
    if not template or "{id}" not in template:
        return ""
    return template.replace("{id}", secrets.token_urlsafe(12).replace("_", "").replace("-", "")[:16])


def _clean(fields: EventFields, default_zone: str) -> EventFields:
    """The fields checked and normalised, or Invalid saying what to correct."""
    summary = " ".join(fields.summary.split())[:500]
    if not summary:
        raise Invalid(_("Give the event a title."))
    tz = fields.timezone or default_zone
    zone(tz)
    if fields.all_day:
        start = fields.start.date() if isinstance(fields.start, datetime) else fields.start
        end = fields.end.date() if isinstance(fields.end, datetime) else fields.end
    else:
        if not isinstance(fields.start, datetime) or not isinstance(fields.end, datetime):
            raise Invalid(_("Give the start and the end with their time."))
        start, end = _naive_in(fields.start, tz), _naive_in(fields.end, tz)
    if end < start:  # equal: a moment (RFC 5545 allows a DTEND equal to DTSTART)
        raise Invalid(_("The event must end after it starts."))
    if fields.repeat and fields.repeat not in REPEATS:
        raise Invalid(_("Unknown repetition."))
    if fields.count is not None and not 1 <= fields.count <= MAX_COUNT:
        raise Invalid(_("An event repeats between 1 and {n} times.").format(n=MAX_COUNT))
    first_day = start.date() if isinstance(start, datetime) else start
    last_day = end.date() if isinstance(end, datetime) else end
    if not (first_day.year >= MIN_YEAR and last_day.year <= MAX_YEAR) or (
        fields.until is not None and not MIN_YEAR <= fields.until.year <= MAX_YEAR
    ):
        raise Invalid(_("Give dates between the years {first} and {last}.").format(first=MIN_YEAR, last=MAX_YEAR))
    if fields.until is not None and fields.until < first_day:
        raise Invalid(_("The repetition cannot end before the event starts."))
    if fields.reminder_minutes is not None and not 0 <= fields.reminder_minutes <= 40320:
        raise Invalid(_("A reminder comes at most four weeks before."))
    attendees = tuple(dict.fromkeys(a.strip().lower() for a in fields.attendees if a.strip()))
    if len(attendees) > MAX_ATTENDEES:
        raise Invalid(_("At most {n} attendees.").format(n=MAX_ATTENDEES))
    for address in attendees:
        if not _EMAIL.match(address) or len(address) > 320:
            raise Invalid(_("Not an e-mail address: {address}").format(address=address[:100]))
    return EventFields(
        summary=summary,
        start=start,
        end=end,
        all_day=fields.all_day,
        timezone=tz,
        location=fields.location.strip()[:500],
        description=fields.description.strip()[:10_000],
        repeat=fields.repeat,
        until=fields.until,
        count=fields.count if fields.repeat else None,
        attendees=attendees,
        reminder_minutes=fields.reminder_minutes,
        meeting=fields.meeting,
    )


def _naive_in(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _fill(
    component: Any, fields: EventFields, actor: delegation.Actor, kept: dict[str, Attendee], meeting_url: str
) -> None:
    """Write ``fields`` into the VEVENT ``component`` (a new one, or the master being
    changed: what the form does not carry stays)."""
    for key in ("SUMMARY", "DTSTART", "DTEND", "DURATION", "LOCATION", "DESCRIPTION", "RRULE", "ATTENDEE"):
        component.pop(key, None)
    component.add("summary", fields.summary)
    if fields.all_day:
        assert isinstance(fields.start, date) and isinstance(fields.end, date)
        component.add("dtstart", fields.start)
        component.add("dtend", fields.end + timedelta(days=1))
    else:
        tz = ZoneInfo(fields.timezone)
        assert isinstance(fields.start, datetime) and isinstance(fields.end, datetime)
        component.add("dtstart", fields.start.replace(tzinfo=tz))
        component.add("dtend", fields.end.replace(tzinfo=tz))
    if fields.location:
        component.add("location", fields.location)
    if fields.description:
        component.add("description", fields.description)
    if fields.repeat:
        rule: dict[str, Any] = {"freq": fields.repeat}
        if fields.count:
            rule["count"] = fields.count
        elif fields.until:
            rule["until"] = (
                fields.until
                if fields.all_day
                else datetime.combine(fields.until, time(23, 59, 59), tzinfo=ZoneInfo(fields.timezone)).astimezone(UTC)
            )
        component.add("rrule", rule)
    if fields.attendees and "ORGANIZER" not in component:
        organizer = {"CN": actor.name} | ({"SENT-BY": f"mailto:{actor.sent_by}"} if actor.sent_by else {})
        component.add("organizer", f"mailto:{actor.address}", parameters=organizer)
    for address in fields.attendees:
        partstat = kept[address].partstat if address in kept else "NEEDS-ACTION"
        params = {"PARTSTAT": partstat, "ROLE": "REQ-PARTICIPANT", "RSVP": "TRUE"}
        if address in kept and kept[address].name:
            params["CN"] = kept[address].name
        component.add("attendee", f"mailto:{address}", parameters=params)
    component.subcomponents = [c for c in component.subcomponents if c.name != "VALARM"]
    if fields.reminder_minutes is not None:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", fields.summary)
        alarm.add("trigger", timedelta(minutes=-fields.reminder_minutes))
        component.add_component(alarm)
    if not fields.meeting:
        component.pop("X-HEXAGONE-MEETING", None)
    elif meeting_url:
        component.pop("X-HEXAGONE-MEETING", None)
        component.add("x-hexagone-meeting", meeting_url)
    _stamp(component)


def _stamp(component: Any) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for key in ("DTSTAMP", "LAST-MODIFIED"):
        component.pop(key, None)
    component.add("dtstamp", now)
    component.add("last-modified", now)
    if "CREATED" not in component:
        component.add("created", now)


def _bump(component: Any) -> None:
    sequence = int(component.get("SEQUENCE", 0))
    component.pop("SEQUENCE", None)
    component.add("sequence", sequence + 1)


def _text(calendar: icalendar.Calendar) -> str:
    """The resource's text, with the VTIMEZONE of every zone it names (RFC 5545 3.6.5)."""
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode())


def resource_name(uid: str) -> str:
    """The resource name of a UID: the UID itself when it is a safe URL segment, else a digest."""
    if _SAFE_NAME.match(uid):
        return f"{uid}.ics"
    return f"{objects.etag_of(uid)}.ics"


async def create(
    db: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    fields: EventFields,
    *,
    meeting_url_template: str | None = None,
) -> uuid.UUID:
    """A new event in the calendar; its stored resource's id. ``meeting_url_template``
    defaults to the organisation's setting (``HEXAGONE_MEETING_URL_TEMPLATE``)."""
    reach = await collections.reach(db, principal, calendar_id, "write")
    fields = _clean(fields, fields.timezone or reach.collection.timezone or DEFAULT_ZONE)
    template = get_settings().meeting_url_template if meeting_url_template is None else meeting_url_template
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    component = icalendar.Event()
    uid = f"{uuid.uuid4()}@hexagone"
    component.add("uid", uid)
    actor = await delegation.acting_for(db, principal, reach)
    _fill(component, fields, actor, {}, meeting_link(template) if fields.meeting else "")
    calendar.add_component(component)
    saved = await scheduling.store(
        db, principal, reach, resource_name(uid), _text(calendar), before=None, if_none_match=True
    )
    return saved.id


async def update(
    db: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    event_id: uuid.UUID,
    fields: EventFields,
    *,
    etag: str | None = None,
    meeting_url_template: str | None = None,
) -> str:
    """Change the whole event (its master; overrides of single occurrences stay). With
    ``etag``, refused (412) if the event changed since it was read. The new ETag."""
    reach, stored = await _resource(db, principal, calendar_id, event_id, "write")
    calendar = ical.parse(stored.data)
    master = ical.master(calendar)
    fields = _clean(fields, fields.timezone or reach.collection.timezone or DEFAULT_ZONE)
    url = _meeting_url(master)
    if fields.meeting and not url:
        template = get_settings().meeting_url_template if meeting_url_template is None else meeting_url_template
        url = meeting_link(template)
    kept = {a.email: a for a in _attendees(master)}
    _fill(master, fields, await delegation.acting_for(db, principal, reach), kept, url)
    _bump(master)
    saved = await scheduling.store(
        db, principal, reach, stored.name, _text(calendar), before=stored.data, if_match=etag or stored.etag
    )
    return saved.etag


def _moment(text: str, master_start: date | datetime) -> date | datetime:
    """A recurrence id (the iCalendar text of an occurrence's original start) as a
    value of the master's DTSTART type and zone; Invalid when it cannot be read."""
    try:
        value = icalendar.vDDDTypes.from_ical(text)
    except (ValueError, TypeError, OverflowError):
        raise Invalid(_("Unknown occurrence.")) from None
    if not isinstance(value, date) or not MIN_YEAR <= value.year <= MAX_YEAR:
        raise Invalid(_("Unknown occurrence."))
    if isinstance(master_start, datetime):
        if not isinstance(value, datetime):
            raise Invalid(_("Unknown occurrence."))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(master_start.tzinfo) if master_start.tzinfo is not None else value
    return value.date() if isinstance(value, datetime) else value


def _recurrence_of(component: Any) -> date | datetime | None:
    value = component.get("RECURRENCE-ID")
    return None if value is None else value.dt


def _occurs_at(calendar: icalendar.Calendar, moment: date | datetime) -> bool:
    """Whether the event has an occurrence that starts at ``moment`` (its original start)."""
    if isinstance(moment, datetime):
        low = moment.astimezone(UTC) - timedelta(minutes=1) if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        low = datetime.combine(moment, time(), tzinfo=UTC) - timedelta(days=1)
    for component in ical.occurrences(_text(calendar), low, low + timedelta(days=2)):
        recurrence = component.get("RECURRENCE-ID")
        if recurrence is not None and recurrence.dt == moment:
            return True
    return False


async def move(
    db: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    start: datetime | date,
    end: datetime | date,
    recurrence_id: str = "",
    etag: str | None = None,
) -> str:
    """Move or resize an event to [start, end). With ``recurrence_id``, only that
    occurrence (an override with RECURRENCE-ID); without, the event or its whole series
    (every occurrence shifted as its first one). ``start`` and ``end`` are aware times, or
    dates for an all-day event (``end`` excluded). The new ETag."""
    reach, stored = await _resource(db, principal, calendar_id, event_id, "write")
    calendar = ical.parse(stored.data)
    master = ical.master(calendar)
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise Invalid(_("Give the start and the end the same way (both dates or both times)."))
    if isinstance(start, datetime) and (start.tzinfo is None or end.tzinfo is None):  # type: ignore[union-attr]
        raise Invalid(_("Give the range with a time zone."))
    if not (start.year >= MIN_YEAR and end.year <= MAX_YEAR):
        raise Invalid(_("Give dates between the years {first} and {last}.").format(first=MIN_YEAR, last=MAX_YEAR))
    if not isinstance(start, datetime) and end <= start:
        end = start + timedelta(days=1)  # an all-day event lasts at least its day
    if end < start:
        raise Invalid(_("The event must end after it starts."))
    if recurrence_id:
        original = _moment(recurrence_id, master.start)
        target = next((c for c in calendar.walk("VEVENT") if _recurrence_of(c) == original), None)
        if target is None:
            if not stored.recurring or not _occurs_at(calendar, original):
                raise Invalid(_("Unknown occurrence."))
            target = icalendar.Event()
            for key, value in master.items():
                if key not in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION"):
                    target[key] = value
            target.add("recurrence-id", original)
            calendar.add_component(target)
    else:
        target = master
    _set_span(target, master, start, end)
    _bump(target)
    _stamp(target)
    saved = await scheduling.store(
        db, principal, reach, stored.name, _text(calendar), before=stored.data, if_match=etag or stored.etag
    )
    return saved.etag


def _set_span(target: Any, master: Any, start: datetime | date, end: datetime | date) -> None:
    """Give ``target`` the span [start, end), in the zone of the master's DTSTART (a
    series moved keeps its zone, so that its later occurrences stay at their wall time)."""
    first = master.start
    tz = first.tzinfo if isinstance(first, datetime) and first.tzinfo else None
    for key in ("DTSTART", "DTEND", "DURATION"):
        target.pop(key, None)
    if isinstance(start, datetime) and isinstance(end, datetime):
        target.add("dtstart", start.astimezone(tz) if tz else start.astimezone(UTC))
        target.add("dtend", end.astimezone(tz) if tz else end.astimezone(UTC))
    else:
        target.add("dtstart", start)
        target.add("dtend", end)


async def delete(
    db: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    recurrence_id: str = "",
    etag: str | None = None,
) -> None:
    """Delete the event (its whole series), or with ``recurrence_id`` only that
    occurrence (an EXDATE on the master, and its override gone)."""
    reach, stored = await _resource(db, principal, calendar_id, event_id, "write")
    if not recurrence_id:
        await scheduling.discard(db, principal, reach, stored.name, before=stored.data, if_match=etag)
        return
    calendar = ical.parse(stored.data)
    master = ical.master(calendar)
    original = _moment(recurrence_id, master.start)
    override = [c for c in calendar.walk("VEVENT") if _recurrence_of(c) == original]
    if not override and not (stored.recurring and _occurs_at(calendar, original)):
        raise Invalid(_("Unknown occurrence."))
    calendar.subcomponents = [c for c in calendar.subcomponents if not any(c is o for o in override)]
    master.add("exdate", [original])
    _bump(master)
    _stamp(master)
    await scheduling.store(
        db, principal, reach, stored.name, _text(calendar), before=stored.data, if_match=etag or stored.etag
    )


async def reply(
    db: AsyncSession,
    principal: Principal,
    calendar_id: uuid.UUID,
    event_id: uuid.UUID,
    partstat: str,
    *,
    etag: str | None = None,
) -> str:
    """Set the principal's answer (ACCEPTED, DECLINED, TENTATIVE) in their copy of an
    event they are invited to, or, as a delegate in their manager's calendar, the
    manager's answer (signed SENT-BY the delegate); scheduling tells the organiser."""
    partstat = partstat.upper()
    if partstat not in PARTSTATS:
        raise Invalid(_("Answer accepted, declined or tentative."))
    reach, stored = await _resource(db, principal, calendar_id, event_id, "write")
    actor = await delegation.acting_for(db, principal, reach)
    calendar = ical.parse(stored.data)
    me = actor.address
    found = False
    for component in calendar.walk("VEVENT"):
        attendees = ical.as_list(component.get("ATTENDEE"))
        if not any(_address(a) == me for a in attendees):
            continue
        component.pop("ATTENDEE", None)
        for attendee in attendees:
            params = dict(getattr(attendee, "params", {}))
            if _address(attendee) == me:
                params["PARTSTAT"] = partstat
                params.pop("RSVP", None)
                params.pop("SENT-BY", None)
                if actor.sent_by:
                    params["SENT-BY"] = f"mailto:{actor.sent_by}"
                found = True
            component.add("attendee", attendee, parameters=params)
        _stamp(component)
    if not found:
        raise Invalid(_("You are not invited to this event."))
    saved = await scheduling.store(
        db, principal, reach, stored.name, _text(calendar), before=stored.data, if_match=etag or stored.etag
    )
    return saved.etag
