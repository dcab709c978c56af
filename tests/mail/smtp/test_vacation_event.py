"""The vacation responder reacts to the ``mail.delivered`` domain event, not to a call
from delivery: any local delivery (inbound, submission) announces each stored copy, and
the handler, run as a job at least once, replies at most once."""

from __future__ import annotations

import dataclasses
import email
import uuid

import pytest
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.core.jobs import Job
from hexagone.mail.module import MODULE
from hexagone.mail.service import delivery, vacation
from hexagone.mail.sieve import Vacation
from tests.conftest import Server
from tests.mail.factories import deliver, make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import eventually, inbound, inbox_bytes, mail_user, submission
from tests.mail.smtp.test_vacation import away

pytestmark = pytest.mark.usefixtures("migrated")


def delivered(org_id: uuid.UUID, mailbox_id: uuid.UUID, message_id: uuid.UUID, mail_from: str) -> dict[str, object]:
    """The event's payload, as the handler job receives it (JSON: identifiers as text),
    with the arguments of the script's ``vacation`` action."""
    return {
        "org_id": str(org_id),
        "mailbox_id": str(mailbox_id),
        "message_id": str(message_id),
        "mail_from": mail_from,
        "vacation": dataclasses.asdict(Vacation(reason="Je suis absent.")),
    }


def test_vacation_mail_module_subscribes_the_responder_to_deliveries() -> None:
    assert vacation.on_delivered in MODULE.event_handlers[delivery.DELIVERED_AUTO_REPLY]


async def reply_jobs_for(mailbox_id: uuid.UUID) -> int:
    """Auto-reply jobs ever queued for ``mailbox_id``, whatever their state."""
    async with system_session() as db:
        payloads = (await db.execute(select(Job.payload).where(Job.kind == vacation.JOB))).scalars()
        return sum(1 for p in payloads if p["payload"]["mailbox_id"] == str(mailbox_id))


async def test_vacation_delivery_queues_a_reply_job_only_for_a_mailbox_whose_auto_reply_is_on(
    mail_server: Server,
) -> None:
    org = await make_mail_org()
    alice, bob, carol = await mail_user(org), await mail_user(org), await mail_user(org)
    await away(bob)
    with inbound(mail_server) as client:
        client.sendmail(alice.email, [bob.email, carol.email], make_message(sender=alice.email, to=bob.email))
    [for_bob] = await messages_in(bob)
    [for_carol] = await messages_in(carol)
    assert await reply_jobs_for(for_bob.mailbox_id) == 1  # committed before the 250
    assert await reply_jobs_for(for_carol.mailbox_id) == 0


async def test_vacation_message_submitted_by_a_colleague_is_answered(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(bob)
    original = make_message(sender=alice.email, to=bob.email, message_id="<budget@example.org>")
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [bob.email], original)
    [reply] = await eventually(lambda: inbox_bytes(alice))
    parsed = email.message_from_bytes(reply)
    assert parsed["Auto-Submitted"] == "auto-replied" and parsed["In-Reply-To"] == "<budget@example.org>"


async def test_vacation_delivered_event_handled_twice_replies_once() -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(bob)
    message = await deliver(bob, make_message(sender=alice.email, to=bob.email))
    event = delivered(org.id, message.mailbox_id, message.id, alice.email)
    await vacation.on_delivered(event)
    await vacation.on_delivered(event)  # a job runs at least once
    assert len(await messages_in(alice)) == 1


async def test_vacation_delivered_event_for_a_message_deleted_meanwhile_sends_nothing() -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    await away(bob)
    message = await deliver(bob, make_message(sender=alice.email, to=bob.email))
    await vacation.on_delivered(delivered(org.id, message.mailbox_id, uuid.uuid4(), alice.email))
    assert await messages_in(alice) == []
