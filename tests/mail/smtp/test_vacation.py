"""The vacation auto-reply (RFC 3834): once per sender, never to automatic mail."""

from __future__ import annotations

import email
import uuid

import pytest
from sqlalchemy import func, select

from hexagone.core.db import org_session, system_session
from hexagone.core.jobs import Job, JobStatus
from hexagone.identity.models import User
from hexagone.mail.service import mailboxes, sieve, vacation
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import eventually, inbound, inbox_bytes, mail_user
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink

pytestmark = pytest.mark.usefixtures("migrated")


async def away(user: TestUser) -> None:
    """The user's automatic reply turned on, as the settings page does it."""
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        mailbox.vacation_enabled = True
        mailbox.vacation_subject = "Absent jusqu'au 2 janvier"
        mailbox.vacation_body = "Je suis absent.\nEn cas d'urgence : accueil@example.org"
        await sieve.vacation_changed(db, mailbox, None)
        await db.commit()


async def replies_settled() -> bool:
    """No auto-reply job waiting or running (so an absent reply is a decision, not a delay)."""
    async with system_session() as db:
        waiting = (
            await db.execute(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == vacation.JOB, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            )
        ).scalar_one()
    return waiting == 0


async def test_vacation_replies_once_per_sender(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(bob)
    original = make_message(sender=alice.email, to=bob.email, subject="Réunion", message_id="<q1@example.org>")
    with inbound(mail_server) as client:
        client.sendmail(alice.email, [bob.email], original)
    [reply] = await eventually(lambda: inbox_bytes(alice))
    parsed = email.message_from_bytes(reply)
    assert parsed["Auto-Submitted"] == "auto-replied" and parsed["In-Reply-To"] == "<q1@example.org>"
    assert parsed["From"].endswith(f"<{bob.email}>") and "DKIM-Signature" in parsed
    assert reply.startswith(b"Return-Path: <>\r\n")
    assert "Je suis absent." in parsed.get_payload(decode=True).decode()
    with inbound(mail_server) as client:
        client.sendmail(alice.email, [bob.email], make_message(sender=alice.email, to=bob.email))
    assert await eventually(replies_settled)
    assert len(await messages_in(alice)) == 1


@pytest.mark.parametrize(
    "headers", [{"Precedence": "bulk"}, {"List-Id": "<annonces.example.org>"}, {"Auto-Submitted": "auto-generated"}]
)
async def test_vacation_automatic_mail_gets_no_reply(mail_server: Server, headers: dict[str, str]) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(bob)
    raw = make_message(sender=alice.email, to=bob.email)
    header = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
    with inbound(mail_server) as client:
        client.sendmail(alice.email, [bob.email], header + raw)
    assert await eventually(replies_settled)
    assert await messages_in(alice) == [] and len(await messages_in(bob)) == 1


async def test_vacation_bounce_and_blind_copy_get_no_reply(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob, carol = await mail_user(org), await mail_user(org), await mail_user(org)
    await away(bob)
    with inbound(mail_server) as client:
        client.sendmail("<>", [bob.email], make_message(sender=alice.email, to=bob.email))
        client.sendmail(alice.email, [bob.email], make_message(sender=alice.email, to=carol.email))  # bob in Bcc
    assert await eventually(replies_settled)
    assert await messages_in(alice) == [] and len(await messages_in(bob)) == 2


async def test_vacation_reply_to_a_remote_sender_leaves_with_a_null_sender(mail_server: Server, sink: Sink) -> None:
    bob = await mail_user()
    await away(bob)
    sender = f"ok-{uuid.uuid4().hex[:8]}@{REMOTE_DOMAIN}"
    with inbound(mail_server) as client:
        client.sendmail(sender, [bob.email], make_message(sender=sender, to=bob.email))
    [reply] = await eventually(lambda: _async(sink.messages_for(sender)))
    assert reply.mail_from == "" and b"Subject: =?utf-8?" in reply.content


async def _async(value):  # type: ignore[no-untyped-def]
    return value
