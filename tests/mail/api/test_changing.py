"""Changing through the API with a token: folders made and renamed, flags set and
cleared, a message moved (to the Trash too), and a message sent through the webmail's
own path — delivered, its copy in Sent, from the shared mailbox when granted send-as."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.mail.service import subscriptions
from tests.factories import TestUser, unique
from tests.mail.api.helpers import API, World, deliver_to, make_world, own_mailbox
from tests.mail.factories import messages_in
from tests.mail.web.helpers import reload, where_is


@pytest.fixture(scope="module")
async def world(base_url: str) -> World:
    return await make_world(base_url)


async def subscribed(user: TestUser) -> set[str]:
    async with org_session(user.org_id) as db:
        return await subscriptions.names(db, user.id)


async def folder_names(client: httpx.AsyncClient, world: World, mailbox_id: object) -> set[str]:
    listed = await client.get(f"{API}/mailboxes/{mailbox_id}/folders", headers=world.alice.headers)
    return {f["name"] for f in listed.json()}


async def test_folder_created_with_its_parents_then_renamed(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    name = unique("Projets")
    created = await client.post(
        f"{API}/mailboxes/{mailbox.id}/folders", json={"name": f"{name}/2026"}, headers=world.alice.headers
    )
    assert created.status_code == 201 and created.json()["name"] == f"{name}/2026"
    assert {name, f"{name}/2026"} <= await folder_names(client, world, mailbox.id)
    again = await client.post(
        f"{API}/mailboxes/{mailbox.id}/folders", json={"name": f"{name}/2026"}, headers=world.alice.headers
    )
    assert again.status_code == 409 and again.json()["error"]

    parent = next(
        f
        for f in (await client.get(f"{API}/mailboxes/{mailbox.id}/folders", headers=world.alice.headers)).json()
        if f["name"] == name
    )
    renamed = await client.patch(
        f"{API}/folders/{parent['id']}", json={"name": f"{name}-old"}, headers=world.alice.headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == f"{name}-old"
    names = await folder_names(client, world, mailbox.id)
    assert {f"{name}-old", f"{name}-old/2026"} <= names and name not in names


async def test_folder_made_through_the_api_is_subscribed_and_the_subscription_follows_a_rename(
    client: httpx.AsyncClient, world: World
) -> None:
    """IMAP clients that show subscribed folders only (Thunderbird's default) show it too."""
    mailbox = await own_mailbox(world.alice.user)
    name = unique("Suivi")
    created = await client.post(
        f"{API}/mailboxes/{mailbox.id}/folders", json={"name": name}, headers=world.alice.headers
    )
    assert name in await subscribed(world.alice.user)
    await client.patch(f"{API}/folders/{created.json()['id']}", json={"name": f"{name}-2"}, headers=world.alice.headers)
    names = await subscribed(world.alice.user)
    assert f"{name}-2" in names and name not in names


async def test_standard_folder_may_not_be_renamed(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    folders = (await client.get(f"{API}/mailboxes/{mailbox.id}/folders", headers=world.alice.headers)).json()
    for folder in folders:
        if folder["name"] in ("INBOX", "Trash"):
            response = await client.patch(
                f"{API}/folders/{folder['id']}", json={"name": "X"}, headers=world.alice.headers
            )
            assert response.status_code == 403 and response.json()["error"]


async def test_flags_set_and_cleared(client: httpx.AsyncClient, world: World) -> None:
    message = await deliver_to(await own_mailbox(world.alice.user))
    url = f"{API}/messages/{message.id}"
    flagged = await client.patch(url, json={"seen": True, "flagged": True}, headers=world.alice.headers)
    assert flagged.status_code == 200 and set(flagged.json()["flags"]) == {"\\Seen", "\\Flagged"}
    cleared = await client.patch(url, json={"flagged": False}, headers=world.alice.headers)
    assert cleared.json()["flags"] == ["\\Seen"]
    stored = await reload(message)
    assert stored is not None and stored.seen and not stored.flagged


async def test_move_to_trash_gives_the_message_a_new_id_there(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    message = await deliver_to(mailbox, subject=unique("Corbeille"))
    folders = (await client.get(f"{API}/mailboxes/{mailbox.id}/folders", headers=world.alice.headers)).json()
    trash = next(f for f in folders if f["special_use"] == "\\Trash")
    moved = await client.post(
        f"{API}/messages/{message.id}/move", json={"folder_id": trash["id"]}, headers=world.alice.headers
    )
    assert moved.status_code == 200 and moved.json()["folder_id"] == trash["id"]
    assert [name for name, _row in await where_is(message.message_id)] == ["Trash"]
    assert (await client.get(f"{API}/messages/{message.id}", headers=world.alice.headers)).status_code == 404
    assert (await client.get(f"{API}/messages/{moved.json()['id']}", headers=world.alice.headers)).status_code == 200


async def test_move_to_a_folder_of_another_mailbox_is_404(client: httpx.AsyncClient, world: World) -> None:
    message = await deliver_to(world.shared)
    own = await own_mailbox(world.writer.user)
    folders = (await client.get(f"{API}/mailboxes/{own.id}/folders", headers=world.writer.headers)).json()
    response = await client.post(
        f"{API}/messages/{message.id}/move", json={"folder_id": folders[0]["id"]}, headers=world.writer.headers
    )
    assert response.status_code == 404
    assert await reload(message) is not None


async def test_send_delivers_and_files_a_copy_in_sent(client: httpx.AsyncClient, world: World) -> None:
    subject = unique("Réunion")
    body = {
        "to": [world.bob.user.email],
        "bcc": [world.reader.user.email],
        "subject": subject,
        "text": "À demain.",
        "attachments": [
            {"filename": "ordre.txt", "content_type": "text/plain", "data": base64.b64encode(b"1. budget").decode()}
        ],
    }
    sent = await client.post(f"{API}/send", json=body, headers=world.alice.headers)
    assert sent.status_code == 200, sent.text
    received = [m for m in await messages_in(world.bob.user) if m.subject == subject]
    assert len(received) == 1 and received[0].has_attachments
    assert received[0].message_id == sent.json()["message_id"]
    assert b"Bcc" not in received[0].header
    assert [m for m in await messages_in(world.reader.user) if m.subject == subject]
    copy = [m for m in await messages_in(world.alice.user, "Sent") if m.subject == subject]
    assert [m.id for m in copy] == [uuid.UUID(sent.json()["sent_copy_id"])]
    assert copy[0].seen and b"Bcc" in copy[0].header


async def test_send_as_a_shared_mailbox_when_granted(client: httpx.AsyncClient, world: World) -> None:
    subject = unique("Réponse")
    body = {"from": world.shared.address, "to": [world.bob.user.email], "subject": subject, "text": "Bonjour"}
    sent = await client.post(f"{API}/send", json=body, headers=world.writer.headers)
    assert sent.status_code == 200, sent.text
    [received] = [m for m in await messages_in(world.bob.user) if m.subject == subject]
    assert world.shared.address in received.from_addr and "Contact" in received.from_addr
    shared_folders = await client.get(f"{API}/mailboxes/{world.shared.id}/folders", headers=world.writer.headers)
    sent_folder = next(f for f in shared_folders.json() if f["special_use"] == "\\Sent")
    listed = (await client.get(f"{API}/folders/{sent_folder['id']}/messages", headers=world.writer.headers)).json()
    assert subject in [m["subject"] for m in listed["messages"]]  # the shared mailbox's Sent, not the writer's


async def test_send_takes_attachments_beyond_the_api_body_limit(client: httpx.AsyncClient, world: World) -> None:
    """The send route has the message size limit, not the 1 MiB of other API bodies."""
    subject = unique("Gros")
    data = base64.b64encode(bytes(range(256)) * 8192).decode()  # 2 MiB
    body = {"to": [world.bob.user.email], "subject": subject, "attachments": [{"filename": "a.bin", "data": data}]}
    sent = await client.post(f"{API}/send", json=body, headers=world.alice.headers)
    assert sent.status_code == 200, sent.text
    [received] = [m for m in await messages_in(world.bob.user) if m.subject == subject]
    assert received.size > 2 << 20


async def test_send_subject_with_line_separators_goes_on_one_line(client: httpx.AsyncClient, world: World) -> None:
    """A header cannot hold a line break of any kind: vertical tab, form feed, U+2028…"""
    word = unique("Ligne")
    body = {"to": [world.bob.user.email], "subject": f"{word}\u2028deux\vtrois\x1cquatre", "text": "x"}
    sent = await client.post(f"{API}/send", json=body, headers=world.alice.headers)
    assert sent.status_code == 200, sent.text
    assert [m.subject for m in await messages_in(world.bob.user) if word in m.subject] == [f"{word} deux trois quatre"]
