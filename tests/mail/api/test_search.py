"""Unified search finds messages by subject or sender in the mailboxes the person may
read — their own and the shared ones granted to them — and nowhere else; a guest finds
no message. Results open the webmail's reading page."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.mail import search
from hexagone.mail.models import Mailbox
from hexagone.mail.service import mailboxes
from tests.factories import TestUser, login, make_user, principal, unique
from tests.mail.api.helpers import deliver_to
from tests.mail.factories import deliver, make_mail_org, make_mail_user

LINK = re.compile(r'href="/mail/messages/([0-9a-f-]{36})"')


@dataclass
class Scene:
    word: str  # in the subject of every message below
    alice: TestUser
    bob: TestUser  # a colleague
    guest: TestUser
    stranger: TestUser  # another organisation
    shared: Mailbox  # granted to alice, read-only


@pytest.fixture
async def scene() -> Scene:
    org = await make_mail_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    async with org_session(org.id) as db:
        shared = await mailboxes.create_shared_mailbox(db, org.id, f"{unique('info')}@{org.domain}", "Info")
        await mailboxes.grant(db, shared, alice.id, can_write=False)
        await db.commit()
    return Scene(unique("Zorglub"), alice, bob, await make_user(org, role="guest"), await make_mail_user(), shared)


async def found_ids(client: httpx.AsyncClient, user: TestUser, query: str) -> set[uuid.UUID]:
    """The messages the search page lists for ``user`` and ``query``, by their links
    (signed in through a browser of their own)."""
    async with httpx.AsyncClient(base_url=client.base_url, timeout=30) as browser:
        await login(browser, user)
        response = await browser.get("/search", params={"q": query}, headers={"hx-request": "true"})
    assert response.status_code == 200, response.text[:300]
    return {uuid.UUID(found) for found in LINK.findall(response.text)}


async def test_search_finds_own_messages_by_subject_and_sender(client: httpx.AsyncClient, scene: Scene) -> None:
    by_subject = await deliver(scene.alice, subject=f"Budget {scene.word}")
    by_sender = await deliver(scene.alice, sender=f"{scene.word.lower()}@example.net", subject="Bonjour")
    await deliver(scene.alice, subject="Autre chose")
    assert await found_ids(client, scene.alice, scene.word) == {by_subject.id, by_sender.id}


async def test_search_links_to_the_webmail_reading_page(client: httpx.AsyncClient, scene: Scene) -> None:
    message = await deliver(scene.alice, subject=f"Lien {scene.word}")
    await login(client, scene.alice)
    page = await client.get("/search", params={"q": scene.word})
    assert f'href="/mail/messages/{message.id}"' in page.text
    assert (await client.get(f"/mail/messages/{message.id}")).status_code == 200


async def test_search_never_finds_a_colleagues_or_another_organisations_messages(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await deliver(scene.bob, subject=f"Privé {scene.word}")
    await deliver(scene.stranger, subject=f"Ailleurs {scene.word}")
    assert await found_ids(client, scene.alice, scene.word) == set()


async def test_search_finds_messages_of_a_granted_shared_mailbox(client: httpx.AsyncClient, scene: Scene) -> None:
    shared = await deliver_to(scene.shared, subject=f"Demande {scene.word}")
    assert await found_ids(client, scene.alice, scene.word) == {shared.id}
    assert await found_ids(client, scene.bob, scene.word) == set()


async def test_search_guest_finds_no_message(client: httpx.AsyncClient, scene: Scene) -> None:
    await deliver_to(scene.shared, subject=f"Demande {scene.word}")
    await deliver(scene.alice, subject=f"Budget {scene.word}")
    assert await found_ids(client, scene.guest, scene.word) == set()


async def test_search_guest_finds_nothing_even_in_a_mailbox_granted_to_them(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    async with org_session(scene.shared.org_id) as db:
        await mailboxes.grant(db, scene.shared, scene.guest.id, can_write=False)
        await db.commit()
    await deliver_to(scene.shared, subject=f"Demande {scene.word}")
    assert await found_ids(client, scene.guest, scene.word) == set()


async def test_search_takes_wildcards_literally(client: httpx.AsyncClient, scene: Scene) -> None:
    percent = await deliver(scene.alice, subject=f"{scene.word} à 100%")
    await deliver(scene.alice, subject=f"{scene.word} à 100 pour cent")
    underscore = await deliver(scene.alice, subject=f"{scene.word}_v2")
    await deliver(scene.alice, subject=f"{scene.word}xv2")
    assert await found_ids(client, scene.alice, f"{scene.word} à 100%") == {percent.id}
    assert await found_ids(client, scene.alice, f"{scene.word}_v2") == {underscore.id}


async def test_search_returns_at_most_the_limit_newest_first(scene: Scene) -> None:
    delivered = [await deliver(scene.alice, subject=f"{scene.word} {n}") for n in range(5)]
    hits = await search.messages(await principal(scene.alice), scene.word, 3)
    assert [hit.url for hit in hits] == [f"/mail/messages/{m.id}" for m in reversed(delivered[2:])]
