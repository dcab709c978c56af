"""What a scheduling test reads back: a user's copy of an event, the messages of their
scheduling inbox, and the parameters of one calendar user in an event."""

from __future__ import annotations

from typing import Any

import icalendar

from hexagone.calendar import ical
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, inbox, itip, objects
from hexagone.core.db import org_session
from tests.factories import TestUser, principal


async def copy_of(user: TestUser, uid: str) -> icalendar.Calendar | None:
    """The event with ``uid`` in one of the calendars ``user`` reads, None if none."""
    me = await principal(user)
    async with org_session(me.org_id) as db:
        for reach in await collections.visible(db, me, CollectionKind.CALENDAR):
            found = await objects.by_uid(db, reach, uid)
            if found is not None:
                return ical.parse(found.data)
    return None


async def inbox_of(user: TestUser) -> list[icalendar.Calendar]:
    """The iTIP messages in ``user``'s scheduling inbox, oldest first."""
    me = await principal(user)
    async with org_session(me.org_id) as db:
        names = [m.name for m in await inbox.listing(db, me)]
        found = {m.name: m for m in await inbox.many(db, me, names)}
    return [ical.parse(found[n].data) for n in names]


def prop_of(calendar: icalendar.Calendar, address: str, key: str = itip.MASTER) -> Any:
    """The ATTENDEE (or ORGANIZER) property of ``address`` in the occurrence ``key``."""
    for component in itip.components(calendar):
        if itip.instance_key(component) != key:
            continue
        for prop in [*ical.as_list(component.get("ATTENDEE")), component.get("ORGANIZER")]:
            if ical.mailto_address(prop) == address:
                return prop
    raise AssertionError(f"{address} is not in occurrence {key!r}")


def keys(calendar: icalendar.Calendar) -> list[str]:
    """The occurrences a calendar object describes (MASTER is "")."""
    return [itip.instance_key(c) for c in itip.components(calendar)]


def attendee_props(calendar: icalendar.Calendar) -> list[Any]:
    """Every ATTENDEE property of every occurrence."""
    return [prop for c in itip.components(calendar) for prop in ical.as_list(c.get("ATTENDEE"))]
