"""Data for the calendar tests: organisations subscribed to calendar, and iCalendar /
vCard texts built with the libraries (not hand-typed), so that a test reads as what it
stores."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import icalendar
import vobject

from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, objects, scheduling
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from tests.factories import TestOrg, make_org

MODULES = ("calendar", "mail")


async def make_calendar_org() -> TestOrg:
    return await make_org(modules=MODULES)


def event(
    *,
    uid: str | None = None,
    summary: str = "Réunion",
    start: datetime | date = datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    length: timedelta = timedelta(hours=1),
    rrule: dict[str, object] | None = None,
    attendees: tuple[str, ...] = (),
    organizer: str | None = None,
    alarm: timedelta | None = None,
    alarm_action: str = "DISPLAY",
) -> str:
    """One VEVENT in its VCALENDAR, as a client would PUT it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hexagone tests//FR")
    calendar.add("version", "2.0")
    vevent = icalendar.Event()
    vevent.add("uid", uid or f"{uuid.uuid4()}@tests")
    vevent.add("dtstamp", datetime(2027, 1, 1, tzinfo=UTC))
    vevent.add("summary", summary)
    vevent.add("dtstart", start)
    vevent.add("dtend", start + length)
    if rrule:
        vevent.add("rrule", rrule)
    if organizer:
        vevent.add("organizer", f"mailto:{organizer}")
    for address in attendees:
        vevent.add("attendee", f"mailto:{address}")
    if alarm is not None:
        valarm = icalendar.Alarm()
        valarm.add("action", alarm_action)
        valarm.add("description", summary)
        valarm.add("trigger", alarm)
        if alarm_action == "EMAIL":
            valarm.add("summary", summary)
        vevent.add_component(valarm)
    calendar.add_component(vevent)
    return calendar.to_ical().decode()


def contact(
    *, uid: str | None = None, name: str = "Éloïse Dupré", emails: tuple[str, ...] = ("eloise@partner.test",)
) -> str:
    card = vobject.vCard()
    card.add("uid").value = uid or str(uuid.uuid4())
    card.add("fn").value = name
    card.add("n").value = vobject.vcard.Name(family=name.split()[-1], given=name.split()[0])
    for address in emails:
        card.add("email").value = address
    return str(card.serialize())


async def write_event(who: Principal, name: str, text: str | None) -> None:
    """What every way of writing an event (CalDAV, the web, the API) does in the
    writer's own calendar: store (or delete), then schedule what it means for others."""
    async with org_session(who.org_id, write=True) as db:
        await collections.ensure_defaults(db, who)
        [own] = [
            r
            for r in await collections.visible(db, who, CollectionKind.CALENDAR)
            if r.collection.owner_id == who.user_id
        ]
        reach = await collections.reach(db, who, own.collection.id, "write")
        previous = await objects.many(db, reach, [name])
        before = previous[0].data if previous else None
        if text is None:
            assert before is not None, f"nothing to delete at {name}"
            await scheduling.discard(db, who, reach, name, before=before)
        else:
            await scheduling.store(db, who, reach, name, text, before=before)
        await db.commit()
