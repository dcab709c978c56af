"""Writing a stored iCalendar resource's dates in UTC line by line, without parsing and
serialising the whole resource: what ``calendar-data`` with ``expand`` (RFC 4791 9.6.5)
returns for the resources of a range.

Parsing a 1 KB resource with ``icalendar`` and writing it back costs about two
milliseconds; a one-week REPORT with ``expand`` over a busy calendar returns two hundred
of them. Here only the lines that change are read (``icalendar``'s content-line parser
takes them apart): the dates that carry a TZID (DTSTART, DTEND, DUE, RECURRENCE-ID of each
component), rewritten in UTC; the VTIMEZONE components are left out and every other line
is kept as it was written, folds included. A zone the ``zoneinfo`` database does not know
(a custom VTIMEZONE) or a date that is not a date-time makes these functions answer None:
the caller then takes the general path (:func:`hexagone.calendar.ical.in_utc`).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar.parser import Contentline

# The properties of a component that expand writes in UTC (as the general path does).
DATED = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID")
UTC_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class Line:
    """One content line: unfolded (to read it), as written, folds included (to copy it),
    and its property name in capitals."""

    text: str
    written: str
    name: str


_NAME = re.compile(r"[^;:]*")
_LOCAL_TIME = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)")


@dataclass(frozen=True)
class Layout:
    """A resource as lines: those of the VCALENDAR itself (without its BEGIN and END), and
    each component's, nested ones (VALARM) inside their parent's."""

    head: list[Line]
    components: list[list[Line]]


def lines(text: str) -> list[Line]:
    """The content lines of ``text`` (RFC 5545 3.1: a line that begins with a space or a
    tab continues the one before)."""
    found: list[tuple[str, str]] = []
    for physical in text.split("\n"):
        physical = physical.removesuffix("\r")
        if physical[:1] in (" ", "\t") and found:
            unfolded, written = found[-1]
            found[-1] = (unfolded + physical[1:], f"{written}\r\n{physical}")
        elif physical:
            found.append((physical, physical))
    return [Line(unfolded, written, _NAME.match(unfolded).group().upper()) for unfolded, written in found]  # type: ignore[union-attr]


def layout(text: str) -> Layout | None:
    """The resource's lines by component; None when it is not one VCALENDAR."""
    head: list[Line] = []
    components: list[list[Line]] = []
    depth = 0
    for line in lines(text):
        name = line.name
        if name in ("BEGIN", "END"):
            kind = line.text.partition(":")[2].strip().upper()
            if name == "BEGIN":
                depth += 1
                if depth == 1 and kind != "VCALENDAR":
                    return None
                if depth == 2:
                    components.append([])
            else:
                depth -= 1
                if depth < 0:
                    return None
            if depth >= 2 or (depth == 1 and name == "END"):
                components[-1].append(line)
            continue
        if depth == 1:
            head.append(line)
        elif depth >= 2:
            components[-1].append(line)
        else:
            return None
    return Layout(head, components) if depth == 0 and components else None


def kind(component: list[Line]) -> str:
    return component[0].text.partition(":")[2].strip().upper()


def own_lines(component: list[Line]) -> list[tuple[int, Line]]:
    """The component's own properties (not those of a VALARM inside it), with their index."""
    found, depth = [], 0
    for index, line in enumerate(component[1:-1], start=1):
        name = line.name
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth -= 1
        elif depth == 0:
            found.append((index, line))
    return found


def utc_line(line: Line) -> str | None:
    """The dated property ``line`` in UTC (``DTSTART:20270301T080000Z``), its other
    parameters kept; None when its zone or its value is not for this path."""
    name, params, value = Contentline(line.text).parts()
    tzid = params.pop("TZID", None)
    if tzid is None:
        return line.written
    if str(params.get("VALUE", "DATE-TIME")).upper() != "DATE-TIME":
        return None
    local = _LOCAL_TIME.fullmatch(value)
    if local is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in local.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=zoneinfo.ZoneInfo(str(tzid)))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return str(Contentline.from_parts(name, params, moment.astimezone(UTC).strftime(UTC_FORMAT)))


def utc_component(component: list[Line]) -> list[str] | None:
    """The component's lines, its own dates in UTC; None when one cannot be written so."""
    written = [line.written for line in component]
    for index, line in own_lines(component):
        if line.name in DATED and "TZID" in line.text.upper():
            converted = utc_line(line)
            if converted is None:
                return None
            written[index] = converted
    return written


def in_utc(text: str) -> str | None:
    """The resource with its components' dates in UTC and without VTIMEZONE (what expand
    returns for a resource that does not repeat); None: take the general path."""
    found = layout(text)
    if found is None:
        return None
    parts = ["BEGIN:VCALENDAR", *(line.written for line in found.head)]
    for component in found.components:
        if kind(component) == "VTIMEZONE":
            continue
        converted = utc_component(component)
        if converted is None:
            return None
        parts += converted
    parts.append("END:VCALENDAR")
    return "\r\n".join(parts) + "\r\n"
