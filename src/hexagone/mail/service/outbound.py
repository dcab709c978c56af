"""Sending mail, and the queue of what could not be delivered at once.

Every message on its way somewhere passes here: what users send (:func:`submit`, from
SMTP submission and the webmail), inbound mail (:func:`send` from the SMTP listener),
auto-replies, bounces, and the platform's own e-mail drained from the core outbox.

- A **local** recipient (an address of an organisation here) gets the message in its
  INBOX through the store, never over SMTP: one blob and one transaction per
  organisation, so a user of one organisation writing to another's is delivered into
  that organisation's mailbox, scoped to it.
- A **remote** recipient, or a local one whose delivery failed for a reason that may
  pass, is **queued**: the bytes in the blob store, an ``OutboundMessage`` row with one
  ``OutboundRecipient`` per address, and a durable job, committed before the caller
  acknowledges the message. The job (:func:`run_queue`) delivers what it can, then
  queues its next attempt with backoff, or finishes and forgets the blob.
- A **permanent** failure (a 5xx reply, a full mailbox) or a message still queued when
  its lifetime ends (``HEXAGONE_MAIL_QUEUE_LIFETIME_SECONDS``, five days) produces a
  bounce (:mod:`hexagone.mail.transport.dsn`) to the envelope sender, sent with a null sender
  so that bounces never loop.

Delivery from the queue is at least once, as everywhere in mail: a crash after a peer
accepted a message but before the queue recorded it sends it again.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import org_session, system_session, utcnow
from hexagone.core.exceptions import Forbidden, Invalid
from hexagone.core.failures import log_failure
from hexagone.core.i18n import _
from hexagone.identity.service.directory import User
from hexagone.mail.models import Folder, Mailbox, OutboundMessage, OutboundRecipient
from hexagone.mail.service import addresses, dkim, store, vacation
from hexagone.mail.service.addresses import Recipient
from hexagone.mail.service.mailboxes import INBOX
from hexagone.mail.transport import client, dsn, headers

log = logging.getLogger("hexagone.mail.outbound")

QUEUE_JOB = "mail.outbound"
RETRY_CAP_SECONDS = 4 * 3600


class UnknownRecipients(Invalid):
    """Some recipients are addresses of our domains that reach nobody."""

    def __init__(self, unknown: list[str]):
        super().__init__(_("No such recipient here: %(addresses)s", addresses=", ".join(unknown)))
        self.unknown = unknown


class NothingDelivered(Exception):
    """Every recipient failed for good (their mailboxes are full): the caller refuses the
    message (SMTP 552) rather than accepting it only to bounce it."""

    def __init__(self, failures: list[dsn.Failure]):
        super().__init__("; ".join(f.diagnostic for f in failures))
        self.failures = failures


@dataclass
class Outcome:
    delivered: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    failed: list[dsn.Failure] = field(default_factory=list)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def platform_sender(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return settings.mail_platform_sender or f"noreply@{settings.resolved_mail_hostname}"


# --- where recipients are --------------------------------------------------------------


async def resolve(address: str) -> Recipient | None:
    """``addresses.resolve`` in a session of its own. It may create a user's mailbox on
    first use; two first deliveries at once may race to do it, so the loser asks again,
    with the write lock (on SQLite a read transaction cannot start writing once another
    writer has committed)."""
    try:
        return await _resolve(address, write=False)
    except (IntegrityError, DBAPIError):
        return await _resolve(address, write=True)


async def _resolve(address: str, *, write: bool) -> Recipient | None:
    async with system_session(write=write) as db:
        found = await addresses.resolve(db, address)
        await db.commit()
        return found


async def is_local_domain(domain: str) -> bool:
    async with system_session() as db:
        return await addresses.is_local_domain(db, domain)


async def route(recipients: list[str]) -> tuple[dict[str, Recipient], list[str], list[str]]:
    """(local recipients, remote addresses, addresses of our domains that reach nobody)."""
    local: dict[str, Recipient] = {}
    remote: list[str] = []
    unknown: list[str] = []
    for address in recipients:
        found = await resolve(address)
        if found is not None:
            local[address] = found
        elif await is_local_domain(domain_of(address)):
            unknown.append(address)
        else:
            remote.append(address)
    return local, remote, unknown


async def all_full(recipient: Recipient) -> bool:
    """Whether every mailbox ``recipient`` reaches is already at its quota."""
    async with org_session(recipient.org_id) as db:
        room = (
            await db.execute(
                select(Mailbox.id)
                .where(Mailbox.id.in_(recipient.mailbox_ids), Mailbox.used_bytes < Mailbox.quota_bytes)
                .limit(1)
            )
        ).first()
    return room is None


# --- local delivery --------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    inbox_id: uuid.UUID
    has_room: bool
    vacation: bool


async def _boxes(org_id: uuid.UUID, mailbox_ids: list[uuid.UUID], size: int) -> dict[uuid.UUID, _Box]:
    async with org_session(org_id) as db:
        mailboxes = (
            await db.execute(
                select(Mailbox.id, Mailbox.used_bytes, Mailbox.quota_bytes, Mailbox.vacation_enabled).where(
                    Mailbox.id.in_(mailbox_ids)
                )
            )
        ).all()
        inboxes = dict(
            (
                await db.execute(
                    select(Folder.mailbox_id, Folder.id).where(Folder.mailbox_id.in_(mailbox_ids), Folder.name == INBOX)
                )
            )
            .tuples()
            .all()
        )
    return {
        m.id: _Box(inboxes[m.id], m.used_bytes + size <= m.quota_bytes, m.vacation_enabled)
        for m in mailboxes
        if m.id in inboxes
    }


def return_path(mail_from: str) -> str:
    return f"Return-Path: <{mail_from}>"


def with_return_path(raw: bytes, mail_from: str) -> bytes:
    """The copy a local mailbox stores: the envelope sender in ``Return-Path:``, added by
    the final delivery as RFC 5321 4.4 says (one a sender wrote is dropped). ``raw``
    itself when a listener already put exactly that field on top, and no other: the
    inbound listener does, in the one copy its own trace fields cost, so that a large
    message is not copied a second time here."""
    top = (return_path(mail_from) + "\r\n").encode()
    found = [f for f in headers.fields(headers.header_of(raw)) if headers.field_name(f) == "return-path"]
    if raw.startswith(top) and len(found) == 1:
        return raw
    cleaned = headers.remove(raw, lambda name, _: name == "return-path") if found else raw
    return headers.prepend(cleaned, return_path(mail_from))


async def deliver_local(raw: bytes, local: dict[str, Recipient], *, mail_from: str) -> tuple[Outcome, list[str]]:
    """Deliver to local recipients, one transaction per organisation. Returns what was
    delivered and what failed for good (full mailboxes), and the addresses to try again
    later (the organisation's transaction failed)."""
    outcome, retry = Outcome(), []
    stored = with_return_path(raw, mail_from)
    by_org: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = defaultdict(lambda: defaultdict(list))
    for address, recipient in local.items():
        for mailbox_id in recipient.mailbox_ids:
            by_org[recipient.org_id][mailbox_id].append(address)
    for org_id, mailboxes in by_org.items():
        boxes = await _boxes(org_id, list(mailboxes), len(stored))
        reached = {a for m, box in boxes.items() if box.has_room for a in mailboxes[m]}
        for address in dict.fromkeys(a for addrs in mailboxes.values() for a in addrs):
            if address not in reached:
                outcome.failed.append(dsn.Failure(address, "5.2.2", "552 5.2.2 Mailbox full"))
        targets = [m for m, box in boxes.items() if box.has_room]
        if not targets:
            continue
        try:
            await store.deliver(org_id, [boxes[m].inbox_id for m in targets], stored)
        except Exception as error:
            if blobs.is_storage_full(error):
                raise  # queueing would write the same bytes to the same full disk: a 4xx now
            log_failure(log, f"local delivery to {sorted(reached)} (queued for another attempt)", error)
            retry += sorted(reached)
            continue
        outcome.delivered += sorted(reached)
        on_vacation = [m for m in targets if boxes[m].vacation]
        if on_vacation:
            await _after_delivery(vacation.consider(org_id, on_vacation, mail_from=mail_from, raw=raw))
    return outcome, retry


# --- the queue -------------------------------------------------------------------------


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
        await _after_delivery(bounce(raw, mail_from=mail_from, failures=outcome.failed, org_id=bounce_org))
    return outcome


async def _after_delivery(step: Awaitable[None]) -> None:
    """Run what follows a delivery (an auto-reply, a bounce) without letting it fail the
    delivery: the message is stored, so the sender must get its 250, not a 4xx that
    would make it send the message again."""
    try:
        await step
    except Exception as error:
        log_failure(log, "a step after a delivery (the delivery stands)", error)


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


@jobs.handler(QUEUE_JOB)
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
        await _after_delivery(bounce(raw, mail_from=message.mail_from, failures=failures, org_id=job.org_id))
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
            reply = replies.get(row.address)
            if reply is None:
                continue
            row.attempts += 1
            row.updated_at = utcnow()
            row.last_error = "" if reply.delivered else reply.diagnostic[:2000]
            row.status = "sent" if reply.delivered else "failed" if row.address in failed else "queued"
        waiting = [row for row in rows if row.status == "queued"]
        if waiting:
            run_at = utcnow() + _retry_delay(max(r.attempts for r in waiting), settings)
            jobs.enqueue(db, QUEUE_JOB, {"outbound_id": outbound_id}, org_id=job.org_id, run_at=run_at)
        else:
            await db.execute(delete(OutboundRecipient).where(OutboundRecipient.outbound_id == outbound_id))
            await db.execute(delete(OutboundMessage).where(OutboundMessage.id == outbound_id))
            store.forget_blobs(db, job.org_id, [message.blob_key])
        await db.commit()


# --- what users send -------------------------------------------------------------------


def _prepared(raw: bytes, from_domain: str) -> bytes:
    """What a submission server adds or removes (RFC 6409 section 8): a ``Date:`` and a
    ``Message-ID:`` when the client wrote none; never the ``Bcc:`` list."""
    parsed = headers.parse(raw)
    added = []
    if parsed.get("Date") is None:
        added.append(f"Date: {email.utils.format_datetime(utcnow())}")
    if parsed.get("Message-ID") is None:
        added.append(f"Message-ID: {email.utils.make_msgid(domain=from_domain)}")
    cleaned = headers.remove(raw, lambda name, _: name in ("bcc", "return-path"))
    if not added:
        return cleaned
    header, rest = headers.split(cleaned)
    return header + "".join(f"{f}\r\n" for f in added).encode() + rest


async def check_sender(db: AsyncSession, user: User, raw: bytes, mail_from: str) -> str:
    """Refuse a message whose envelope sender, ``From:`` or ``Sender:`` is an address
    ``user`` may not send as; returns the ``From:`` domain (the one that signs)."""
    sendable = set(await addresses.sendable_addresses(db, user))
    parsed = headers.parse(raw)
    authors = headers.addresses(parsed, "From")
    if not authors:
        raise Invalid(_("The message has no From: address."))
    claimed = [mail_from, *authors, *headers.addresses(parsed, "Sender")]
    refused = [a for a in claimed if addresses.base_address(a) not in sendable]
    if refused:
        raise Forbidden(_("You may not send as %(addresses)s.", addresses=", ".join(dict.fromkeys(refused))))
    return domain_of(authors[0])


async def submit(user: User, raw: bytes, *, mail_from: str, recipients: list[str]) -> None:
    """Send a message ``user`` wrote: checks who it claims to be from, signs it with the
    sender's domain's DKIM key, delivers local recipients and queues remote ones.
    Returns once every part is durable. Raises Forbidden (send-as refused), Invalid
    (no recipient, too large) or UnknownRecipients (an address of ours reaching nobody)."""
    settings = get_settings()
    recipients = list(dict.fromkeys(addresses.normalise(r) for r in recipients if r.strip()))
    if not recipients:
        raise Invalid(_("The message has no recipient."))
    if len(recipients) > settings.mail_max_recipients:
        raise Invalid(_("At most %(count)s recipients per message.", count=settings.mail_max_recipients))
    if len(raw) > settings.mail_max_message_bytes:
        raise Invalid(_("The message is too large."))
    async with org_session(user.org_id, write=True) as db:  # the user's mailbox may be created on first use
        from_domain = await check_sender(db, user, raw, mail_from)
        await db.commit()
    local, remote, unknown = await route(recipients)
    if unknown:
        raise UnknownRecipients(unknown)
    raw = _prepared(raw, from_domain)
    async with org_session(user.org_id, write=True) as db:
        key = await dkim.signing_key(db, user.org_id, from_domain)
        await db.commit()
    signed = await asyncio.to_thread(dkim.sign, raw, key) + raw
    await send(signed, mail_from=addresses.normalise(mail_from), local=local, remote=remote, org_id=user.org_id)


# --- platform e-mail -------------------------------------------------------------------


async def queue_platform_mail(db: AsyncSession, org_id: uuid.UUID, ref: blobs.BlobRef, recipient: str) -> None:
    """Queue a platform message (its bytes already stored) in the caller's transaction:
    the outbox drain marks the outbox row sent in the same one, so the message is queued
    exactly once."""
    await _add_to_queue(db, org_id, ref, mail_from=platform_sender(), recipients=[recipient])
