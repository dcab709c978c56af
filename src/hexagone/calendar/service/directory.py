"""The organisation's directory as a read-only address book: its active members, its
groups and its rooms, read from identity's face (and the module's resource calendars).

It is **generated on read**, not copied by a job: every listing, search or card asks
identity's face (three short queries) and builds the entries from what it answers, so a
user created or disabled a moment ago is there or gone on the very next request, with
no event to miss and no job to wait for. Guests are not in it.

CardDAV needs more than the present state: ETags and sync tokens. :func:`refresh`
brings the stored objects of the organisation's directory collection in line with the
generated cards (puts the new and changed ones, removes the gone ones, each a sync
change). The CardDAV layer first asks :func:`up_to_date` in a read-only transaction and
calls it only when something changed. An unchanged directory costs the three queries and
one comparison per entry: a card's text and ETag are made once per process for a given
entry (:func:`card_text` and :func:`card_etag` are cached on the frozen entry).
"""

from __future__ import annotations

import functools
import uuid

import vobject
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import objects
from hexagone.calendar.service.contacts_vcard import Contact
from hexagone.core.auth import Principal
from hexagone.core.i18n import _
from hexagone.identity.service import group_members, members, org_groups

SLUG = "directory"
KIND_USER, KIND_GROUP, KIND_ROOM = "individual", "group", "location"


async def _existing(db: AsyncSession) -> Collection | None:
    """The organisation's directory collection (the oldest one if two requests raced to
    create it), if it was made."""
    return (
        await db.execute(
            select(Collection)
            .where(Collection.purpose == Purpose.DIRECTORY, Collection.kind == CollectionKind.ADDRESS_BOOK)
            .order_by(Collection.created_at, Collection.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def collection(db: AsyncSession, org_id: uuid.UUID) -> Collection:
    """The organisation's directory collection, created on first need. The caller commits."""
    found = await _existing(db)
    if found is None:
        found = Collection(
            org_id=org_id,
            kind=CollectionKind.ADDRESS_BOOK,
            purpose=Purpose.DIRECTORY,
            slug=SLUG,
            name=_("Directory"),
            components="",
        )
        db.add(found)
        await db.flush()
    return found


async def entries(db: AsyncSession, book_id: uuid.UUID) -> list[Contact]:
    """Every entry of the directory, people first (by name), then groups, then rooms."""
    people = await members(db)
    by_id = {p.id: p for p in people}
    found = [
        Contact(
            formatted=p.display_name or p.email,
            emails=(p.email,),
            uid=str(p.id),
            id=p.id,
            book_id=book_id,
            name=f"{p.id}.vcf",
            kind=KIND_USER,
        )
        for p in sorted(people, key=lambda p: (p.display_name or p.email).lower())
    ]
    for group in await org_groups(db):
        inside = [m for m in await group_members(db, group.id) if m.id in by_id]
        found.append(
            Contact(
                formatted=group.name,
                notes=group.description,
                uid=str(group.id),
                id=group.id,
                book_id=book_id,
                name=f"{group.id}.vcf",
                kind=KIND_GROUP,
                members=tuple(f"urn:uuid:{m.id}" for m in inside),
                groups=(),
            )
        )
    rooms = await db.execute(
        select(Collection)
        .where(Collection.purpose == Purpose.RESOURCE, Collection.kind == CollectionKind.CALENDAR)
        .order_by(Collection.name)
    )
    for room in rooms.scalars():
        capacity = _("{count} seats").format(count=room.capacity) if room.capacity else ""
        found.append(
            Contact(
                formatted=room.name,
                notes="\n".join(x for x in (room.description, capacity) if x),
                uid=str(room.id),
                id=room.id,
                book_id=book_id,
                name=f"{room.id}.vcf",
                kind=KIND_ROOM,
            )
        )
    return found


def matches(entry: Contact, query: str) -> bool:
    needle = query.strip().lower()
    return needle in entry.display.lower() or any(needle in e.lower() for e in entry.emails)


@functools.lru_cache(maxsize=20_000)
def card_text(entry: Contact) -> str:
    """The vCard 4.0 of an entry (KIND and MEMBER are vCard 4 properties)."""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("uid").value = f"urn:uuid:{entry.uid}"
    card.add("kind").value = entry.kind
    card.add("fn").value = entry.display
    if entry.kind == KIND_USER:
        parts = entry.display.rsplit(" ", 1)
        card.add("n").value = vobject.vcard.Name(
            family=parts[-1] if len(parts) > 1 else "", given=parts[0] if len(parts) > 1 else entry.display
        )
    for address in entry.emails:
        card.add("email").value = address
    if entry.notes:
        card.add("note").value = entry.notes
    for member in entry.members:
        card.add("member").value = member
    return str(card.serialize())


@functools.lru_cache(maxsize=20_000)
def card_etag(entry: Contact) -> str:
    return objects.etag_of(card_text(entry))


async def _differences(db: AsyncSession, book: Collection) -> tuple[list[Contact], list[str]]:
    """The entries whose stored card is missing or out of date, and the names of stored
    cards that no longer have an entry."""
    found = await entries(db, book.id)
    rows = await db.execute(select(DavObject.name, DavObject.etag).where(DavObject.collection_id == book.id))
    stored: dict[str, str] = {row[0]: row[1] for row in rows.all()}
    changed = [e for e in found if stored.get(e.name) != card_etag(e)]
    return changed, sorted(set(stored) - {e.name for e in found})


async def up_to_date(db: AsyncSession) -> bool:
    """Whether the stored directory holds exactly the generated cards: reads only, so that
    a CardDAV request takes no write lock when nobody changed (nearly always)."""
    found = await _existing(db)
    if found is None:
        return False
    changed, gone = await _differences(db, found)
    return not changed and not gone


async def refresh(db: AsyncSession, org_id: uuid.UUID) -> Collection:
    """Make the stored directory collection hold exactly the generated cards (for CardDAV
    sync tokens and ETags). The caller commits."""
    found = await collection(db, org_id)
    reach = Reach(found)
    changed, gone = await _differences(db, found)
    for entry in changed:
        await objects.put(db, reach, entry.name, card_text(entry))
    for name in gone:
        await objects.remove(db, reach, name)
    return found


async def listing(db: AsyncSession, principal: Principal, book_id: uuid.UUID, query: str = "") -> list[Contact]:
    """The directory's entries the principal sees, those matching ``query`` when given.
    (The caller checked ``view`` on the directory: guests have none.)"""
    found = await entries(db, book_id)
    return [e for e in found if matches(e, query)] if query.strip() else found
