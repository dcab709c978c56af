"""Reading through the API with a token: the mailboxes one may open, folders with their
counts, a folder's messages newest first a page at a time, one message with its body
sanitised as the webmail shows it, and an attachment's bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.mail.service import mailboxes, store
from tests.factories import unique
from tests.mail.api.helpers import API, World, deliver_to, make_world, own_mailbox
from tests.mail.web.helpers import reload


@pytest.fixture(scope="module")
async def world(base_url: str) -> World:
    return await make_world(base_url)


async def test_mailboxes_lists_own_first_then_grants_with_their_rights(client: httpx.AsyncClient, world: World) -> None:
    listed = (await client.get(f"{API}/mailboxes", headers=world.writer.headers)).json()
    assert [(m["address"], m["own"], m["can_write"], m["can_send_as"]) for m in listed] == [
        (world.writer.user.email.lower(), True, True, True),
        (world.shared.address, False, True, True),
    ]
    reader = (await client.get(f"{API}/mailboxes", headers=world.reader.headers)).json()
    assert [(m["can_write"], m["can_send_as"]) for m in reader] == [(True, True), (False, False)]


async def test_folders_list_inbox_first_with_counts(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    before = {
        f["name"]: f
        for f in (await client.get(f"{API}/mailboxes/{mailbox.id}/folders", headers=world.alice.headers)).json()
    }
    await deliver_to(mailbox)
    folders = (await client.get(f"{API}/mailboxes/{mailbox.id}/folders", headers=world.alice.headers)).json()
    assert folders[0]["name"] == "INBOX"
    assert {"Drafts", "Sent", "Trash", "Junk", "Archive"} <= {f["name"] for f in folders}
    inbox = folders[0]
    assert (inbox["total"], inbox["unseen"]) == (before["INBOX"]["total"] + 1, before["INBOX"]["unseen"] + 1)
    trash = next(f for f in folders if f["name"] == "Trash")
    assert trash["special_use"] == "\\Trash"


async def test_messages_page_newest_first_and_stable_when_mail_arrives(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    name = unique("Paging")
    async with org_session(mailbox.org_id) as db:
        folder = await mailboxes.create_folder(db, mailbox, name)
        await db.commit()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    delivered = []
    for n in range(5):
        async with org_session(mailbox.org_id) as db:
            target = await mailboxes.folder_by_name(db, mailbox.id, name)
            assert target is not None
            raw = EmailMessage()
            raw["Subject"] = f"n{n}"
            raw.set_content("x")
            delivered.append(await store.append(db, target, raw.as_bytes(), internal_date=start + timedelta(days=n)))
            await db.commit()
    url = f"{API}/folders/{folder.id}/messages"
    first = (await client.get(url, params={"limit": 2}, headers=world.alice.headers)).json()
    assert [m["subject"] for m in first["messages"]] == ["n4", "n3"]
    await deliver_to(mailbox, folder=name, subject="late")  # arrives now: the newest, on page one
    second = (
        await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.alice.headers)
    ).json()
    assert [m["subject"] for m in second["messages"]] == ["n2", "n1"]
    last = (
        await client.get(url, params={"limit": 2, "cursor": second["next_cursor"]}, headers=world.alice.headers)
    ).json()
    assert [m["subject"] for m in last["messages"]] == ["n0"] and last["next_cursor"] is None
    again = (await client.get(url, params={"limit": 2}, headers=world.alice.headers)).json()
    assert [m["subject"] for m in again["messages"]] == ["late", "n4"]


async def test_message_body_is_sanitised_as_the_webmail_shows_it(client: httpx.AsyncClient, world: World) -> None:
    mailbox = await own_mailbox(world.alice.user)
    raw = EmailMessage()
    raw["From"] = "Ana <ana@example.net>"
    raw["To"] = world.alice.user.email
    raw["Subject"] = "Newsletter"
    raw.set_content("Version texte")
    raw.add_alternative(
        '<p onclick="x()">Bonjour <script>alert(1)</script><img src="https://tracker.example/p.gif">'
        '<a href="javascript:alert(2)">lien</a></p>',
        subtype="html",
    )
    raw.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="devis.pdf")
    async with org_session(mailbox.org_id) as db:
        inbox = await mailboxes.folder_by_name(db, mailbox.id, mailboxes.INBOX)
        assert inbox is not None
        message = await store.append(db, inbox, raw.as_bytes())
        await db.commit()
    read = (await client.get(f"{API}/messages/{message.id}", headers=world.alice.headers)).json()
    assert read["subject"] == "Newsletter" and read["from"] == "Ana <ana@example.net>"
    assert "Bonjour" in read["html"]
    for dangerous in ("<script", "onclick", "tracker.example", "javascript:"):
        assert dangerous not in read["html"]
    assert "Version texte" in read["text"]
    [attachment] = read["attachments"]
    assert (attachment["index"], attachment["filename"], attachment["content_type"]) == (
        2,
        "devis.pdf",
        "application/pdf",
    )
    assert attachment["size"] >= 13  # estimated from the base64 size
    assert "\\Seen" not in read["flags"]  # reading through the API leaves the flags alone
    reloaded = await reload(message)
    assert reloaded is not None and not reloaded.seen

    download = await client.get(f"{API}/messages/{message.id}/attachments/2", headers=world.alice.headers)
    assert download.status_code == 200 and download.content == b"%PDF-1.4 data"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''devis.pdf"


async def test_attachment_index_that_names_no_part_is_404(client: httpx.AsyncClient, world: World) -> None:
    message = await deliver_to(await own_mailbox(world.alice.user))
    response = await client.get(f"{API}/messages/{message.id}/attachments/7", headers=world.alice.headers)
    assert response.status_code == 404 and response.json()["error"]
