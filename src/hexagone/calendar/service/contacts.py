"""Contacts: the address books a principal reaches, and the contacts in them read,
searched, created, edited and deleted as fields, imported from and exported to ``.vcf``.

An address book is a collection of kind ``addressbook`` (a user's own — the default one
exists once :func:`collections.ensure_defaults` ran —, a space's, one shared with them,
the collected addresses, or the organisation's directory). A contact is one vCard
resource of it, written through :mod:`objects` (ETags, sync numbers, tombstones), so
that what the web changes reaches CardDAV clients at their next sync. Abilities come
from the collection policy: ``view`` to read, ``write`` to change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import collections, directory, objects
from hexagone.calendar.service.collections import CollectionInfo
from hexagone.calendar.service.contacts_vcard import Contact, ContactFields, clean, parse_one, read, split, write
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.i18n import _

MAX_IMPORT_CARDS = 10_000


def like_pattern(query: str) -> str:
    escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_matches(column: Any, query: str) -> ColumnElement[bool]:
    """``column`` contains ``query`` whatever the case. SQLite folds only ASCII letters,
    so the usual casings of the query are tried too (« éloïse » finds « Éloïse »)."""
    query = query.strip()
    variants = dict.fromkeys((query, query.lower(), query.upper(), query.title(), query.capitalize()))
    return or_(*(column.ilike(like_pattern(v), escape="\\") for v in variants))


def _no_contact() -> str:
    return _("No such contact.")


async def books(db: AsyncSession, principal: Principal) -> list[CollectionInfo]:
    """The address books the principal may read, their own default one and the directory
    created first when missing (then the caller commits)."""
    found = await collections.visible(db, principal, CollectionKind.ADDRESS_BOOK)
    purposes = {(r.collection.purpose, r.collection.owner_id) for r in found}
    if not principal.is_guest and not {(Purpose.PERSONAL, principal.user_id), (Purpose.DIRECTORY, None)} <= purposes:
        await collections.ensure_defaults(db, principal)
        await directory.collection(db, principal.org_id)
        found = await collections.visible(db, principal, CollectionKind.ADDRESS_BOOK)
    return [collections.info(principal, r) for r in found]


async def ensure_books(principal: Principal) -> None:
    """Create the principal's default address book and the directory if they are missing,
    in a write transaction of its own, so that pages and the API read in plain sessions
    (on SQLite a write transaction waits for the write lock)."""
    async with org_session(principal.org_id) as db:
        found = await collections.visible(db, principal, CollectionKind.ADDRESS_BOOK)
    purposes = {(r.collection.purpose, r.collection.owner_id) for r in found}
    if principal.is_guest or {(Purpose.PERSONAL, principal.user_id), (Purpose.DIRECTORY, None)} <= purposes:
        return
    async with org_session(principal.org_id, write=True) as db:
        await books(db, principal)
        await db.commit()


async def book(db: AsyncSession, principal: Principal, book_id: uuid.UUID, ability: str = "view") -> Reach:
    """An address book the principal may do ``ability`` on (NotFound / Forbidden otherwise)."""
    found = await collections.reach(db, principal, book_id, ability)
    if found.collection.kind != CollectionKind.ADDRESS_BOOK:
        raise NotFound(_("No such address book."))
    return found


def _contact(row: DavObject) -> Contact:
    return read(parse_one(row.data), id=row.id, book_id=row.collection_id, name=row.name, etag=row.etag)


@dataclass(frozen=True)
class Page:
    contacts: list[Contact]
    has_next: bool


async def listing(
    db: AsyncSession, principal: Principal, book_id: uuid.UUID, *, query: str = "", page: int = 1, size: int = 50
) -> Page:
    """One page of an address book's contacts by name, those matching ``query`` (name or
    e-mail) when given."""
    reach = await book(db, principal, book_id)
    if reach.collection.purpose == Purpose.DIRECTORY:
        found = await directory.listing(db, principal, book_id, query)
        return Page(found[(page - 1) * size : page * size], len(found) > page * size)
    stmt = select(DavObject).where(DavObject.collection_id == reach.collection.id)
    if query.strip():
        stmt = stmt.where(or_(text_matches(DavObject.title, query), text_matches(DavObject.emails, query)))
    rows = list(
        (
            await db.execute(
                stmt.order_by(func.lower(DavObject.title), DavObject.name).offset((page - 1) * size).limit(size + 1)
            )
        ).scalars()
    )
    return Page([_contact(r) for r in rows[:size]], len(rows) > size)


async def search(
    db: AsyncSession, principal: Principal, query: str, limit: int = 20
) -> list[tuple[Contact, CollectionInfo]]:
    """Contacts of every address book the principal may read whose name or an e-mail
    contains ``query``, with their book (the directory's people are identity's to find)."""
    if not query.strip():
        return []
    reaches = {
        r.collection.id: r
        for r in await collections.visible(db, principal, CollectionKind.ADDRESS_BOOK)
        if r.collection.purpose != Purpose.DIRECTORY
    }
    if not reaches:
        return []
    rows = (
        await db.execute(
            select(DavObject)
            .where(
                DavObject.collection_id.in_(list(reaches)),
                or_(text_matches(DavObject.title, query), text_matches(DavObject.emails, query)),
            )
            .order_by(func.lower(DavObject.title))
            .limit(limit)
        )
    ).scalars()
    return [(_contact(r), collections.info(principal, reaches[r.collection_id])) for r in rows]


async def get(db: AsyncSession, principal: Principal, book_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    reach = await book(db, principal, book_id)
    if reach.collection.purpose == Purpose.DIRECTORY:
        entry = next((e for e in await directory.entries(db, book_id) if e.id == contact_id), None)
        if entry is None:
            raise NotFound(_no_contact())
        return entry
    row = await db.get(DavObject, contact_id)
    if row is None or row.collection_id != reach.collection.id:
        raise NotFound(_no_contact())
    return _contact(row)


async def card(db: AsyncSession, principal: Principal, book_id: uuid.UUID, contact_id: uuid.UUID) -> str:
    """The contact's vCard text as stored."""
    reach = await book(db, principal, book_id)
    if reach.collection.purpose == Purpose.DIRECTORY:
        return directory.card_text(await get(db, principal, book_id, contact_id))
    row = await db.get(DavObject, contact_id)
    if row is None or row.collection_id != reach.collection.id:
        raise NotFound(_no_contact())
    return row.data


