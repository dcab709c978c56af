"""Bringing calendars and address books in, and writing them out as files: an ``.ics``
file split into one resource per UID (its time zones with it), a ``.vcf`` file split
into cards, and what another CalDAV/CardDAV server holds, read over the network — the
``caldav`` library for calendars, a PROPFIND and an ``addressbook-query`` REPORT (httpx)
for address books, since ``caldav`` speaks no CardDAV.

Everything goes through :mod:`objects` (the same checks as a CalDAV PUT); an object
whose UID is already in the target collection is replaced, so running an import twice
changes nothing the second time.
"""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import icalendar
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Collection, CollectionKind, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import contacts, objects
from hexagone.calendar.service.contacts_vcard import split
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _

Progress = Callable[[str, int, int], None]  # (collection, done, total)
DAV, CARD = "DAV:", "urn:ietf:params:xml:ns:carddav"
CALDAV = "urn:ietf:params:xml:ns:caldav"


@dataclass
class Report:
    """What an import did, per collection: ``{slug: (created, updated)}``."""

    collections: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(c for c, _u in self.collections.values())

    @property
    def updated(self) -> int:
        return sum(u for _c, u in self.collections.values())


# --------------------------------------------------------------------------- iCalendar files


def split_ics(text: str) -> list[str]:
    """One VCALENDAR per UID (the master and its overrides together), each with the
    VTIMEZONEs it names, without a METHOD (a stored object has none)."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise Invalid(_("This is not valid iCalendar data: {reason}").format(reason=exc)) from exc
    zones = {str(z.get("tzid")): z for z in calendar.walk("VTIMEZONE")}
    groups: dict[str, list[icalendar.cal.Component]] = {}
    for component in calendar.subcomponents:
        if component.name in ("VEVENT", "VTODO", "VJOURNAL"):
            uid = str(component.get("uid") or "") or str(uuid.uuid4())
            component["uid"] = uid
            groups.setdefault(uid, []).append(component)
    if not groups:
        raise Invalid(_("The file holds no event or task."))
    found = []
    for parts in groups.values():
        single = icalendar.Calendar()
        single.add("prodid", str(calendar.get("prodid") or "-//Hexagone//Calendar//FR"))
        single.add("version", "2.0")
        texts = b"".join(p.to_ical() for p in parts).decode()
        for tzid, zone in zones.items():
            if f"TZID={tzid}" in texts or f'TZID="{tzid}"' in texts:
                single.add_component(zone)
        for part in parts:
            single.add_component(part)
        found.append(single.to_ical().decode())
    return found


def join_ics(texts: list[str], name: str) -> str:
    """Stored objects as one ``.ics`` file (time zones once each)."""
    joined = icalendar.Calendar()
    joined.add("prodid", "-//Hexagone//Calendar//FR")
    joined.add("version", "2.0")
    joined.add("x-wr-calname", name)
    zones: set[str] = set()
    for text in texts:
        for component in icalendar.Calendar.from_ical(text).subcomponents:
            if component.name == "VTIMEZONE":
                if str(component.get("tzid")) in zones:
                    continue
                zones.add(str(component.get("tzid")))
            joined.add_component(component)
    return joined.to_ical().decode()


def resource_name(uid: str, suffix: str) -> str:
    return contacts.resource_name(uid).removesuffix(".vcf") + suffix


async def store_all(
    db: AsyncSession, reach: Reach, texts: list[str], progress: Progress | None = None
) -> tuple[int, int]:
    """Store each resource (replacing one with the same UID); (created, updated)."""
    suffix = ".vcf" if reach.collection.kind == CollectionKind.ADDRESS_BOOK else ".ics"
    created = updated = 0
    for done, text in enumerate(texts, 1):
        uid = _uid_of(text, suffix)
        existing = await objects.by_uid(db, reach, uid)
        name = existing.name if existing is not None else resource_name(uid, suffix)
        _info, was_created = await objects.put(db, reach, name, text)
        created += was_created
        updated += not was_created
        if progress is not None and (done % 50 == 0 or done == len(texts)):
            progress(reach.collection.slug, done, len(texts))
    return created, updated


def _uid_of(text: str, suffix: str) -> str:
    if suffix == ".vcf":
        return str(contacts.parse_one(text).uid.value).strip()
    calendar = icalendar.Calendar.from_ical(text)
    return next(str(c.get("uid")) for c in calendar.subcomponents if c.get("uid"))


async def target(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, kind: str, slug: str, name: str | None = None
) -> Reach:
    """The user's collection ``slug`` of ``kind``, created when missing. The caller commits."""
    found = await db.scalar(
        select(Collection).where(Collection.owner_id == user_id, Collection.kind == kind, Collection.slug == slug)
    )
    if found is None:
        found = Collection(
            org_id=org_id,
            kind=kind,
            purpose=Purpose.PERSONAL,
            owner_id=user_id,
            slug=slug,
            name=(name or slug)[:200],
            components="VEVENT,VTODO" if kind == CollectionKind.CALENDAR else "",
        )
        db.add(found)
        await db.flush()
    return Reach(found)


