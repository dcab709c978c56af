"""Free/busy for planning a meeting (RFC 5545 VFREEBUSY, as RFC 6638 3.2.3 serves it):
when colleagues and rooms are taken over a span, without what they are doing.

Every member of the organisation may see when another member or a resource is busy (as
in Exchange's default "free/busy time" sharing); guests may not, and addresses outside
the organisation are unknown (None). Busy time comes from the events of the person's own
calendars (but those marked transparent: RFC 6638 9.1 ``schedule-calendar-transp``), or
the resource's, that are neither cancelled nor transparent; a tentative
event (or one they have not answered) is BUSY-TENTATIVE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, CollectionKind, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import objects, resources
from hexagone.calendar.times import as_utc
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Forbidden, Invalid
from hexagone.core.i18n import _
from hexagone.identity.service import clean_email, person_by_email

MAX_SPAN = timedelta(days=366)
MAX_ADDRESSES = 50
BUSY, TENTATIVE = "BUSY", "BUSY-TENTATIVE"


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    status: str  # BUSY or BUSY-TENTATIVE


async def busy_times(
    db: AsyncSession, principal: Principal, addresses: list[str], start: datetime, end: datetime
) -> dict[str, list[Busy] | None]:
    """When each address is busy in [start, end), merged and sorted; None for an address
    that is not a member or a resource of the principal's organisation."""
    if principal.is_guest:
        raise Forbidden(_("Guests cannot see when members are busy."))
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise Invalid(_("Give a start before the end, with a time zone."))
    if end - start > MAX_SPAN:
        raise Invalid(_("Ask for a year at most."))
    wanted = list(dict.fromkeys(clean_email(a) for a in addresses if a.strip()))
    if len(wanted) > MAX_ADDRESSES:
        raise Invalid(_("Ask for {count} addresses at most.").format(count=MAX_ADDRESSES))
    return {address: await _busy_of(db, principal, address, start, end) for address in wanted}


async def _busy_of(
    db: AsyncSession, principal: Principal, address: str, start: datetime, end: datetime
) -> list[Busy] | None:
    room = await resources.by_address(db, address)
    if room is not None:
        calendars = [room]
        me = ""
    else:
        who = await person_by_email(db, address)
        if who is None or who.org_id != principal.org_id:
            return None
        calendars = list(
            (
                await db.execute(
                    select(Collection).where(
                        Collection.owner_id == who.id,
                        Collection.kind == CollectionKind.CALENDAR,
                        Collection.purpose == Purpose.PERSONAL,
                        Collection.transparent.is_(False),
                    )
                )
            ).scalars()
        )
        me = who.email.lower()
    found: list[Busy] = []
    for calendar in calendars:
        for stored in await objects.overlapping(db, Reach(calendar), start, end, component="VEVENT"):
            for occurrence in ical.occurrences(stored.data, start, end):
                status = _status(occurrence, me)
                if status is not None:
                    found.append(Busy(max(as_utc(occurrence.start), start), min(as_utc(occurrence.end), end), status))
    return _merged(found)


def _status(occurrence: Any, me: str) -> str | None:
    if not ical.holds_time(occurrence):
        return None
    if str(occurrence.get("STATUS", "")).upper() == "TENTATIVE":
        return TENTATIVE
    for attendee in ical.as_list(occurrence.get("ATTENDEE")):
        if str(attendee).lower() == f"mailto:{me}":
            answer = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            return None if answer == "DECLINED" else BUSY if answer == "ACCEPTED" else TENTATIVE
    return BUSY


def _merged(spans: list[Busy]) -> list[Busy]:
    """Overlapping spans as one; where a busy and a tentative span overlap, busy wins the
    overlap only when it covers it entirely (kept simple: the merged span is busy)."""
    merged: list[Busy] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            status = BUSY if BUSY in (last.status, span.status) else TENTATIVE
            merged[-1] = Busy(last.start, max(last.end, span.end), status)
        else:
            merged.append(span)
    return merged


def vfreebusy(
    organizer: str, address: str, start: datetime, end: datetime, busy: list[Busy], *, uid: str | None = None
) -> icalendar.Calendar:
    """The VFREEBUSY reply for one attendee (RFC 6638 5, RFC 5546 3.3.2: with the
    request's UID when it had one)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hexagone//Calendar//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    reply = icalendar.FreeBusy()
    if uid:
        reply.add("uid", uid)
    reply.add("dtstamp", datetime.now(UTC))
    reply.add("dtstart", start)
    reply.add("dtend", end)
    reply.add("organizer", f"mailto:{organizer}")
    reply.add("attendee", f"mailto:{address}")
    for span in busy:
        reply.add("freebusy", [(span.start, span.end)], parameters={"FBTYPE": span.status})
    calendar.add_component(reply)
    return calendar
