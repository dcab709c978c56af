"""Writing: the compose form and its From choices, drafts saved as one types, replies and
forwards, attachments, sending through the outbound service, the copy in Sent."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable

import httpx

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.models import Message
from hexagone.mail.service import mailboxes, store
from tests.conftest import Server
from tests.mail.factories import deliver, make_mail_org, make_mail_user, make_message, messages_in
from tests.mail.smtp.helpers import add_alias
from tests.mail.web.helpers import make_pair, post, reload, signed_in


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


async def raw_of(message: Message) -> bytes:
    return await store.read(message)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert found, name
    return found.group(1)


async def test_compose_from_offers_only_the_addresses_one_may_send_as(client: httpx.AsyncClient) -> None:
    org = await make_mail_org()
    alice = await make_mail_user(org)
    await add_alias(alice, f"contact@{org.domain}")
    await signed_in(client, alice)

    page = (await client.get("/mail/compose")).text

    options = re.findall(r'<option value="([^"]+)"', page.split('id="sender"')[1].split("</select>")[0])
    assert options == [alice.email, f"contact@{org.domain}"]


async def test_signature_is_inserted_in_a_new_message(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    await post(client, "/mail/settings/signature", {"signature": "Jeanne Martin\nService des sports"})

    page = (await client.get("/mail/compose")).text

    assert "\n-- \nJeanne Martin\nService des sports" in page


async def test_autosave_keeps_one_draft_replacing_the_previous_version(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    page = (await client.get("/mail/compose")).text
    fields = {
        "sender": user.email,
        "to": "someone@example.net",
        "subject": "Plan",
        "body": "First words",
        "message_id": hidden(page, "message_id"),
    }

    first = await post(client, "/mail/compose/autosave", fields)
    first_id = re.search(r'id="compose-draft" value="([^"]+)"', first.text).group(1)
    second = await post(
        client, "/mail/compose/autosave", {**fields, "body": "First words, then more", "draft": first_id}
    )
    second_id = re.search(r'id="compose-draft" value="([^"]+)"', second.text).group(1)

    assert first.status_code == second.status_code == 200 and first_id != second_id
    assert 'hx-swap-oob="innerHTML"' in second.text
    [draft] = await messages_in(user, "Drafts")
    assert str(draft.id) == second_id and draft.draft and draft.seen
    assert "First words, then more" in (await raw_of(draft)).decode()


async def test_autosave_of_an_empty_form_saves_nothing(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/compose/autosave", {"sender": user.email, "body": "\n\n"})

    assert response.status_code == 204 and await messages_in(user, "Drafts") == []


async def test_draft_opens_again_in_the_compose_form(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    saved = await post(
        client,
        "/mail/compose",
        {
            "action": "save",
            "sender": user.email,
            "to": "Ana <ana@example.net>",
            "subject": "Unfinished",
            "body": "Half a thought",
        },
    )
    [draft] = await messages_in(user, "Drafts")

    opened = await client.get(f"/mail/messages/{draft.id}")
    page = (await client.get(opened.headers["location"])).text

    assert saved.headers["location"].startswith(f"/mail/compose?draft={draft.id}")
    assert opened.headers["location"] == f"/mail/compose?draft={draft.id}"
    assert 'value="Ana &lt;ana@example.net&gt;"' in page and 'value="Unfinished"' in page and "Half a thought" in page


async def test_reply_starts_with_the_sender_subject_quote_and_threading(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    original = await deliver(
        user,
        make_message(
            sender="Ana <ana@example.net>",
            to=user.email,
            subject="Question",
            body="Are you coming?\n",
            message_id="<q1@example.net>",
        ),
    )
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{original.id}/reply")).text

    assert 'id="to" name="to" type="text" value="Ana &lt;ana@example.net&gt;"' in page
    assert 'value="Re: Question"' in page and "&gt; Are you coming?" in page
    assert hidden(page, "in_reply_to") == "&lt;q1@example.net&gt;"


async def test_reply_to_all_copies_the_others_but_not_oneself(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    original = await deliver(
        user, make_message(sender="ana@example.net", to=f"{user.email}, leo@example.net", subject="Re: Agenda")
    )
    await signed_in(client, user)

    page = (await client.get(f"/mail/messages/{original.id}/reply-all")).text

    assert 'name="cc" type="text" value="leo@example.net"' in page
    assert 'value="Re: Agenda"' in page and f'name="cc" type="text" value="{user.email}' not in page


async def test_send_delivers_files_a_copy_in_sent_marks_answered_and_drops_the_draft(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    original = await deliver(
        pair.alice,
        make_message(sender=pair.bob.email, to=pair.alice.email, subject="Lunch?", message_id="<lunch@example.net>"),
    )
    await signed_in(client, pair.alice)
    page = (await client.get(f"/mail/messages/{original.id}/reply")).text
    fields = {
        "sender": pair.alice.email,
        "to": pair.bob.email,
        "bcc": "",
        "subject": "Re: Lunch?",
        "body": "Yes, at noon.",
        "in_reply_to": "<lunch@example.net>",
        "references": "<lunch@example.net>",
        "message_id": hidden(page, "message_id"),
    }
    saved = await post(client, "/mail/compose/autosave", fields)
    draft_id = re.search(r'id="compose-draft" value="([^"]+)"', saved.text).group(1)

    response = await post(client, "/mail/compose", {**fields, "action": "send", "draft": draft_id})

    assert response.status_code == 303 and "done=sent" in response.headers["location"]
    [received] = await messages_in(pair.bob)
    message = parsed(await raw_of(received))
    assert message["In-Reply-To"] == "<lunch@example.net>" and message["Subject"] == "Re: Lunch?"
    assert message.get_body().get_content().strip() == "Yes, at noon."
    assert "DKIM-Signature" in message
    [sent] = await messages_in(pair.alice, "Sent")
    assert sent.seen and sent.message_id == received.message_id
    assert await messages_in(pair.alice, "Drafts") == []
    assert (await reload(original)).answered


async def test_bcc_recipients_receive_it_but_only_the_sent_copy_names_them(client: httpx.AsyncClient) -> None:
    org = await make_mail_org()
    alice, bob, carol = [await make_mail_user(org) for _ in range(3)]
    await signed_in(client, alice)

    await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": alice.email,
            "to": bob.email,
            "bcc": carol.email,
            "subject": "Surprise",
            "body": "Shh.",
        },
    )

    [to_bob] = await messages_in(bob)
    [to_carol] = await messages_in(carol)
    [sent] = await messages_in(alice, "Sent")
    assert "Bcc" not in parsed(await raw_of(to_bob)) and "Bcc" not in parsed(await raw_of(to_carol))
    assert parsed(await raw_of(sent))["Bcc"] == carol.email


async def test_uploaded_attachment_larger_than_the_page_limit_is_sent(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    await signed_in(client, pair.alice)
    data = bytes(range(256)) * 8192  # 2 MiB, twice the limit of ordinary forms

    response = await post(
        client,
        "/mail/compose",
        {"action": "send", "sender": pair.alice.email, "to": pair.bob.email, "subject": "Report", "body": "Attached."},
        files=[("attachments", ("rapport annuel.pdf", data, "application/pdf"))],
    )

    assert response.status_code == 303, response.text[:300]
    [received] = await messages_in(pair.bob)
    [attachment] = list(parsed(await raw_of(received)).iter_attachments())
    assert attachment.get_filename() == "rapport annuel.pdf" and attachment.get_content() == data
    assert attachment.get_content_type() == "application/pdf"


async def test_forward_keeps_the_attachments_of_the_original(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    original = await deliver(
        pair.alice, subject="Minutes", attachments=(("minutes.txt", b"1. Budget\n", "text/plain"),)
    )
    await signed_in(client, pair.alice)
    page = (await client.get(f"/mail/messages/{original.id}/forward")).text

    assert 'value="Fwd: Minutes"' in page and 'name="keep" value="0" checked' in page
    response = await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": pair.alice.email,
            "to": pair.bob.email,
            "subject": "Fwd: Minutes",
            "body": "See below.",
            "forward_of": hidden(page, "forward_of"),
            "keep": "0",
        },
    )

    assert response.status_code == 303
    [received] = await messages_in(pair.bob)
    [attachment] = list(parsed(await raw_of(received)).iter_attachments())
    assert attachment.get_filename() == "minutes.txt" and attachment.get_content() == "1. Budget\n"


async def test_invalid_recipient_is_refused_and_the_draft_keeps_the_upload(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(
        client,
        "/mail/compose",
        {"action": "send", "sender": user.email, "to": "not an address", "subject": "Oops", "body": "Text"},
        files=[("attachments", ("notes.txt", b"notes", "text/plain"))],
    )

    assert response.status_code == 400
    assert "alert-error" in response.text and 'value="not an address"' in response.text
    assert "notes.txt" in response.text
    [draft] = await messages_in(user, "Drafts")
    assert b"notes" in await raw_of(draft)


async def test_sending_as_an_address_not_ones_own_is_refused(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    await signed_in(client, pair.alice)

    response = await post(
        client,
        "/mail/compose",
        {"action": "send", "sender": pair.bob.email, "to": pair.bob.email, "subject": "Forged", "body": "x"},
    )

    assert response.status_code in (400, 403)
    assert await messages_in(pair.bob) == []


async def test_shared_mailbox_with_send_as_files_its_sent_copy_there(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    async with org_session(pair.org.id) as db:
        shared = await mailboxes.create_shared_mailbox(db, pair.org.id, f"accueil@{pair.org.domain}", "Accueil")
        await mailboxes.grant(db, shared, pair.alice.id, can_send_as=True)
        await db.commit()
    await signed_in(client, pair.alice)

    response = await post(
        client,
        "/mail/compose",
        {
            "action": "send",
            "sender": f"accueil@{pair.org.domain}",
            "to": pair.bob.email,
            "subject": "Welcome",
            "body": "Hello",
        },
    )

    assert response.status_code == 303
    [received] = await messages_in(pair.bob)
    assert parsed(await raw_of(received))["From"] == f"Accueil <accueil@{pair.org.domain}>"
    assert await messages_in(pair.alice, "Sent") == []
    async with org_session(pair.org.id) as db:
        sent = await mailboxes.folder_by_special_use(db, shared.id, "\\Sent")
        assert sent is not None and sent.uid_next == 2


async def test_discard_deletes_the_draft(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    await post(client, "/mail/compose", {"action": "save", "sender": user.email, "subject": "Never mind", "body": "x"})
    [draft] = await messages_in(user, "Drafts")

    response = await post(client, "/mail/compose/discard", {"draft": str(draft.id)})

    assert response.status_code == 303 and await messages_in(user, "Drafts") == []


async def test_people_completion_finds_colleagues_and_nobody_elsewhere(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    outsider = await make_mail_user()
    await signed_in(client, pair.alice)
    async with org_session(pair.org.id) as db:
        bob = await db.get(User, pair.bob.id)
        name = bob.display_name

    found = (await client.get("/mail/people", params={"q": name[:8]})).json()
    foreign = (await client.get("/mail/people", params={"q": outsider.email.split("@")[0]})).json()

    assert {"name": name, "address": pair.bob.email} in found
    assert foreign == []
    assert (await client.get("/mail/people")).json() == []


async def test_message_over_the_size_limit_is_refused_with_the_form_as_typed(
    start_server: Callable[..., Server],
) -> None:
    small = start_server(HEXAGONE_MAIL_MAX_MESSAGE_BYTES="200000")
    user = await make_mail_user()
    async with httpx.AsyncClient(base_url=small.base_url) as client:
        await signed_in(client, user)
        response = await post(
            client,
            "/mail/compose",
            {"action": "send", "sender": user.email, "to": user.email, "subject": "Big", "body": "Kept text"},
            files=[("attachments", ("big.bin", b"x" * 150_000, "application/octet-stream"))],
        )

    assert response.status_code == 400 and "alert-error" in response.text
    assert 'value="Big"' in response.text and "Kept text" in response.text
    assert await messages_in(user, "Drafts") == [] and await messages_in(user) == []
