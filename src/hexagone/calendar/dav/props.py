"""The live properties of every node of the DAV tree (RFC 4918 15, RFC 3744 5, RFC 4791
5.2 and 6.2, RFC 6352 6 and 7.1, RFC 6578 4, RFC 5397, CalendarServer's getctag, Apple's
calendar-color), computed from what the service already loaded: no query per property.

A node's properties are a dict ``{clark name: inner XML}``; PROPFIND and the REPORTs
pick what the client asked for and list the rest as 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime

import icalendar

from hexagone.calendar.dav import targets
from hexagone.calendar.dav.namespaces import APPLE, CALDAV, CARDDAV, CS
from hexagone.calendar.models import CollectionKind, Purpose
from hexagone.calendar.policy import INBOX, OUTBOX, Reach
from hexagone.calendar.service.objects import MAX_RESOURCE_BYTES, ObjectEntry
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.dav.xml import DAV, element, href, tag, text

SYNC_TOKEN_PREFIX = "urn:hexagone:sync:"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
VCARD_TYPE = "text/vcard; charset=utf-8"

# Not sent for allprop (RFC 4918 9.1: a server need not return computed or large ones).
NOT_IN_ALLPROP = frozenset(
    {
        tag(CALDAV, "calendar-timezone"),
        tag(DAV, "supported-report-set"),
        tag(DAV, "current-user-privilege-set"),
        tag(CALDAV, "supported-calendar-data"),
        tag(CARDDAV, "supported-address-data"),
        tag(CALDAV, "schedule-tag"),  # RFC 6638 9.3: SHOULD NOT be returned for allprop
    }
)

_REPORTS: dict[str, tuple[str, ...]] = {
    CollectionKind.CALENDAR: (
        tag(CALDAV, "calendar-query"),
        tag(CALDAV, "calendar-multiget"),
        tag(CALDAV, "free-busy-query"),
        tag(DAV, "sync-collection"),
    ),
    CollectionKind.ADDRESS_BOOK: (
        tag(CARDDAV, "addressbook-query"),
        tag(CARDDAV, "addressbook-multiget"),
        tag(DAV, "sync-collection"),
    ),
}


@dataclass(frozen=True)
class Node:
    """One resource of the tree as a multistatus describes it."""

    path: str
    kind: str  # root, principals, principal, home, collection, object
    home: str = ""
    reach: Reach | None = None
    obj: ObjectEntry | None = None


def sync_token(reach: Reach) -> str:
    return f"{SYNC_TOKEN_PREFIX}{reach.collection.id.hex}:{reach.collection.sync_seq}"


def privileges(principal: Principal, reach: Reach | None, home: bool = False) -> str:
    """DAV:current-user-privilege-set from the policy's abilities (RFC 3744 5.4)."""
    names: list[str] = []
    if reach is None:
        names = ["read"] + (["bind", "unbind"] if home and not principal.is_guest else [])
        return "".join(f"<D:privilege><D:{n}/></D:privilege>" for n in names)
    abilities = policy.abilities(principal, reach)
    if abilities.get("view"):
        names.append("read")
    if abilities.get("write"):
        names += ["write-content", "bind", "unbind"]
    if abilities.get("manage"):
        names += ["write-properties", "write"] if abilities.get("write") else ["write-properties"]
    out = "".join(f"<D:privilege><D:{n}/></D:privilege>" for n in names)
    if reach.collection.kind == CollectionKind.CALENDAR and abilities.get("freebusy"):
        out += "<D:privilege><C:read-free-busy/></D:privilege>"
    return out


def _principal_props(principal: Principal) -> dict[str, str]:
    me = href(targets.principal_path(principal))
    return {
        tag(DAV, "current-user-principal"): me,
        tag(DAV, "principal-URL"): me,
        tag(CALDAV, "calendar-home-set"): href(targets.home_path(principal, "calendars")),
        tag(CARDDAV, "addressbook-home-set"): href(targets.home_path(principal, "addressbooks")),
        tag(CALDAV, "calendar-user-address-set"): href(f"mailto:{principal.email}") + me,
        tag(CALDAV, "calendar-user-type"): "INDIVIDUAL",
        tag(DAV, "principal-collection-set"): href(f"{targets.ROOT}principals/"),
        tag(CALDAV, "schedule-inbox-URL"): href(targets.mailbox_path(principal, INBOX)),
        tag(CALDAV, "schedule-outbox-URL"): href(targets.mailbox_path(principal, OUTBOX)),
    }


