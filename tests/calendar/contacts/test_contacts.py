"""Contacts as the pages, the API and the CLI use them: created and edited from fields
(the vCard written by vobject, what the form does not show kept), groups as CATEGORIES,
search, .vcf import and export, the directory generated on read, and the policy."""

from __future__ import annotations

import pytest
import vobject

from hexagone.calendar.models import Collection, CollectionKind, Purpose
from hexagone.calendar.service import collections, contacts, directory, objects
from hexagone.calendar.service.contacts_vcard import ContactFields, PostalAddress
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, Invalid, NotFound, PreconditionFailed
from hexagone.identity.models import User
from hexagone.identity.service import groups as identity_groups
from tests.calendar.factories import contact, make_calendar_org
from tests.factories import make_user, principal, unique

pytestmark = pytest.mark.usefixtures("migrated")

ELOISE = ContactFields(
    given="Éloïse",
    family="Dupré",
    emails=("eloise@partner.test",),
    phones=("+33 1 23 45 67 89",),
    organisation="Partenaire, SA",
    title="Directrice",
    notes="Rencontrée au salon;\nà rappeler",
    addresses=(
        PostalAddress(street="1 rue de la Paix", code="75002", locality="Paris", country="France", kind="work"),
    ),
    groups=("Clients", "Salon 2027"),
)


async def _member(org=None, role="user"):  # type: ignore[no-untyped-def]
    org = org or await make_calendar_org()
    me = await principal(await make_user(org, role=role))
    async with org_session(me.org_id, write=True) as db:
        books = await contacts.books(db, me)
        await db.commit()
    own = next((b.id for b in books if b.slug == "contacts"), None)
    return org, me, own


async def test_create_a_contact_from_fields_reads_back_every_field() -> None:
    _org, me, book = await _member()
    async with org_session(me.org_id, write=True) as db:
        created = await contacts.create(db, me, book, ELOISE)
        await db.commit()
        text = await contacts.card(db, me, book, created.id)
    card = vobject.readOne(text)
    assert card.fn.value == "Éloïse Dupré" and card.org.value == ["Partenaire, SA"]
    assert card.categories.value == ["Clients", "Salon 2027"]
    assert created.emails == ELOISE.emails and created.phones == ELOISE.phones
    assert created.notes == ELOISE.notes and created.addresses[0].locality == "Paris"
    assert created.groups == ELOISE.groups and created.display == "Éloïse Dupré"


async def test_update_keeps_the_properties_the_form_does_not_show() -> None:
    _org, me, book = await _member()
    phone_card = vobject.readOne(contact(name="Jean Martin", emails=("jean@partner.test",)))
    phone_card.add("bday").value = "1980-04-01"
    phone_card.add("x-phonetic-first-name").value = "Jean"
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, book, "write")
        stored, _ = await objects.put(db, reach, "jean.vcf", phone_card.serialize())
        changed = await contacts.update(
            db, me, book, stored.id, ContactFields(given="Jean", family="Martin", emails=("jean@new.test",))
        )
        await db.commit()
        text = await contacts.card(db, me, book, stored.id)
    card = vobject.readOne(text)
    assert card.bday.value == "1980-04-01" and card.x_phonetic_first_name.value == "Jean"
    assert [e.value for e in card.contents["email"]] == ["jean@new.test"] and changed.emails == ("jean@new.test",)


async def test_update_with_a_stale_etag_is_refused() -> None:
    _org, me, book = await _member()
    async with org_session(me.org_id, write=True) as db:
        created = await contacts.create(db, me, book, ELOISE)
        await contacts.update(db, me, book, created.id, ContactFields(given="Éloïse"))
        with pytest.raises(PreconditionFailed):
            await contacts.update(db, me, book, created.id, ContactFields(given="Autre"), if_match=created.etag)


@pytest.mark.parametrize(
    "fields",
    [ContactFields(), ContactFields(emails=("not an address",)), ContactFields(given="A", emails=("a@b",))],
    ids=["nothing", "spaces", "no-dot"],
)
async def test_create_with_bad_fields_is_refused_with_a_message(fields: ContactFields) -> None:
    _org, me, book = await _member()
    async with org_session(me.org_id, write=True) as db:
        with pytest.raises(Invalid) as refused:
            await contacts.create(db, me, book, fields)
    assert str(refused.value)


async def test_search_finds_by_name_and_email_across_books_but_not_another_users() -> None:
    org, me, book = await _member()
    _org, other, other_book = await _member(org)
    async with org_session(me.org_id, write=True) as db:
        await contacts.create(db, me, book, ELOISE)
        await contacts.create(db, other, other_book, ContactFields(given="Éloïse", family="Secret"))
        await db.commit()
        by_name = await contacts.search(db, me, "éloïse")
        by_mail = await contacts.search(db, me, "PARTNER.test")
        wildcard = await contacts.search(db, me, "%")
    assert [c.display for c, _b in by_name] == ["Éloïse Dupré"] and len(by_mail) == 1 and wildcard == []


async def test_import_then_export_a_vcf_round_trips_and_a_second_import_replaces() -> None:
    _org, me, book = await _member()
    cards = "".join(contact(uid=f"card-{i}", name=f"Personne N{i}", emails=(f"p{i}@x.test",)) for i in range(3))
    no_uid = vobject.readOne(contact(name="Sans Uid"))
    del no_uid.contents["uid"]
    async with org_session(me.org_id, write=True) as db:
        first = await contacts.import_vcf(db, me, book, cards + no_uid.serialize())
        again = await contacts.import_vcf(db, me, book, cards)
        await db.commit()
        _info, text = await contacts.export_vcf(db, me, book)
        with pytest.raises(Invalid):
            await contacts.import_vcf(db, me, book, "BEGIN:VCARD\r\nFN:broken")
    assert (first.created, first.updated, again.created, again.updated) == (4, 0, 0, 3)
    assert sorted(c.fn.value for c in vobject.readComponents(text)) == [
        "Personne N0",
        "Personne N1",
        "Personne N2",
        "Sans Uid",
    ]


