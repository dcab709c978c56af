"""Draining the core outbox: the platform's own e-mail (password resets, invitations)
waits in ``core.models.OutboxMessage`` until the mail module sends it.

Each row is queued exactly once: one transaction marks it sent (only if nobody else did,
so several processes may drain together) and adds it to the outbound queue, whose job
then delivers it locally or remotely like any other message.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import uuid
from email.message import EmailMessage

from sqlalchemy import select, update

from hexagone.core import blobs
from hexagone.core.db import system_session, utcnow
from hexagone.core.failures import log_failure
from hexagone.core.models import OutboxMessage
from hexagone.mail.service import delivery, relay, store

log = logging.getLogger("hexagone.mail.outbound")

INTERVAL = 2.0  # seconds between looks at the outbox
BATCH = 50


def compose(row: OutboxMessage) -> bytes:
    message = EmailMessage()
    message["From"] = email.utils.formataddr(("Hexagone", relay.platform_sender()))
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = email.utils.format_datetime(row.created_at or utcnow())
    message["Message-ID"] = email.utils.make_msgid(domain=relay.platform_sender().rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


async def drain_once() -> int:
    """Queue what the outbox holds, in one write transaction (few commits: on SQLite
    every commit may make a concurrent read-then-write transaction fail). Returns how
    many messages were queued."""
    async with system_session() as db:
        rows = list(
            (
                await db.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))
                    .order_by(OutboxMessage.created_at)
                    .limit(BATCH)
                )
            ).scalars()
        )
    if not rows:
        return 0
    prepared: list[tuple[OutboxMessage, uuid.UUID | None, blobs.BlobRef | None]] = []
    for row in rows:
        org_id = row.org_id
        if org_id is None:
            recipient = await delivery.resolve(row.recipient)
            org_id = recipient.org_id if recipient else None
        prepared.append((row, org_id, await store.put_blob(org_id, compose(row)) if org_id else None))
    queued = 0
    async with system_session(write=True) as db:
        for row, org_id, ref in prepared:
            taken = await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.sent_at.is_(None))
                .values(sent_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if org_id is None or ref is None:
                log.warning("platform message to %s has no organisation to send it from: dropped", row.recipient)
            elif taken.rowcount != 1:  # type: ignore[attr-defined]
                store.forget_blobs(db, org_id, [ref.key])  # another process queued it
            else:
                await relay.queue_platform_mail(db, org_id, ref, row.recipient)
                queued += 1
        await db.commit()
    return queued


async def drain() -> None:
    """Look at the outbox every few seconds, until cancelled (a ``Module.servers`` entry)."""
    while True:
        try:
            await drain_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_failure(log, "draining the outbox (trying again)", error)
        await asyncio.sleep(INTERVAL)
