"""free-busy-query (RFC 4791 7.10): a VFREEBUSY of the calendar's events over a range,
for whoever may see its free/busy (a share of level ``freebusy`` is enough)."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element

import icalendar
from starlette.responses import Response

from hexagone.calendar import ical
from hexagone.calendar.dav import filters
from hexagone.calendar.dav.context import Context
from hexagone.calendar.dav.errors import too_many_instances
from hexagone.calendar.dav.namespaces import CALDAV
from hexagone.calendar.service import objects
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import tag
from hexagone.core.i18n import _


def merge(periods: list[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime, str]]:
    """Overlapping periods of one type joined, sorted."""
    merged: list[tuple[datetime, datetime, str]] = []
    for kind in ("BUSY", "BUSY-TENTATIVE"):
        current: list[tuple[datetime, datetime, str]] = []
        for start, end, _kind in sorted(p for p in periods if p[2] == kind):
            if current and start <= current[-1][1]:
                current[-1] = (current[-1][0], max(end, current[-1][1]), kind)
            else:
                current.append((start, end, kind))
        merged += current
    return merged


async def free_busy_query(ctx: Context, root: Element) -> Response:
    reach = ctx.require("freebusy")
    bounds = filters.time_range(root.find(tag(CALDAV, "time-range")))
    start, end = bounds or (None, None)
    if start is None or end is None:
        raise DavError(400, _("A free/busy query needs a time range with a start and an end."))
    periods: list[tuple[datetime, datetime, str]] = []
    for stored in await objects.overlapping(ctx.db, reach, start, end, component="VEVENT"):
        try:
            periods += ical.busy(stored.data, start, end)
        except ical.TooManyInstances as exc:
            raise too_many_instances() from exc
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hexagone//CalDAV//FR")
    calendar.add("version", "2.0")
    component = icalendar.FreeBusy()
    component.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    component.add("dtstart", start)
    component.add("dtend", end)
    for begins, ends, kind in merge(periods):
        component.add("freebusy", [(begins, ends)], parameters={"FBTYPE": kind})
    calendar.add_component(component)
    return Response(calendar.to_ical(), media_type="text/calendar; charset=utf-8")
