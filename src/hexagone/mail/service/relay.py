"""The queue of what could not be delivered at once, and bounces.

Every message on its way somewhere passes through :func:`send`: what users send (from
:mod:`hexagone.mail.service.outbound`), inbound mail (from the SMTP listener),
auto-replies, bounces, and the platform's own e-mail drained from the core outbox.
Local recipients are delivered at once (:mod:`hexagone.mail.service.delivery`); the
rest is queued.

- A **remote** recipient, or a local one whose delivery failed for a reason that may
  pass, is **queued**: the bytes in the blob store, an ``OutboundMessage`` row with one
  ``OutboundRecipient`` per address, and a durable job, committed before the caller
  acknowledges the message. The job (:func:`run_queue`) delivers what it can, then
  queues its next attempt with backoff, or finishes and forgets the blob.
- A **permanent** failure (a 5xx reply, a full mailbox) or a message still queued when
  its lifetime ends (``HEXAGONE_MAIL_QUEUE_LIFETIME_SECONDS``, five days) produces a
  bounce (:mod:`hexagone.mail.transport.dsn`) to the envelope sender, sent with a null
  sender so that bounces never loop.

Delivery from the queue is at least once, as everywhere in mail: a crash after a peer
accepted a message but before the queue recorded it sends it again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import org_session, utcnow
from hexagone.mail.models import OutboundMessage, OutboundRecipient
from hexagone.mail.service import store
from hexagone.mail.service.addresses import Recipient
from hexagone.mail.service.delivery import Outcome, after_delivery, deliver_local, domain_of, route
from hexagone.mail.transport import client, dsn

log = logging.getLogger("hexagone.mail.outbound")

QUEUE_JOB = "mail.outbound"
RETRY_CAP_SECONDS = 4 * 3600


class NothingDelivered(Exception):
    """Every recipient failed for good (their mailboxes are full): the caller refuses the
    message (SMTP 552) rather than accepting it only to bounce it."""

    def __init__(self, failures: list[dsn.Failure]):
        super().__init__("; ".join(f.diagnostic for f in failures))
        self.failures = failures


def platform_sender(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return settings.mail_platform_sender or f"noreply@{settings.resolved_mail_hostname}"


async def _add_to_queue(
    db: AsyncSession, org_id: uuid.UUID, ref: blobs.BlobRef, *, mail_from: str, recipients: list[str]
) -> None:
    message = OutboundMessage(
        id=uuid.uuid4(),
        org_id=org_id,
        mail_from=mail_from,
        blob_key=ref.key,
        size=ref.size,
        expires_at=utcnow() + timedelta(seconds=get_settings().mail_queue_lifetime_seconds),
    )
    db.add(message)
    await db.flush()  # the message row before its recipients: no ORM relationship orders them
    db.add_all([OutboundRecipient(org_id=org_id, outbound_id=message.id, address=a) for a in recipients])
    jobs.enqueue(db, QUEUE_JOB, {"outbound_id": message.id}, org_id=org_id)


async def enqueue(org_id: uuid.UUID, raw: bytes, *, mail_from: str, recipients: list[str]) -> None:
    """Queue ``raw`` for ``recipients``, durably (blob, rows and job committed)."""
    ref = await store.put_blob(org_id, raw)
    async with org_session(org_id) as db:
        await _add_to_queue(db, org_id, ref, mail_from=mail_from, recipients=recipients)
        await db.commit()


async def queue_platform_mail(db: AsyncSession, org_id: uuid.UUID, ref: blobs.BlobRef, recipient: str) -> None:
    """Queue a platform message (its bytes already stored) in the caller's transaction:
    the outbox drain marks the outbox row sent in the same one, so the message is queued
    exactly once."""
    await _add_to_queue(db, org_id, ref, mail_from=platform_sender(), recipients=[recipient])


async def send(
    raw: bytes,
    *,
    mail_from: str,
    local: dict[str, Recipient],
    remote: list[str],
    org_id: uuid.UUID | None,
    refuse_if_nothing_delivered: bool = False,
) -> Outcome:
    """Deliver ``raw`` to local recipients now and queue the rest. Returns once all of it
    is durable. ``org_id`` is the sending organisation, whose queue holds remote mail
    (None for inbound mail, which has no remote recipients)."""
    outcome, retry = await deliver_local(raw, local, mail_from=mail_from)
    if refuse_if_nothing_delivered and outcome.failed and not outcome.delivered and not retry and not remote:
        raise NothingDelivered(outcome.failed)
    queues: dict[uuid.UUID, list[str]] = defaultdict(list)
    for address in retry:
        queues[local[address].org_id].append(address)
    if remote:
        if org_id is None:
            outcome.failed += [dsn.Failure(a, "5.7.1", "550 5.7.1 Relaying denied") for a in remote]
        else:
            queues[org_id] += remote
    for queue_org, addresses_ in queues.items():
        await enqueue(queue_org, raw, mail_from=mail_from, recipients=addresses_)
        outcome.queued += addresses_
    bounce_org = org_id or next((r.org_id for r in local.values()), None)
    if outcome.failed and bounce_org is not None:
        await after_delivery(bounce(raw, mail_from=mail_from, failures=outcome.failed, org_id=bounce_org))
    return outcome


async def send_anywhere(raw: bytes, *, mail_from: str, recipients: list[str], org_id: uuid.UUID) -> Outcome:
    """Send a message the system writes (an auto-reply, a bounce) to wherever its
    recipients are; addresses of ours that reach nobody are dropped."""
    local, remote, unknown = await route(recipients)
    if unknown:
        log.info("system message to unknown local addresses dropped: %s", unknown)
    return await send(raw, mail_from=mail_from, local=local, remote=remote, org_id=org_id)


async def bounce(raw: bytes, *, mail_from: str, failures: list[dsn.Failure], org_id: uuid.UUID) -> None:
    """Tell ``mail_from`` that ``failures`` did not get ``raw``. Nothing is sent for a
    bounce (null sender) or for the platform's own mail (nobody reads its replies)."""
    if not mail_from or mail_from.lower() == platform_sender().lower():
        log.info("no bounce for %s (failures: %s)", mail_from or "<>", [f.address for f in failures])
        return
    settings = get_settings()
    report = dsn.build(
        reporting_host=settings.resolved_mail_hostname, original=raw, failures=failures, recipient=mail_from
    )
    await send_anywhere(report, mail_from="", recipients=[mail_from], org_id=org_id)


