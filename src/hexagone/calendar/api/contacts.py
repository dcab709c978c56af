"""The contacts JSON API, under ``/api/v1/calendar/contacts`` (the module is named
``calendar``, so the subscription gate covers it like every route of the module): the
address books the caller reads, their contacts (paged, searchable), one contact, and
creating, changing (with ``If-Match``) and deleting one, and search across books. Each
route calls :mod:`hexagone.calendar.service.contacts`, as the pages do."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from hexagone.calendar.api.models import Text
from hexagone.calendar.service import contacts
from hexagone.calendar.service.collections import CollectionInfo
from hexagone.calendar.service.contacts_vcard import (
    ADDRESS_PATTERN,
    NAMED_PATTERN,
    Contact,
    ContactFields,
    PostalAddress,
)
from hexagone.core.api import CurrentPrincipal, error_responses
from hexagone.core.db import org_session

router = APIRouter(prefix="/contacts", tags=["contacts"])

DESCRIBED = {
    400: "The contact's fields are not valid (no name nor e-mail, a malformed address…).",
    412: "The contact changed since the ETag given in If-Match.",
}


class AddressBookOut(BaseModel):
    id: uuid.UUID
    name: str
    purpose: str = Field(description="personal, space or directory (read-only)")
    access: str = Field(description="what the caller may do: read, write or delegate")
    writable: bool

    @classmethod
    def of(cls, book: CollectionInfo) -> AddressBookOut:
        return cls(
            id=book.id, name=book.name, purpose=book.purpose, access=book.access, writable=book.abilities["write"]
        )


class PostalAddressIO(BaseModel):
    street: Text = Field("", max_length=500)
    locality: Text = Field("", max_length=500)
    region: Text = Field("", max_length=500)
    code: Text = Field("", max_length=500)
    country: Text = Field("", max_length=500)
    kind: Text = Field("", max_length=10, description="home, work or empty")


def _named_by() -> list[JsonValue]:
    """The schema's ``anyOf``: one of these fields holds more than spaces."""
    found: list[JsonValue] = [{"required": ["emails"], "properties": {"emails": {"minItems": 1}}}]
    for name in ("given", "family", "formatted", "organisation"):
        found.append({"required": [name], "properties": {name: {"pattern": NAMED_PATTERN}}})
    return found


class ContactIn(BaseModel):
    """A contact's fields. Something must name it: a given, family or shown name, an
    organisation, or an e-mail address (the schema's ``anyOf``)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": _named_by()})

    given: Text = Field("", max_length=200)
    family: Text = Field("", max_length=200)
    formatted: Text = Field("", max_length=500, description="the name as shown; from given and family when empty")
    emails: list[Annotated[str, Field(max_length=254, pattern=ADDRESS_PATTERN)]] = Field(
        default_factory=list, max_length=20
    )
    phones: list[Annotated[Text, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    organisation: Text = Field("", max_length=500)
    title: Text = Field("", max_length=500)
    notes: Text = Field("", max_length=20000)
    addresses: list[PostalAddressIO] = Field(default_factory=list, max_length=20)
    groups: list[Annotated[Text, Field(max_length=100)]] = Field(default_factory=list, max_length=20)

    def fields(self) -> ContactFields:
        return ContactFields(
            given=self.given,
            family=self.family,
            formatted=self.formatted,
            emails=tuple(self.emails),
            phones=tuple(self.phones),
            organisation=self.organisation,
            title=self.title,
            notes=self.notes,
            addresses=tuple(PostalAddress(**a.model_dump()) for a in self.addresses),
            groups=tuple(self.groups),
        )


class ContactOut(ContactIn):
    id: uuid.UUID | None
    address_book_id: uuid.UUID | None
    uid: str
    etag: str
    display_name: str
    kind: str = Field(description="individual, group, org or location (a room)")

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.id,
            address_book_id=contact.book_id,
            uid=contact.uid,
            etag=contact.etag,
            display_name=contact.display,
            kind=contact.kind,
            given=contact.given,
            family=contact.family,
            formatted=contact.formatted,
            emails=list(contact.emails),
            phones=list(contact.phones),
            organisation=contact.organisation,
            title=contact.title,
            notes=contact.notes,
            addresses=[PostalAddressIO(**vars(a)) for a in contact.addresses],
            groups=list(contact.groups),
        )


class ContactPage(BaseModel):
    contacts: list[ContactOut]
    has_next: bool


@router.get("/address-books", response_model=list[AddressBookOut], summary="The address books the caller reads")
async def list_books(principal: CurrentPrincipal) -> list[AddressBookOut]:
    await contacts.ensure_books(principal)
    async with org_session(principal.org_id) as db:
        found = await contacts.books(db, principal)
    return [AddressBookOut.of(b) for b in found]


@router.get(
    "/address-books/{book_id}/contacts",
    response_model=ContactPage,
    responses=error_responses(DESCRIBED, 400),
    summary="One page of an address book's contacts, those matching q (name or e-mail) when given",
)
async def list_contacts(
    principal: CurrentPrincipal,
    book_id: uuid.UUID,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> ContactPage:
    async with org_session(principal.org_id) as db:
        found = await contacts.listing(db, principal, book_id, query=q, page=page)
    return ContactPage(contacts=[ContactOut.of(c) for c in found.contacts], has_next=found.has_next)


@router.get("/search", response_model=list[ContactOut], summary="Contacts of every readable address book matching q")
async def search(
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ContactOut]:
    async with org_session(principal.org_id) as db:
        found = await contacts.search(db, principal, q, limit)
    return [ContactOut.of(c) for c, _book in found]


@router.get("/address-books/{book_id}/contacts/{contact_id}", response_model=ContactOut, summary="One contact")
async def get_contact(principal: CurrentPrincipal, book_id: uuid.UUID, contact_id: uuid.UUID) -> ContactOut:
    async with org_session(principal.org_id) as db:
        return ContactOut.of(await contacts.get(db, principal, book_id, contact_id))


@router.post(
    "/address-books/{book_id}/contacts",
    response_model=ContactOut,
    status_code=201,
    responses=error_responses(DESCRIBED, 400),
    summary="Add a contact to an address book the caller may write",
)
async def create_contact(principal: CurrentPrincipal, book_id: uuid.UUID, body: ContactIn) -> ContactOut:
    async with org_session(principal.org_id, write=True) as db:
        created = await contacts.create(db, principal, book_id, body.fields())
        await db.commit()
    return ContactOut.of(created)


@router.put(
    "/address-books/{book_id}/contacts/{contact_id}",
    response_model=ContactOut,
    responses=error_responses(DESCRIBED, 400, 412),
    summary="Replace a contact's fields (its vCard's other properties are kept)",
)
async def update_contact(
    principal: CurrentPrincipal,
    book_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactIn,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> ContactOut:
    async with org_session(principal.org_id, write=True) as db:
        changed = await contacts.update(
            db, principal, book_id, contact_id, body.fields(), if_match=if_match.strip('"') if if_match else None
        )
        await db.commit()
    return ContactOut.of(changed)


@router.delete(
    "/address-books/{book_id}/contacts/{contact_id}",
    status_code=204,
    responses=error_responses(DESCRIBED, 412),
    summary="Delete a contact",
)
async def delete_contact(
    principal: CurrentPrincipal,
    book_id: uuid.UUID,
    contact_id: uuid.UUID,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    async with org_session(principal.org_id, write=True) as db:
        await contacts.remove(db, principal, book_id, contact_id, if_match=if_match.strip('"') if if_match else None)
        await db.commit()
    return Response(status_code=204)
