"""Mail rules at delivery, through real SMTP (smtplib on the inbound port): each
mailbox's active Sieve script files, flags, discards, redirects or answers, and no
script, broken or failing, ever loses a message (RFC 5228 2.10.6: implicit keep).
Redirect and vacation loops end."""

from __future__ import annotations

import email
import uuid
from email.header import decode_header, make_header

import pytest
from sqlalchemy import update

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.models import SieveScript
from hexagone.mail.service import mailboxes, sieve
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import eventually, inbound, inbox_bytes, mail_user
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink
from tests.mail.smtp.test_vacation import away, replies_settled

pytestmark = pytest.mark.usefixtures("migrated")

FILE_INVOICES = """require ["fileinto", "imap4flags"];
if header :contains "subject" "facture" { fileinto :flags ["\\\\Seen", "$Invoice"] "Archive"; }
"""


async def with_script(user: TestUser, content: str, *, checked: bool = True) -> None:
    """``content`` as the user's active script: through the service (checked), or written
    straight into the table (a script saved by an older version, that no longer parses)."""
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        script = await sieve.put(db, mailbox, "mine", "keep;" if not checked else content)
        await sieve.activate(db, mailbox, "mine")
        if not checked:
            await db.execute(update(SieveScript).where(SieveScript.id == script.id).values(content=content))
        await db.commit()


def send(server: Server, sender: str, recipient: str, **message: object) -> None:
    with inbound(server) as client:
        client.sendmail(sender, [recipient], make_message(sender=sender, to=recipient, **message))  # type: ignore[arg-type]


async def test_sieve_fileinto_with_flags_files_the_message_flagged(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(bob, FILE_INVOICES)

    send(mail_server, "shop@example.net", bob.email, subject="Votre facture de mars")
    send(mail_server, "alice@example.net", bob.email, subject="Déjeuner ?")

    [filed] = await messages_in(bob, "Archive")
    assert filed.subject == "Votre facture de mars" and filed.seen and filed.keywords == ["$Invoice"]
    [kept] = await messages_in(bob)
    assert kept.subject == "Déjeuner ?" and not kept.seen


async def test_sieve_discard_stores_nothing_and_the_sender_gets_250(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(bob, 'if address :is "from" "spam@example.net" { discard; }')

    with inbound(mail_server) as client:
        refused = client.sendmail("spam@example.net", [bob.email], make_message(sender="spam@example.net"))

    assert refused == {}
    assert await messages_in(bob) == [] and await messages_in(bob, "Trash") == []


async def test_sieve_envelope_detail_files_what_came_to_a_subaddress(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(
        bob, 'require ["envelope", "subaddress", "fileinto"]; if envelope :detail "to" "news" { fileinto "Archive"; }'
    )
    local, domain = bob.email.split("@")

    send(mail_server, "letter@example.net", f"{local}+news@{domain}")

    assert len(await messages_in(bob, "Archive")) == 1 and await messages_in(bob) == []


async def test_sieve_redirect_sends_the_message_on_from_the_mailbox(mail_server: Server, sink: Sink) -> None:
    bob = await mail_user()
    away_address = f"bob-{uuid.uuid4().hex[:8]}@{REMOTE_DOMAIN}"
    await with_script(bob, f'redirect "{away_address}";')

    send(mail_server, "alice@example.net", bob.email, subject="Pour Bob")

    [copy] = await eventually(lambda: _now(sink.messages_for(away_address)))
    assert copy.mail_from == bob.email
    assert copy.content.startswith(f"Delivered-To: {bob.email}\r\n".encode())
    assert b"Return-Path:" not in copy.content and b"Subject: Pour Bob" in copy.content
    assert await messages_in(bob) == [], "redirect cancels the implicit keep"


async def test_sieve_redirect_copy_also_keeps_it(mail_server: Server) -> None:
    org = await make_mail_org()
    bob, carol = await mail_user(org), await mail_user(org)
    await with_script(bob, f'require "copy"; redirect :copy "{carol.email}";')

    send(mail_server, "alice@example.net", bob.email)

    [copy] = await eventually(lambda: inbox_bytes(carol))
    assert copy.startswith(f"Return-Path: <{bob.email}>\r\nDelivered-To: {bob.email}\r\n".encode())
    assert len(await messages_in(bob)) == 1


async def test_sieve_redirect_loop_between_two_mailboxes_ends_kept(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await with_script(alice, f'redirect "{bob.email}";')
    await with_script(bob, f'redirect "{alice.email}";')

    send(mail_server, "carol@example.net", alice.email, subject="Ping-pong")

    [kept] = await eventually(lambda: inbox_bytes(alice))
    delivered_to = email.message_from_bytes(kept).get_all("Delivered-To")
    assert delivered_to == [bob.email, alice.email]
    assert await messages_in(bob) == []


async def test_sieve_broken_script_delivers_to_inbox(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(bob, 'require "fileinto"; if header :contains "subject" {', checked=False)

    send(mail_server, "alice@example.net", bob.email)

    assert len(await messages_in(bob)) == 1


async def test_sieve_script_failing_on_the_message_delivers_to_inbox(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(bob, 'require "fileinto"; fileinto "Archive"; redirect "not an address";')

    send(mail_server, "alice@example.net", bob.email)

    assert len(await messages_in(bob)) == 1 and await messages_in(bob, "Archive") == []


async def test_sieve_fileinto_a_folder_that_does_not_exist_delivers_to_inbox(mail_server: Server) -> None:
    bob = await mail_user()
    await with_script(bob, 'require ["fileinto", "imap4flags"]; fileinto :flags "\\\\Flagged" "Nowhere";')

    send(mail_server, "alice@example.net", bob.email)

    [kept] = await messages_in(bob)
    assert kept.flagged


async def test_sieve_vacation_of_a_script_written_by_hand_answers_once(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await with_script(bob, 'require "vacation"; vacation :days 2 :subject "Parti" "En congé jusqu\'à lundi.";')

    send(mail_server, alice.email, bob.email)
    send(mail_server, alice.email, bob.email)

    [reply] = await eventually(lambda: inbox_bytes(alice))
    assert await eventually(replies_settled)
    parsed = email.message_from_bytes(reply)
    assert str(make_header(decode_header(parsed["Subject"]))) == "Parti"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert "En congé jusqu'à lundi." in parsed.get_payload(decode=True).decode()
    assert len(await messages_in(alice)) == 1 and len(await messages_in(bob)) == 2


async def test_sieve_vacation_of_two_absent_colleagues_does_not_loop(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(alice)
    await away(bob)

    send(mail_server, alice.email, bob.email, subject="Question")

    await eventually(lambda: inbox_bytes(alice))
    assert await eventually(replies_settled)
    assert len(await messages_in(alice)) == 1, "the auto-reply is not answered in turn"
    assert len(await messages_in(bob)) == 1


async def _now(value):  # type: ignore[no-untyped-def]
    return value


async def test_sieve_vacation_answers_a_message_the_script_discards(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await with_script(bob, 'require "vacation"; vacation "Je ne lis plus cette adresse."; discard;')

    send(mail_server, alice.email, bob.email, message_id="<old@example.org>")

    [reply] = await eventually(lambda: inbox_bytes(alice))
    assert email.message_from_bytes(reply)["In-Reply-To"] == "<old@example.org>"
    assert await messages_in(bob) == []