# --- the queue's job -------------------------------------------------------------------


def _retry_delay(attempts: int, settings: Settings) -> timedelta:
    backoff = jobs.Backoff(base=float(settings.mail_retry_base_seconds), cap=float(RETRY_CAP_SECONDS))
    return timedelta(seconds=backoff.delay(attempts))


async def _attempt(raw: bytes, mail_from: str, recipients: list[str]) -> dict[str, client.Reply]:
    """One delivery attempt to every recipient: a reply for each."""
    local, remote, unknown = await route(recipients)
    replies = {a: client.Reply(550, "5.1.1 No such recipient here") for a in unknown}
    outcome, retry = await deliver_local(raw, local, mail_from=mail_from)
    replies.update({a: client.Reply(250, "2.0.0 Delivered") for a in outcome.delivered})
    replies.update({f.address: client.Reply(552, f.diagnostic.split(" ", 1)[1]) for f in outcome.failed})
    replies.update({a: client.Reply(451, "4.3.0 Local delivery failed, will try again") for a in retry})
    by_domain: dict[str, list[str]] = defaultdict(list)
    for address in remote:
        by_domain[domain_of(address)].append(address)
    for result in await asyncio.gather(*(client.deliver(d, mail_from, addrs, raw) for d, addrs in by_domain.items())):
        replies.update(result)
    return replies


async def run_queue(job: jobs.Claimed) -> None:
    """Try the queued recipients of one message, record each verdict, bounce what failed
    for good, and queue the next attempt (or forget the message when nothing is left)."""
    assert job.org_id is not None
    settings = get_settings()
    outbound_id = uuid.UUID(str(job.payload["outbound_id"]))
    async with org_session(job.org_id) as db:
        message = await db.get(OutboundMessage, outbound_id)
        pending = list(
            (
                await db.execute(
                    select(OutboundRecipient.address).where(
                        OutboundRecipient.outbound_id == outbound_id, OutboundRecipient.status == "queued"
                    )
                )
            ).scalars()
        )
    if message is None:
        return
    raw = await blobs.get_store().read(message.blob_key) if pending else b""
    replies = await _attempt(raw, message.mail_from, pending) if pending else {}
    expired = utcnow() >= message.expires_at
    failures = []
    for address, reply in replies.items():
        if reply.permanent:
            failures.append(dsn.Failure(address, reply.status, reply.diagnostic))
        elif not reply.delivered and expired:
            failures.append(dsn.Failure(address, "4.4.7", f"{reply.diagnostic} (message expired in the queue)"))
    if failures:  # before the rows change: a crash in between bounces twice rather than never
        await after_delivery(bounce(raw, mail_from=message.mail_from, failures=failures, org_id=job.org_id))
    failed = {f.address for f in failures}
    async with org_session(job.org_id, write=True) as db:
        rows = list(
            (
                await db.execute(
                    select(OutboundRecipient).where(
                        OutboundRecipient.outbound_id == outbound_id, OutboundRecipient.status == "queued"
                    )
                )
            ).scalars()
        )
        for row in rows:
            outcome = replies.get(row.address)
            if outcome is None:
                continue
            row.attempts += 1
            row.updated_at = utcnow()
            row.last_error = "" if outcome.delivered else outcome.diagnostic[:2000]
            row.status = "sent" if outcome.delivered else "failed" if row.address in failed else "queued"
        waiting = [row for row in rows if row.status == "queued"]
        if waiting:
            run_at = utcnow() + _retry_delay(max(r.attempts for r in waiting), settings)
            jobs.enqueue(db, QUEUE_JOB, {"outbound_id": outbound_id}, org_id=job.org_id, run_at=run_at)
        else:
            await db.execute(delete(OutboundRecipient).where(OutboundRecipient.outbound_id == outbound_id))
            await db.execute(delete(OutboundMessage).where(OutboundMessage.id == outbound_id))
            store.forget_blobs(db, job.org_id, [message.blob_key])
        await db.commit()


QUEUE = jobs.JobSpec(QUEUE_JOB, run_queue)
