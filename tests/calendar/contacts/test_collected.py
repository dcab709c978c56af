"""Addresses collected from sent mail (mail's submission event, handled by the calendar
module as a job) and the webmail's recipient completion asking the kit's suggestion
hook: the sender's address books, collected addresses and the directory, never another
user's contacts."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hexagone.calendar.service import contacts, contacts_collected
from hexagone.calendar.service.contacts_vcard import Contact, ContactFields
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from tests.calendar.factories import make_calendar_org
from tests.factories import make_user, principal, unique
from tests.mail.web.helpers import post, signed_in


async def _collected(user_principal: Principal, address: str, seconds: float = 20) -> list[Contact]:
    for _ in range(int(seconds * 10)):
        async with org_session(user_principal.org_id) as db:
            books = [b for b in await contacts.books(db, user_principal) if b.slug == contacts_collected.SLUG]
            if books:
                found = (await contacts.listing(db, user_principal, books[0].id, query=address)).contacts
                if found:
                    return found
        await asyncio.sleep(0.1)
    return []


async def test_sending_mail_collects_outside_recipients_and_completion_offers_them(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    outside = f"{unique('ext')}@partner.test"
    await signed_in(client, alice)
    response = await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": alice.email,
            "to": f"Éloïse Partenaire <{outside}>, {bob.email}",
            "subject": "Réunion",
            "body": "Bonjour",
        },
    )
    assert response.status_code == 303, response.text
    me = await principal(alice)

    [found] = await _collected(me, outside)
    offered = (await client.get("/mail/people", params={"q": outside[:8]})).json()
    colleague = (await client.get("/mail/people", params={"q": bob.email.split("@")[0]})).json()

    assert found.display == "Éloïse Partenaire" and found.emails == (outside,)
    assert offered == [{"name": "Éloïse Partenaire", "address": outside}]
    assert [p["address"] for p in colleague] == [bob.email]  # once, from the directory; never collected
    assert await _collected(me, bob.email, seconds=0.1) == []


async def test_completion_offers_ones_own_contacts_and_not_a_colleagues(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    me = await principal(alice)
    private = f"{unique('private')}@elsewhere.test"
    async with org_session(org.id, write=True) as db:
        [book] = [b for b in await contacts.books(db, me) if b.slug == "contacts"]
        await contacts.create(db, me, book.id, ContactFields(given="Jeanne", family="Privée", emails=(private,)))
        await db.commit()

    await signed_in(client, alice)
    mine = (await client.get("/mail/people", params={"q": "jeanne"})).json()
    async with httpx.AsyncClient(base_url=base_url) as other:
        await signed_in(other, bob)
        theirs = (await other.get("/mail/people", params={"q": "jeanne"})).json()

    assert {"name": "Jeanne Privée", "address": private} in mine
    assert private not in {p["address"] for p in theirs}


@pytest.mark.usefixtures("migrated")
async def test_collect_twice_adds_an_address_once() -> None:
    org = await make_calendar_org()
    alice = await make_user(org)
    payload = {"user_id": str(alice.id), "recipients": [{"address": "twice@partner.test", "name": ""}]}
    await contacts_collected.collect(payload)
    await contacts_collected.collect(payload)
    assert len(await _collected(await principal(alice), "twice@partner.test", seconds=0.1)) == 1
