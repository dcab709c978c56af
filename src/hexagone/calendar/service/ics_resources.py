"""An .ics file (an import, a subscribed feed) cut into calendar object resources, as
CalDAV stores them: one per UID."""

from __future__ import annotations

import uuid
from typing import Any

import icalendar

from hexagone.calendar.service.agenda import PRODID
from hexagone.core.i18n import _


def split(source: icalendar.Calendar) -> tuple[dict[str, icalendar.Calendar], list[str]]:
    """An .ics file's events and tasks as calendar object resources, one per UID (its
    overrides with it, and the time zones it names), and what cannot be one ("<uid>:
    <reason>")."""
    zones = {str(z["TZID"]): z for z in source.walk("VTIMEZONE") if "TZID" in z}
    by_uid: dict[str, list[Any]] = {}
    for component in source.subcomponents:
        if component.name in ("VEVENT", "VTODO"):
            by_uid.setdefault(str(component.get("UID", "")) or f"{uuid.uuid4()}@import", []).append(component)
    resources: dict[str, icalendar.Calendar] = {}
    refused: list[str] = []
    for uid, components in by_uid.items():
        if any(c.name == "VEVENT" and "DTSTART" not in c for c in components):
            refused.append(f"{uid[:100]}: " + _("An event without a start (DTSTART) is not imported."))
            continue
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        named = {
            str(c[key].params.get("TZID"))
            for c in components
            for key in ("DTSTART", "DTEND", "RECURRENCE-ID")
            if key in c and c[key].params.get("TZID")
        }
        for tzid in sorted(named):
            if tzid in zones:
                calendar.add_component(zones[tzid])
        for component in components:
            if "UID" not in component:
                component.add("uid", uid)
            calendar.add_component(component)
        resources[uid] = calendar
    return resources, refused