def texts_of_file(data: bytes, filename: str) -> tuple[str, list[str]]:
    """(kind, resources) of an ``.ics`` or ``.vcf`` file's bytes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file is not UTF-8 text.")) from None
    lower = filename.lower()
    if lower.endswith(".vcf") or text.lstrip().upper().startswith("BEGIN:VCARD"):
        return CollectionKind.ADDRESS_BOOK, split(text)
    if lower.endswith(".ics") or text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        return CollectionKind.CALENDAR, split_ics(text)
    raise Invalid(_("Import an .ics (calendar) or .vcf (contacts) file."))


# --------------------------------------------------------------------------- remote servers


@dataclass(frozen=True)
class Remote:
    """A collection found on another server: its URL, kind, name and resources."""

    url: str
    kind: str
    slug: str
    name: str
    texts: list[str]


def _slug(url: str) -> str:
    last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in last).strip("-.")[:100]
    return cleaned or uuid.uuid4().hex


_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:resourcetype/><d:displayname/></d:prop></d:propfind>"
)
_CARDS = (
    '<?xml version="1.0" encoding="utf-8"?><c:addressbook-query xmlns:d="DAV:" '
    'xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop></c:addressbook-query>'
)


def _collections(base: str, body: bytes) -> list[tuple[str, str, str]]:
    """(url, kind, display name) of each calendar or address book in a PROPFIND answer."""
    found: list[tuple[str, str, str]] = []
    for response in fromstring(body).iter(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href") or ""
        types = response.find(f".//{{{DAV}}}resourcetype")
        if types is None:
            continue
        name = response.findtext(f".//{{{DAV}}}displayname") or ""
        if types.find(f"{{{CALDAV}}}calendar") is not None:
            found.append((urljoin(base, href), CollectionKind.CALENDAR, name))
        elif types.find(f"{{{CARD}}}addressbook") is not None:
            found.append((urljoin(base, href), CollectionKind.ADDRESS_BOOK, name))
    return found


async def discover(client: httpx.AsyncClient, url: str) -> list[tuple[str, str, str]]:
    """The collections at ``url``: itself when it is one, else those one level below."""
    for depth in ("0", "1"):
        response = await client.request("PROPFIND", url, content=_PROPFIND, headers={"Depth": depth})
        if response.status_code in (401, 403):
            raise Invalid(_("The server refused these credentials."))
        if response.status_code != 207:
            raise Invalid(
                _("The server did not answer as a CalDAV or CardDAV server ({status}).").format(
                    status=response.status_code
                )
            )
        try:
            found = _collections(url, response.content)
        except ET.ParseError as exc:
            raise Invalid(_("The server's answer is not XML: {reason}").format(reason=exc)) from exc
        if found:
            return found
    return []


async def _cards(client: httpx.AsyncClient, url: str) -> list[str]:
    response = await client.request("REPORT", url, content=_CARDS, headers={"Depth": "1"})
    if response.status_code != 207:
        raise Invalid(_("The server did not list the address book ({status}).").format(status=response.status_code))
    return [data.text for data in fromstring(response.content).iter(f"{{{CARD}}}address-data") if data.text]


def _events(url: str, username: str, password: str) -> list[str]:
    """Every object of a calendar, read with the ``caldav`` library (blocking: in a thread)."""
    from caldav.davclient import DAVClient  # the client library costs its import only to this command
    from caldav.lib import error

    try:
        client = DAVClient(url=url, username=username or None, password=password or None, timeout=60)
        try:
            calendar = client.calendar(url=url)
            found = [*calendar.events(), *calendar.todos(include_completed=True)]
            return [str(o.data) for o in found]
        finally:
            client.close()
    except error.DAVError as exc:
        raise Invalid(_("The CalDAV server refused to list {url}: {reason}").format(url=url, reason=exc)) from exc


async def fetch(url: str, username: str, password: str, progress: Progress | None = None) -> list[Remote]:
    """Every calendar and address book at ``url`` (a collection, or a home holding some)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise Invalid(_("Give an http:// or https:// address."))
    auth = httpx.BasicAuth(username, password) if username else None
    found = []
    try:
        async with httpx.AsyncClient(auth=auth, timeout=60, follow_redirects=True) as client:
            for collection_url, kind, name in await discover(client, url):
                if kind == CollectionKind.ADDRESS_BOOK:
                    texts = "".join(await _cards(client, collection_url))
                    resources = split(texts) if texts.strip() else []
                else:
                    resources = [
                        one
                        for text in await asyncio.to_thread(_events, collection_url, username, password)
                        for one in split_ics(text)
                    ]
                slug = _slug(collection_url)
                if progress is not None:
                    progress(slug, 0, len(resources))
                found.append(Remote(collection_url, kind, slug, name or slug, resources))
    except httpx.HTTPError as exc:
        raise Invalid(_("Could not reach {url}: {reason}").format(url=url, reason=exc)) from exc
    if not found:
        raise Invalid(_("No calendar or address book at {url}.").format(url=url))
    return found
