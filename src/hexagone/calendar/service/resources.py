"""Rooms and equipment: resources with a calendar of their own, booked by inviting their
address to an event. A resource accepts an invitation when it is free for every
occurrence and declines it on a conflict (what Exchange calls auto-accept), and its
calendar shows every booking to the organisation's members (read-only; its admins
manage it)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, CollectionKind, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import objects
from hexagone.calendar.times import as_utc
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import _
from hexagone.identity.service import clean_email, org_domains, person_by_email, require_admin

ROOM, EQUIPMENT = "room", "equipment"
# How far ahead a repeating booking is checked for conflicts, and in how many occurrences
# at most: a weekly meeting for two years is 104; an endless daily one is checked for two.
HORIZON = timedelta(days=731)
MAX_CHECKED = 1000
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class ResourceInfo:
    id: uuid.UUID
    name: str
    kind: str
    address: str
    capacity: int | None


def _info(collection: Collection) -> ResourceInfo:
    return ResourceInfo(
        collection.id, collection.name, collection.resource_kind, collection.address, collection.capacity
    )


async def listing(db: AsyncSession) -> list[ResourceInfo]:
    """The organisation's resources, by name (the session is scoped to it)."""
    rows = await db.execute(select(Collection).where(Collection.purpose == Purpose.RESOURCE).order_by(Collection.name))
    return [_info(c) for c in rows.scalars()]


async def create(
    db: AsyncSession, admin: Principal, *, name: str, address: str, kind: str = ROOM, capacity: int | None = None
) -> ResourceInfo:
    """A new room (with its seats) or piece of equipment, invited at ``address``."""
    require_admin(admin)
    name = " ".join(name.split())[:200]
    address = clean_email(address)
    if not name:
        raise Invalid(_("Give the resource a name."))
    if kind not in (ROOM, EQUIPMENT):
        raise Invalid(_("A resource is a room or equipment."))
    if not _ADDRESS.match(address) or address.rsplit("@", 1)[1] not in await org_domains(db):
        raise Invalid(_("The address must be in one of the organisation's domains."))
    if capacity is not None and not 0 < capacity <= 100_000:
        raise Invalid(_("The capacity is a number of seats."))
    if await person_by_email(db, address) is not None or await by_address(db, address) is not None:
        raise Conflict(_("This address is already taken."))
    collection = Collection(
        org_id=admin.org_id,
        kind=CollectionKind.CALENDAR,
        purpose=Purpose.RESOURCE,
        slug=uuid.uuid4().hex,
        name=name,
        address=address,
        components="VEVENT",
        resource_kind=kind,
        capacity=capacity if kind == ROOM else None,
    )
    db.add(collection)
    await db.flush()
    return _info(collection)


async def remove(db: AsyncSession, admin: Principal, resource_id: uuid.UUID) -> None:
    require_admin(admin)
    collection = await db.get(Collection, resource_id)
    if collection is None or collection.purpose != Purpose.RESOURCE:
        raise NotFound(_("No such resource."))
    await db.delete(collection)
    await db.flush()


async def by_address(db: AsyncSession, address: str) -> Collection | None:
    return await db.scalar(
        select(Collection).where(Collection.purpose == Purpose.RESOURCE, Collection.address == clean_email(address))
    )


def _spans(calendar: icalendar.Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of an event that hold a resource: not cancelled, not transparent."""
    text = calendar.to_ical().decode()
    spans = []
    for occurrence in ical.occurrences(text, start, end)[:MAX_CHECKED]:
        if ical.holds_time(occurrence):
            spans.append((as_utc(occurrence.start), as_utc(occurrence.end)))
    return spans


async def book(db: AsyncSession, resource: Collection, calendar: icalendar.Calendar, uid: str) -> str:
    """Answer an invitation for the resource: ``ACCEPTED`` (the event is now in its
    calendar) when every occurrence in the next two years is free, ``DECLINED`` (and any
    earlier booking of this event dropped) on a conflict."""
    reach = Reach(resource)
    now = utcnow()
    wanted = _spans(calendar, now - timedelta(days=1), now + HORIZON)
    existing = await objects.by_uid(db, reach, uid)
    for start, end in wanted:
        for other in await objects.overlapping(db, reach, start, end):
            if other.uid != uid and any(s < end and start < e for s, e in _spans(ical.parse(other.data), start, end)):
                if existing is not None:
                    await objects.remove(db, reach, existing.name)
                return "DECLINED"
    text = calendar.to_ical().decode()
    if existing is None:
        await objects.put(db, reach, f"{uuid.uuid4()}.ics", text)
    else:
        await objects.put(db, reach, existing.name, text, if_match=existing.etag)
    return "ACCEPTED"


async def release(db: AsyncSession, resource: Collection, uid: str) -> None:
    """The event no longer wants the resource (cancelled, or the resource removed from it)."""
    existing = await objects.by_uid(db, Reach(resource), uid)
    if existing is not None:
        await objects.remove(db, Reach(resource), existing.name)