def properties(principal: Principal, node: Node) -> dict[str, str]:
    """Every live property of ``node`` for ``principal``, as inner XML."""
    me = href(targets.principal_path(principal))
    if node.kind == "object":
        return _object_props(node)
    if node.kind == "collection":
        assert node.reach is not None
        return _collection_props(principal, node.reach, me)
    props = {
        tag(DAV, "resourcetype"): "<D:collection/>",
        tag(DAV, "current-user-principal"): me,
    }
    if node.kind == "principal":
        props[tag(DAV, "resourcetype")] = "<D:principal/>"
        props[tag(DAV, "displayname")] = text(principal.display_name)
        props.update(_principal_props(principal))
        props[tag(DAV, "current-user-privilege-set")] = privileges(principal, None)
        props[tag(DAV, "supported-report-set")] = ""
    elif node.kind == "root":
        props.update(_principal_props(principal))
        props[tag(DAV, "displayname")] = "Hexagone"
    elif node.kind == "home":
        props[tag(DAV, "displayname")] = text(principal.display_name)
        props[tag(DAV, "owner")] = me
        props[tag(DAV, "current-user-privilege-set")] = privileges(principal, None, home=True)
    return props


def _collection_props(principal: Principal, reach: Reach, me: str) -> dict[str, str]:
    collection = reach.collection
    calendar = collection.kind == CollectionKind.CALENDAR
    kind = "<C:calendar/>" if calendar else "<CR:addressbook/>"
    props = {
        tag(DAV, "resourcetype"): "<D:collection/>" + kind,
        tag(DAV, "displayname"): text(collection.name),
        tag(DAV, "current-user-principal"): me,
        tag(DAV, "current-user-privilege-set"): privileges(principal, reach),
        tag(DAV, "supported-report-set"): "".join(
            f"<D:supported-report><D:report>{element(r)}</D:report></D:supported-report>"
            for r in _REPORTS[collection.kind]
        ),
        tag(DAV, "sync-token"): sync_token(reach),
        tag(CS, "getctag"): str(collection.sync_seq),
        tag(DAV, "getlastmodified"): format_datetime(collection.updated_at, usegmt=True),
    }
    if collection.purpose == Purpose.PERSONAL and collection.owner_id == principal.user_id:
        props[tag(DAV, "owner")] = me
    if calendar:
        components = [c for c in collection.components.split(",") if c]
        props[tag(CALDAV, "calendar-description")] = text(collection.description)
        props[tag(CALDAV, "supported-calendar-component-set")] = "".join(f'<C:comp name="{c}"/>' for c in components)
        props[tag(CALDAV, "supported-calendar-data")] = '<C:calendar-data content-type="text/calendar" version="2.0"/>'
        props[tag(CALDAV, "max-resource-size")] = str(MAX_RESOURCE_BYTES)
        props[tag(APPLE, "calendar-color")] = text(collection.color)
        props[tag(CALDAV, "schedule-calendar-transp")] = "<C:transparent/>" if collection.transparent else "<C:opaque/>"
        if timezone := _timezone(collection.timezone):
            props[tag(CALDAV, "calendar-timezone")] = text(timezone)
    else:
        props[tag(CARDDAV, "addressbook-description")] = text(collection.description)
        props[tag(CARDDAV, "supported-address-data")] = (
            '<CR:address-data-type content-type="text/vcard" version="3.0"/>'
            '<CR:address-data-type content-type="text/vcard" version="4.0"/>'
        )
        props[tag(CARDDAV, "max-resource-size")] = str(MAX_RESOURCE_BYTES)
    return props


@functools.lru_cache(maxsize=64)
def _timezone(tzid: str) -> str:
    """A VCALENDAR holding the VTIMEZONE of ``tzid`` (RFC 4791 5.2.2), "" if unknown."""
    try:
        zone = icalendar.Timezone.from_tzid(tzid)
    except (ValueError, KeyError):
        return ""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hexagone//CalDAV//FR")
    calendar.add("version", "2.0")
    calendar.add_component(zone)
    return calendar.to_ical().decode()


def content_type(obj: ObjectEntry) -> str:
    if obj.component == "VCARD":
        return VCARD_TYPE
    return f"text/calendar; charset=utf-8; component={obj.component.lower()}"


# A resource's properties, one function each: a listing of 10,000 asks for one or two.
# None: the resource has no such property (404 in the multistatus).
OBJECT_PROPS: dict[str, Callable[[ObjectEntry], str | None]] = {
    tag(DAV, "getetag"): lambda obj: f"&quot;{obj.etag}&quot;",  # hex digits: nothing else to escape
    tag(DAV, "getcontenttype"): lambda obj: content_type(obj),
    tag(DAV, "getcontentlength"): lambda obj: str(obj.size),
    tag(DAV, "resourcetype"): lambda obj: "",
    # RFC 6638 9.3: scheduling object resources only; hex digits too.
    tag(CALDAV, "schedule-tag"): lambda obj: f"&quot;{obj.schedule_tag}&quot;" if obj.schedule_tag else None,
}


def _object_props(node: Node) -> dict[str, str]:
    obj = node.obj
    assert obj is not None
    return {name: found for name, value in OBJECT_PROPS.items() if (found := value(obj)) is not None}
