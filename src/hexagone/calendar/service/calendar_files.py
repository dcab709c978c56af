"""Calendars as files: importing an .ics into a calendar (one resource per UID), exporting
a calendar as one .ics, and subscribing to an ICS feed. Through the same policy and store
as every other write (:mod:`agenda`, :mod:`objects`)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import icalendar
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, feeds, objects
from hexagone.calendar.service.agenda import PRODID, resource_name
from hexagone.calendar.service.ics_resources import split
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Invalid
from hexagone.core.i18n import _

MAX_IMPORT_EVENTS = 5000


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int
    refused: tuple[str, ...]  # "<uid>: <reason>", for what was not stored


async def import_ics(db: AsyncSession, principal: Principal, calendar_id: uuid.UUID, data: bytes) -> Imported:
    """Store every event of an .ics file in the calendar, one resource per UID (its
    overrides with it, and the time zones it names); an event already there (same UID)
    is replaced. A malformed file is refused whole; an event the store refuses is listed."""
    reach = await collections.reach(db, principal, calendar_id, "write")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file is not UTF-8 text.")) from None
    try:
        source = ical.parse(text)
    except ical.InvalidCalendarData as exc:
        raise Invalid(str(exc)) from exc
    resources, refused = split(source)
    if len(resources) > MAX_IMPORT_EVENTS:
        raise Invalid(_("The file holds more than {n} events.").format(n=MAX_IMPORT_EVENTS))
    created = updated = 0
    for uid, calendar in resources.items():
        existing = await objects.by_uid(db, reach, uid)
        try:  # the store refuses (Invalid, Conflict) before it writes anything
            await objects.put(
                db, reach, existing.name if existing else resource_name(uid), str(calendar.to_ical().decode())
            )
        except (Invalid, Conflict) as exc:
            refused.append(f"{uid[:100]}: {exc.message}")
            continue
        if existing:
            updated += 1
        else:
            created += 1
    return Imported(created=created, updated=updated, refused=tuple(refused))


async def export_ics(db: AsyncSession, principal: Principal, calendar_id: uuid.UUID) -> tuple[str, str]:
    """The calendar as one .ics (every resource's components, each time zone once): its
    file name and its text."""
    reach = await collections.reach(db, principal, calendar_id, "view")
    out = icalendar.Calendar()
    out.add("prodid", PRODID)
    out.add("version", "2.0")
    out.add("x-wr-calname", reach.collection.name)
    zones: dict[str, Any] = {}
    items: list[Any] = []
    for info in await objects.listing(db, reach):
        stored = await objects.get(db, reach, info.name)
        try:
            calendar = ical.parse(stored.data)
        except ical.InvalidCalendarData:
            continue
        for component in calendar.subcomponents:
            if component.name == "VTIMEZONE":
                zones.setdefault(str(component.get("TZID", "")), component)
            else:
                items.append(component)
    for component in [*zones.values(), *items]:
        out.add_component(component)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", reach.collection.name).strip("-") or "calendar"
    return f"{slug[:60]}.ics", str(out.to_ical().decode())


async def subscribe(
    db: AsyncSession, principal: Principal, *, url: str, name: str, color: str = "#3465a4"
) -> collections.CollectionInfo:
    """A read-only calendar mirroring an ICS feed: its URL is kept on the calendar, and a
    job fetches the feed now and every few hours (:mod:`.feeds`)."""
    url = url.strip()
    if not url.startswith(("https://", "http://", "webcal://")) or len(url) > 2000 or any(c.isspace() for c in url):
        raise Invalid(_("Give the address of the calendar feed (https://…)."))
    created = await collections.create(db, principal, CollectionKind.CALENDAR, name=name, color=color)
    reach = await collections.reach(db, principal, created.id, "manage")
    reach.collection.subscription_url = "https://" + url[len("webcal://") :] if url.startswith("webcal://") else url
    await db.flush()
    feeds.schedule(db, reach.collection)
    return collections.info(principal, reach)