async def create(db: AsyncSession, principal: Principal, book_id: uuid.UUID, fields: ContactFields) -> Contact:
    """A new contact in the address book (``write``). The caller commits."""
    reach = await book(db, principal, book_id, "write")
    uid = str(uuid.uuid4())
    stored, _created = await objects.put(db, reach, f"{uid}.vcf", write(clean(fields), uid=uid), if_none_match=True)
    return await get(db, principal, book_id, stored.id)


async def update(
    db: AsyncSession,
    principal: Principal,
    book_id: uuid.UUID,
    contact_id: uuid.UUID,
    fields: ContactFields,
    *,
    if_match: str | None = None,
) -> Contact:
    """Change a contact's fields, keeping the vCard's other properties; ``if_match`` is the
    ETag the editor read (412 when someone changed it meanwhile). The caller commits."""
    reach = await book(db, principal, book_id, "write")
    row = await db.get(DavObject, contact_id)
    if row is None or row.collection_id != reach.collection.id:
        raise NotFound(_no_contact())
    text = write(clean(fields), uid=row.uid, previous=row.data)
    await objects.put(db, reach, row.name, text, if_match=if_match if if_match is not None else row.etag)
    return await get(db, principal, book_id, contact_id)


async def remove(
    db: AsyncSession, principal: Principal, book_id: uuid.UUID, contact_id: uuid.UUID, *, if_match: str | None = None
) -> None:
    reach = await book(db, principal, book_id, "write")
    row = await db.get(DavObject, contact_id)
    if row is None or row.collection_id != reach.collection.id:
        raise NotFound(_no_contact())
    await objects.remove(db, reach, row.name, if_match=if_match)


async def groups(db: AsyncSession, principal: Principal, book_id: uuid.UUID) -> list[tuple[str, int]]:
    """The contact groups (categories) of an address book, with how many contacts each has."""
    reach = await book(db, principal, book_id)
    counts: dict[str, int] = {}
    for row in (await db.execute(select(DavObject).where(DavObject.collection_id == reach.collection.id))).scalars():
        if "CATEGORIES" in row.data.upper():
            for group in _contact(row).groups:
                counts[group] = counts.get(group, 0) + 1
    return sorted(counts.items(), key=lambda item: item[0].lower())


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int


async def import_cards(db: AsyncSession, reach: Reach, text: str) -> Imported:
    """Store every vCard of a ``.vcf`` text in the address book: a card whose UID is
    already there replaces it, the others are added. The caller checked ``write`` and
    commits; a bad card refuses the whole file (Invalid, nothing stored)."""
    cards = split(text)
    if len(cards) > MAX_IMPORT_CARDS:
        raise Invalid(_("A file may hold at most {count} contacts.").format(count=MAX_IMPORT_CARDS))
    created = updated = 0
    for data in cards:
        uid = str(parse_one(data).uid.value).strip()
        existing = await objects.by_uid(db, reach, uid)
        name = existing.name if existing is not None else resource_name(uid)
        _info, was_created = await objects.put(db, reach, name, data)
        created += was_created
        updated += not was_created
    return Imported(created, updated)


def resource_name(uid: str) -> str:
    """A resource name for a UID: itself when it is a safe URL segment, else a digest."""
    safe = uid.replace("urn:uuid:", "")
    if safe and len(safe) <= 200 and all(c.isalnum() or c in "-_.@" for c in safe):
        return f"{safe}.vcf"
    return f"{uuid.uuid5(uuid.NAMESPACE_URL, uid)}.vcf"


async def import_vcf(db: AsyncSession, principal: Principal, book_id: uuid.UUID, text: str) -> Imported:
    return await import_cards(db, await book(db, principal, book_id, "write"), text)


async def export_vcf(db: AsyncSession, principal: Principal, book_id: uuid.UUID) -> tuple[CollectionInfo, str]:
    """The address book and all its cards as one ``.vcf`` text."""
    reach = await book(db, principal, book_id)
    return collections.info(principal, reach), await book_text(db, reach)


async def book_text(db: AsyncSession, reach: Reach) -> str:
    if reach.collection.purpose == Purpose.DIRECTORY:
        return "".join(directory.card_text(e) for e in await directory.entries(db, reach.collection.id))
    rows = await db.execute(
        select(DavObject.data).where(DavObject.collection_id == reach.collection.id).order_by(DavObject.name)
    )
    return "".join(data if data.endswith("\n") else data + "\r\n" for data in rows.scalars())
