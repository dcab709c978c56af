"""Addresses collected from the mail a user sends, into their "Collected addresses"
address book, and the addresses offered while they type recipients.

Mail does not know this module: it announces every sent message on the core bus
(``hexagone.mail.service.SUBMITTED``), and the module's descriptor names :func:`collect`
as a handler of that event, which the core runs as a durable job (at least once, so it
is idempotent: an address already known is not added again). An address is collected
when it is in none of the sender's own address books and is not a member of the
organisation (the directory already has those).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import contacts, directory, objects
from hexagone.calendar.service.contacts_vcard import ContactFields, clean, write
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _
from hexagone.core.modules import AddressSuggestion
from hexagone.identity.service import person, person_by_email

SLUG = "collected"
MAX_PER_MESSAGE = 100


async def book_of(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> Collection:
    """The user's collected-addresses book, created on first need. The caller commits."""
    found = await db.scalar(
        select(Collection).where(
            Collection.owner_id == user_id, Collection.kind == CollectionKind.ADDRESS_BOOK, Collection.slug == SLUG
        )
    )
    if found is None:
        found = Collection(
            org_id=org_id,
            kind=CollectionKind.ADDRESS_BOOK,
            purpose=Purpose.PERSONAL,
            owner_id=user_id,
            slug=SLUG,
            name=_("Collected addresses"),
            components="",
        )
        db.add(found)
        await db.flush()
    return found


async def _known(db: AsyncSession, user_id: uuid.UUID) -> set[str]:
    """Every address in the user's own address books."""
    rows = await db.execute(
        select(DavObject.emails)
        .join(Collection, Collection.id == DavObject.collection_id)
        .where(Collection.owner_id == user_id, Collection.kind == CollectionKind.ADDRESS_BOOK)
    )
    return {line for text in rows.scalars() for line in text.splitlines() if line}


async def collect(payload: dict[str, Any]) -> None:
    """The handler of mail's submission event: add the recipients nobody knows yet."""
    user_id = uuid.UUID(str(payload["user_id"]))
    async with system_session() as db:
        sender = await person(db, user_id)
    if sender is None or not sender.is_active or sender.is_guest:
        return
    recipients = [r for r in payload.get("recipients", []) if isinstance(r, dict)][:MAX_PER_MESSAGE]
    async with org_session(sender.org_id, write=True) as db:
        known = await _known(db, user_id)
        book = None
        for recipient in recipients:
            address = str(recipient.get("address", "")).strip().lower()
            if not address or address in known or address == sender.email:
                continue
            member = await person_by_email(db, address)
            if member is not None and member.org_id == sender.org_id:
                continue
            name = str(recipient.get("name", "")).strip()
            try:
                fields = clean(ContactFields(formatted=name if name != address else "", emails=(address,)))
            except Invalid:
                continue  # not an address a contact can hold
            book = book or await book_of(db, sender.org_id, user_id)
            uid = str(uuid.uuid4())
            await objects.put(db, Reach(book), f"{uid}.vcf", write(fields, uid=uid))
            known.add(address)
        await db.commit()


async def suggestions(principal: Principal, query: str, limit: int) -> list[AddressSuggestion]:
    """The kit's address-suggestion hook: addresses from the principal's address books
    (collected ones included), then the directory's people."""
    needle = query.strip().lower()
    if not needle:
        return []
    found: list[AddressSuggestion] = []
    async with org_session(principal.org_id) as db:
        for contact, book in await contacts.search(db, principal, needle, limit):
            for address in contact.emails:
                if needle in address.lower() or needle in contact.display.lower():
                    found.append(AddressSuggestion(contact.display, address, book.name))
        if not principal.is_guest:
            book_id = await db.scalar(select(Collection.id).where(Collection.purpose == Purpose.DIRECTORY).limit(1))
            for entry in await directory.listing(db, principal, book_id or uuid.uuid4(), needle):
                found += [AddressSuggestion(entry.display, a, _("Directory")) for a in entry.emails]
    return found[:limit]
