"""Local delivery: where recipients are, and putting a message in local mailboxes.

A **local** recipient (an address of an organisation here) gets the message in its
INBOX through the store, never over SMTP: one blob and one transaction per
organisation, so a user of one organisation writing to another's is delivered into
that organisation's mailbox, scoped to it. The stored copy carries the envelope sender
in ``Return-Path:``; a mailbox at its quota fails for good (``552``), an organisation
whose transaction failed is handed back to the caller to queue
(:mod:`hexagone.mail.service.relay`).

Each delivered copy is announced after its commit as a domain event (mailbox, message,
envelope sender), so that what reacts to new mail subscribes to it instead of being
called from here: on :data:`DELIVERED_AUTO_REPLY` for a mailbox whose auto-reply is on
(the vacation responder listens there), on :data:`DELIVERED_PLAIN` otherwise;
``mail.delivered.*`` hears both. The split keeps the cost of the event where it was
before: a handler job only for the few mailboxes that may answer, not for every copy.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from hexagone.core import blobs
from hexagone.core.db import org_session, system_session
from hexagone.core.failures import log_failure
from hexagone.core.pubsub import events
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import addresses, store
from hexagone.mail.service.addresses import Recipient
from hexagone.mail.service.mailboxes import INBOX
from hexagone.mail.transport import dsn, headers

log = logging.getLogger("hexagone.mail.outbound")

# Payload of both: org_id, mailbox_id, message_id (our Message.id), mail_from.
DELIVERED_AUTO_REPLY = "mail.delivered.auto_reply"
DELIVERED_PLAIN = "mail.delivered.plain"


@dataclass
class Outcome:
    delivered: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    failed: list[dsn.Failure] = field(default_factory=list)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


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


# --- putting it in mailboxes -----------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    inbox_id: uuid.UUID
    has_room: bool
    auto_reply: bool


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
            messages = await store.deliver(org_id, [boxes[m].inbox_id for m in targets], stored)
        except Exception as error:
            if blobs.is_storage_full(error):
                raise  # queueing would write the same bytes to the same full disk: a 4xx now
            log_failure(log, f"local delivery to {sorted(reached)} (queued for another attempt)", error)
            retry += sorted(reached)
            continue
        outcome.delivered += sorted(reached)
        auto_reply = {m for m in targets if boxes[m].auto_reply}
        await after_delivery(_announce(org_id, messages, auto_reply, mail_from))
    return outcome, retry


async def _announce(org_id: uuid.UUID, messages: list[Message], auto_reply: set[uuid.UUID], mail_from: str) -> None:
    """Publish the delivery of each stored copy. In a transaction of its own, after the
    delivery's: the handlers' jobs are committed before the caller answers ``250``."""
    async with org_session(org_id, write=True) as db:
        for message in messages:
            channel = DELIVERED_AUTO_REPLY if message.mailbox_id in auto_reply else DELIVERED_PLAIN
            payload = {"org_id": org_id, "mailbox_id": message.mailbox_id, "message_id": message.id}
            events.on_commit(db, channel, {**payload, "mail_from": mail_from})
        await db.commit()


async def after_delivery(step: Awaitable[None]) -> None:
    """Run what follows a delivery (announcing it, a bounce) without letting it fail the
    delivery: the message is stored, so the sender must get its 250, not a 4xx that
    would make it send the message again."""
    try:
        await step
    except Exception as error:
        log_failure(log, "a step after a delivery (the delivery stands)", error)