async def test_groups_count_the_contacts_of_each_category() -> None:
    _org, me, book = await _member()
    async with org_session(me.org_id, write=True) as db:
        await contacts.create(db, me, book, ELOISE)
        await contacts.create(db, me, book, ContactFields(given="Paul", groups=("Clients",)))
        await db.commit()
        assert await contacts.groups(db, me, book) == [("Clients", 2), ("Salon 2027", 1)]


async def test_another_user_and_another_organisation_find_no_book() -> None:
    org, me, book = await _member()
    _org, colleague, _b = await _member(org)
    _other, stranger, _s = await _member()
    async with org_session(me.org_id, write=True) as db:
        created = await contacts.create(db, me, book, ELOISE)
        await db.commit()
    for caller in (colleague, stranger):
        async with org_session(caller.org_id) as db:
            with pytest.raises(NotFound):
                await contacts.get(db, caller, book, created.id)
            with pytest.raises(NotFound):
                await contacts.listing(db, caller, book)


async def test_directory_lists_members_at_once_and_drops_a_disabled_one() -> None:
    org, me, _book = await _member()
    colleague = await make_user(org)
    name = colleague.email.split("@")[0]
    guest = await make_user(org, role="guest")
    async with org_session(me.org_id, write=True) as db:
        [book] = [b for b in await contacts.books(db, me) if b.purpose == "directory"]
        listed = await contacts.listing(db, me, book.id, query=name)
        everyone = await contacts.listing(db, me, book.id)
        user = await db.get(User, colleague.id)
        assert user is not None
        user.is_active = False
        await db.commit()
        after = await contacts.listing(db, me, book.id, query=name)
        with pytest.raises(Forbidden):
            await contacts.create(db, me, book.id, ELOISE)  # read-only
    assert [c.emails for c in listed.contacts] == [(colleague.email,)]
    assert guest.email not in {e for c in everyone.contacts for e in c.emails}
    assert after.contacts == [] and not book.abilities["write"]


async def test_directory_holds_groups_with_members_and_rooms() -> None:
    org = await make_calendar_org()
    admin = await principal(await make_user(org, role="admin"))
    member = await make_user(org)
    async with org_session(org.id, write=True) as db:
        team = await identity_groups.create_group(db, admin, name=unique("Équipe "), description="Les gens")
        await identity_groups.add_to_group(db, admin, team, member.id)
        db.add(
            Collection(
                org_id=org.id,
                kind=CollectionKind.CALENDAR,
                purpose=Purpose.RESOURCE,
                slug=unique("salle"),
                name="Salle Verte",
                capacity=12,
            )
        )
        [book] = [b for b in await contacts.books(db, admin) if b.purpose == "directory"]
        await db.commit()
        entries = {e.display: e for e in (await contacts.listing(db, admin, book.id)).contacts}
        card = vobject.readOne(await contacts.card(db, admin, book.id, entries[team.name].id))
    assert entries[team.name].kind == "group" and entries[team.name].members == (f"urn:uuid:{member.id}",)
    assert card.kind.value == "group" and card.member.value == f"urn:uuid:{member.id}"
    assert entries["Salle Verte"].kind == "location" and "12" in entries["Salle Verte"].notes


async def test_directory_refresh_stores_the_cards_and_follows_changes_with_sync_numbers() -> None:
    org = await make_calendar_org()
    me = await principal(await make_user(org))
    leaving = await make_user(org)
    async with org_session(org.id, write=True) as db:
        stored = await directory.refresh(db, org.id)
        await db.commit()
        first = stored.sync_seq
        await directory.refresh(db, org.id)  # nothing changed: nothing written
        await db.commit()
        await db.refresh(stored)
        unchanged = stored.sync_seq
        user = await db.get(User, leaving.id)
        assert user is not None
        user.is_active = False
        await db.commit()
        await directory.refresh(db, org.id)
        await db.commit()
        await db.refresh(stored)
        reach = await collections.reach(db, me, stored.id)
        changes = await objects.changes(db, reach, unchanged)
    assert first == 2 and unchanged == first
    assert changes.deleted == [f"{leaving.id}.vcf"] and changes.changed == []


async def test_directory_up_to_date_says_when_a_refresh_would_write() -> None:
    org = await make_calendar_org()
    await make_user(org)
    async with org_session(org.id) as db:
        never_stored = await directory.up_to_date(db)
    async with org_session(org.id, write=True) as db:
        await directory.refresh(db, org.id)
        await db.commit()
    async with org_session(org.id) as db:
        stored = await directory.up_to_date(db)
    newcomer = await make_user(org)
    async with org_session(org.id) as db:
        with_newcomer = await directory.up_to_date(db)
    async with org_session(org.id, write=True) as db:
        await directory.refresh(db, org.id)
        user = await db.get(User, newcomer.id)
        assert user is not None
        user.display_name = "Nouveau Nom"
        await db.commit()
    async with org_session(org.id) as db:
        renamed = await directory.up_to_date(db)
    assert (never_stored, stored, with_newcomer, renamed) == (False, True, False, False)
