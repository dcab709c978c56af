"""Creating and changing collections: MKCALENDAR (RFC 4791 5.3.1), extended MKCOL for
address books and calendars (RFC 5689, RFC 6352 6.3.1) and PROPPATCH (RFC 4918 9.2) of
the properties a person sets: name, colour, description, time zone.

PROPPATCH is all or nothing: one property that cannot be set fails with 403 and the
others with 424 Failed Dependency, and nothing is changed."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import icalendar
from starlette.responses import Response

from hexagone.calendar.dav.context import Context
from hexagone.calendar.dav.namespaces import APPLE, CALDAV, CARDDAV
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections
from hexagone.core import policy
from hexagone.core.dav import xml
from hexagone.core.dav.bodies import property_update
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.exceptions import Conflict, Invalid
from hexagone.core.i18n import _

SETTABLE = {
    tag(DAV, "displayname"): "name",
    tag(APPLE, "calendar-color"): "color",
    tag(CALDAV, "calendar-description"): "description",
    tag(CARDDAV, "addressbook-description"): "description",
    tag(CALDAV, "calendar-timezone"): "timezone",
    tag(CALDAV, "schedule-calendar-transp"): "transparent",  # RFC 6638 9.1
}
_COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL")


def _values(properties: list[Element]) -> tuple[dict[str, str], list[str], list[Element]]:
    """The settings named by property elements being set, and the properties we cannot set."""
    values: dict[str, str] = {}
    refused: list[str] = []
    extra: list[Element] = []
    for child in properties:
        field = SETTABLE.get(child.tag)
        if field is None:
            if child.tag in (tag(DAV, "resourcetype"), tag(CALDAV, "supported-calendar-component-set")):
                extra.append(child)
            else:
                refused.append(child.tag)
            continue
        value = "".join(child.itertext()).strip()
        if field == "color":
            value = value if len(value) in (7, 9) else value[:7]
        if field == "timezone":
            value = _tzid(value)
        if field == "transparent":
            value = "1" if child.find(tag(CALDAV, "transparent")) is not None else ""
        values[field] = value
    return values, refused, extra


def _tzid(text: str) -> str:
    """The TZID of the VTIMEZONE in a calendar-timezone property (RFC 4791 5.2.2)."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
        zones = list(calendar.walk("VTIMEZONE"))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise DavError(
            403, _("The time zone is not valid iCalendar data."), tag(CALDAV, "valid-calendar-data")
        ) from exc
    if len(zones) != 1 or not zones[0].get("TZID"):
        raise DavError(403, _("The time zone holds exactly one VTIMEZONE."), tag(CALDAV, "valid-calendar-data"))
    return str(zones[0]["TZID"])


def _settings(values: dict[str, str]) -> dict[str, Any]:
    """The values of :func:`_values` as :func:`collections.change` takes them."""
    return {k: bool(v) if k == "transparent" else v for k, v in values.items()}


async def mkcalendar(ctx: Context) -> Response:
    root = xml.parse(ctx.body, tag(CALDAV, "mkcalendar"))
    return await _make(ctx, root, CollectionKind.CALENDAR)


async def mkcol(ctx: Context) -> Response:
    """Extended MKCOL: the resourcetype says calendar or address book; a plain MKCOL makes
    the kind of collection of the home it is in."""
    root = xml.parse(ctx.body, tag(DAV, "mkcol"))
    kind = CollectionKind.CALENDAR if ctx.target.home == "calendars" else CollectionKind.ADDRESS_BOOK
    if root is not None:
        for resourcetype in root.iter(tag(DAV, "resourcetype")):
            types = {child.tag for child in resourcetype}
            if tag(CALDAV, "calendar") in types:
                kind = CollectionKind.CALENDAR
            elif tag(CARDDAV, "addressbook") in types:
                kind = CollectionKind.ADDRESS_BOOK
            else:
                raise DavError(
                    403, _("Only calendars and address books can be created here."), tag(DAV, "valid-resourcetype")
                )
    return await _make(ctx, root, kind)


async def _make(ctx: Context, root: Element | None, kind: str) -> Response:
    target = ctx.target
    if target.kind != "missing":
        raise DavError(405, _("Something already exists at this address."))
    if (kind == CollectionKind.CALENDAR) != (target.home == "calendars"):
        raise DavError(
            403,
            _("Calendars go in the calendar home, address books in the address book home."),
            tag(DAV, "valid-resourcetype"),
        )
    sets = [
        child
        for s in (root.findall(tag(DAV, "set")) if root is not None else [])
        for prop in s.findall(tag(DAV, "prop"))
        for child in prop
    ]
    values, refused, extra = _values(sets)
    if refused:
        raise DavError(403, _("These properties cannot be set: {names}").format(names=", ".join(refused)))
    components: tuple[str, ...] = _COMPONENTS
    for element in extra:
        if element.tag == tag(CALDAV, "supported-calendar-component-set"):
            components = tuple(str(c.get("name", "")).upper() for c in element.findall(tag(CALDAV, "comp")))
            if not components or any(c not in _COMPONENTS for c in components):
                raise DavError(
                    403,
                    _("Calendars hold events, tasks and journal entries."),
                    tag(CALDAV, "supported-calendar-component"),
                )
    if ctx.principal.is_guest:
        raise DavError(403, _("Guests have no calendars of their own."), tag(DAV, "need-privileges"))
    try:
        created = await collections.create(
            ctx.db,
            ctx.principal,
            kind,
            name=values.get("name") or target.segment,
            slug=target.segment,
            color=values.get("color") or "#3465a4",
            description=values.get("description", ""),
            components=components,
        )
        later = {k: v for k, v in values.items() if k in ("timezone", "transparent") and v}
        if later:
            await collections.change(ctx.db, ctx.principal, created.id, **_settings(later))
    except Conflict as exc:
        raise DavError(405, str(exc)) from exc
    except Invalid as exc:
        raise DavError(403, str(exc)) from exc
    await ctx.db.commit()
    return Response(status_code=201)


async def proppatch(ctx: Context) -> Response:
    target = ctx.target
    changes = property_update(xml.parse(ctx.body, tag(DAV, "propertyupdate")))
    sets = [change.element for change in changes if change.element is not None]
    removes = [change.name for change in changes if change.element is None]
    names = [change.name for change in changes]
    allowed = target.kind == "collection" and target.reach is not None
    if allowed:
        assert target.reach is not None
        allowed = bool(policy.abilities(ctx.principal, target.reach).get("manage"))
    values, refused, extra = _values(sets)
    refused += [e.tag for e in extra] + [n for n in removes if SETTABLE.get(n) not in ("description",)]
    if not allowed or refused:
        bad = set(names) if not allowed else set(refused)
        found: dict[str, int] = {n: (403 if n in bad else 424) for n in names}
        parts = "".join(
            f"<D:propstat><D:prop>{xml.element(n)}</D:prop>{xml.status(code)}</D:propstat>" for n, code in found.items()
        )
        return xml.multistatus([xml.response(target.path, parts)])
    for name in removes:
        values[SETTABLE[name]] = ""
    assert target.reach is not None
    try:
        await collections.change(ctx.db, ctx.principal, target.reach.collection.id, **_settings(values))
    except Invalid as exc:
        raise DavError(403, str(exc)) from exc
    await ctx.db.commit()
    body = "".join(xml.element(n) for n in names)
    return xml.multistatus(
        [xml.response(target.path, f"<D:propstat><D:prop>{body}</D:prop>{xml.status(200)}</D:propstat>")]
    )
