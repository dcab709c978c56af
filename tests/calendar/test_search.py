"""Unified search over events and contacts: the owner finds them by title, name and
e-mail; a colleague and another organisation find nothing of theirs; a space's members
find the space's events."""

from __future__ import annotations

import pytest

from hexagone.calendar import search
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, contacts, objects
from hexagone.calendar.service.contacts_vcard import ContactFields
from hexagone.core.db import org_session
from tests.calendar.factories import event, make_calendar_org
from tests.factories import make_user, principal, unique

pytestmark = pytest.mark.usefixtures("migrated")


async def test_search_finds_ones_events_and_contacts_and_nobody_elses() -> None:
    org = await make_calendar_org()
    me, colleague = await principal(await make_user(org)), await principal(await make_user(org))
    stranger = await principal(await make_user(await make_calendar_org()))
    word = unique("Comité")
    async with org_session(org.id, write=True) as db:
        await collections.ensure_defaults(db, me)
        [calendar] = await collections.visible(db, me, CollectionKind.CALENDAR)
        await objects.put(db, calendar, "c.ics", event(summary=f"{word} de pilotage"))
        [book] = [b for b in await contacts.books(db, me) if b.slug == "contacts"]
        await contacts.create(db, me, book.id, ContactFields(given=word, emails=(f"{word.lower()}@x.test",)))
        await db.commit()

    mine = await search.events(me, word.upper(), 10) + await search.people(me, word, 10)
    by_mail = await search.people(me, f"{word.lower()}@x", 10)
    theirs = [await p(who, word, 10) for who in (colleague, stranger) for p in (search.events, search.people)]

    assert [h.title for h in mine] == [f"{word} de pilotage", word]
    assert mine[0].url.startswith("/calendar/") and mine[1].url == by_mail[0].url
    assert by_mail[0].url.startswith(f"/calendar/contacts/{book.id}/")
    assert theirs == [[], [], [], []]
