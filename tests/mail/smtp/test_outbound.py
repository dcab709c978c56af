"""The outbound queue: remote delivery to a real SMTP peer on loopback (reached through
the MX override), retries after a temporary failure, bounces after a permanent one or
after expiry, and the platform's own e-mail drained from the core outbox."""

from __future__ import annotations

import email
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hexagone.core import outbox
from hexagone.core.db import system_session, utcnow
from hexagone.core.jobs.models import Job, JobStatus
from hexagone.core.models import OutboxMessage
from hexagone.mail.models import OutboundMessage, OutboundRecipient
from hexagone.mail.service.relay import QUEUE_JOB
from tests.conftest import Server
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import eventually, inbox_bytes, mail_user, submission
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink

pytestmark = pytest.mark.usefixtures("migrated")


def remote(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}@{REMOTE_DOMAIN}"


async def queued(address: str) -> list[OutboundRecipient]:
    async with system_session() as db:
        return list((await db.execute(select(OutboundRecipient).where(OutboundRecipient.address == address))).scalars())


async def bounces(user) -> list[email.message.Message]:  # type: ignore[no-untyped-def]
    return [email.message_from_bytes(raw) for raw in await inbox_bytes(user) if b"report-type=delivery-status" in raw]


async def test_outbound_remote_recipient_is_delivered_to_the_peer_over_starttls(
    mail_server: Server, sink: Sink
) -> None:
    alice = await mail_user()
    recipient = remote("ok-")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [recipient], make_message(sender=alice.email, to=recipient, subject="Far away"))
    [received] = await eventually(lambda: _async(sink.messages_for(recipient)))
    assert received.mail_from == alice.email and received.tls
    assert received.content.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert b"Subject: Far away" in received.content
    assert await eventually(lambda: _none_queued(recipient)), "the queue forgets a delivered message"


async def test_outbound_local_and_remote_recipients_in_one_message(mail_server: Server, sink: Sink) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    far = remote("ok-")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [bob.email, far], make_message(sender=alice.email, to=f"{bob.email}, {far}"))
    assert len(await messages_in(bob)) == 1  # local delivery is done before the 250
    assert await eventually(lambda: _async(sink.messages_for(far)))
    assert await eventually(lambda: _none_queued(far))


async def test_outbound_temporary_failure_is_retried_until_delivered(mail_server: Server, sink: Sink) -> None:
    alice = await mail_user()
    recipient = remote("temp-")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [recipient], make_message(sender=alice.email, to=recipient))
    assert await eventually(lambda: _async(sink.messages_for(recipient)), timeout=30)
    assert sink.handler.refused_once >= {recipient}
    assert await eventually(lambda: _none_queued(recipient))
    assert await bounces(alice) == []


async def test_outbound_permanent_failure_bounces_to_the_sender(mail_server: Server, sink: Sink) -> None:
    alice = await mail_user()
    recipient = remote("bad-")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [recipient], make_message(sender=alice.email, to=recipient, subject="Lost"))
    [report] = await eventually(lambda: bounces(alice))
    assert report["Auto-Submitted"] == "auto-replied" and report.get_content_type() == "multipart/report"
    human, status, original = report.get_payload()
    assert recipient in human.get_payload(decode=True).decode()
    fields = status.as_string()
    assert (
        f"Final-Recipient: rfc822; {recipient}" in fields and "Status: 5.1.1" in fields and "Action: failed" in fields
    )
    assert original.get_content_type() == "text/rfc822-headers" and "Subject: Lost" in original.as_string()
    assert await eventually(lambda: _none_queued(recipient))


async def test_outbound_message_still_queued_at_expiry_bounces(mail_server: Server, sink: Sink) -> None:
    alice = await mail_user()
    recipient = remote("down-")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [recipient], make_message(sender=alice.email, to=recipient))
    [row] = await eventually(lambda: _tried(recipient), timeout=30)
    assert row.status == "queued" and row.last_error.startswith("451")
    async with system_session() as db:  # five days pass
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row.outbound_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    [report] = await eventually(lambda: _due_now(row.outbound_id, then=bounces(alice)), timeout=30)
    assert "Status: 4.4.7" in report.get_payload()[1].as_string()
    assert sink.messages_for(recipient) == []
    assert await eventually(lambda: _none_queued(recipient))


async def test_outbound_platform_mail_in_the_outbox_is_delivered_and_marked_sent(
    mail_server: Server, sink: Sink
) -> None:
    user = await mail_user()
    far = remote("ok-")
    async with system_session() as db:
        rows = [
            outbox.enqueue(
                db,
                org_id=user.org_id,
                recipient=address,
                subject="Réinitialisez votre mot de passe",
                body="Ouvrez ce lien : http://example.org/reset/abc",
                kind="password_reset",
            )
            for address in (user.email, far)
        ]
        await db.commit()
    [message] = await eventually(lambda: messages_in(user))
    assert message.subject == "Réinitialisez votre mot de passe" and "<noreply@" in message.from_addr
    assert await eventually(lambda: _async(sink.messages_for(far)))
    assert await eventually(lambda: _none_queued(far))
    async with system_session() as db:
        sent = (
            await db.execute(select(OutboxMessage.sent_at).where(OutboxMessage.id.in_([r.id for r in rows])))
        ).scalars()
        assert all(at is not None for at in sent)


async def _async(value):  # type: ignore[no-untyped-def]
    return value


async def _due_now(outbound_id: uuid.UUID, then):  # type: ignore[no-untyped-def]
    """Make the message's next attempt due: after several failed tries the backoff may put
    it beyond a test's wait (attempt 7 waits 32 to 64 s with the tests' 1 s base). Only
    this message's job, found by its payload: others in the database may hang on slow peers."""
    async with system_session() as db:
        waiting = (await db.execute(select(Job).where(Job.kind == QUEUE_JOB, Job.status == JobStatus.QUEUED))).scalars()
        ours = [job.id for job in waiting if job.payload.get("outbound_id") == str(outbound_id)]
        await db.execute(update(Job).where(Job.id.in_(ours)).values(run_at=utcnow()))
        await db.commit()
    return await then


async def _none_queued(address: str) -> bool:
    return await queued(address) == []


async def _tried(address: str) -> list[OutboundRecipient]:
    return [row for row in await queued(address) if row.attempts >= 1]
