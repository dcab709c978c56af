"""Local delivery: where recipients are, and putting a message in local mailboxes.

A **local** recipient (an address of an organisation here) gets the message in its
INBOX, or where its mailbox's mail rules put it (:mod:`.filtering`), through the store,
never over SMTP: one blob and one transaction per
organisation (shared with the other deliveries of the moment: a group commit), so a
user of one organisation writing to another's is delivered into that organisation's
mailbox, scoped to it. The stored copy carries the envelope sender
in ``Return-Path:``; a mailbox at its quota fails for good (``552``), an organisation
whose transaction failed is handed back to the caller to queue
(:mod:`hexagone.mail.service.relay`).

Each delivered copy is announced as a domain event (mailbox, message, envelope sender),
published once its transaction commits and with its handlers' jobs committed in it, so
that what reacts to new mail subscribes to it instead of being called from here: on
:data:`DELIVERED_AUTO_REPLY` for a copy whose mailbox's script asked for an automatic
reply (Sieve ``vacation``: the vacation responder listens there), on
:data:`DELIVERED_PLAIN` otherwise; ``mail.delivered.*`` hears both. A copy carrying
calendar parts (invitations, replies) is also announced on :data:`DELIVERED_CALENDAR`
with their text, for the calendar. A copy a rule
redirects is announced on :data:`REDIRECTED` (sent on by
:mod:`hexagone.mail.service.forwarding`). The split keeps the cost of the event where it was
before: a handler job only for the few mailboxes that may answer, not for every copy.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, changes
from hexagone.core.config import get_settings
from hexagone.core.db import get_engine, org_session, system_session
from hexagone.core.failures import log_failure
from hexagone.core.pubsub import events
from hexagone.identity.service import OrgInfo, person
from hexagone.mail import mime
from hexagone.mail.models import Mailbox
from hexagone.mail.service import addresses, filtering, store
from hexagone.mail.service.addresses import Recipient
from hexagone.mail.transport import dsn, headers

log = logging.getLogger("hexagone.mail.outbound")

# Payload of both: org_id, mailbox_id, message_id (our Message.id), mail_from; and for an
# auto-reply, "vacation": the arguments of the Sieve vacation action (interpreter.Vacation),
# and for a message discarded (message_id None), "header": its header fields (Latin-1 text).
DELIVERED_AUTO_REPLY = "mail.delivered.auto_reply"
DELIVERED_PLAIN = "mail.delivered.plain"
# A copy carrying text/calendar parts (iMIP invitations and replies, RFC 6047): the
# payload of DELIVERED_PLAIN plus "calendars", the parts' texts. The calendar listens.
DELIVERED_CALENDAR = "mail.calendar.delivered"  # not under mail.delivered.*: one event per copy there
# A mail rule redirects a copy: org_id, mailbox_id, blob_key (the copy as stored),
# mail_from, address (the mailbox's), recipients.
REDIRECTED = "mail.redirected"
MAX_HEADER = 64 * 1024  # of a discarded message, carried for its automatic reply


@dataclass
class Outcome:
    delivered: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    failed: list[dsn.Failure] = field(default_factory=list)


async def mailbox_owner(org_id: uuid.UUID, mailbox_id: uuid.UUID) -> uuid.UUID | None:
    """The user whose own mailbox this is; None for a shared mailbox (or one gone)."""
    async with org_session(org_id) as db:
        return await db.scalar(select(Mailbox.user_id).where(Mailbox.id == mailbox_id))


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


# --- where recipients are --------------------------------------------------------------


class _Kept:
    """What each process keeps of who receives mail, until identity's rows change."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        ttl = get_settings().principal_cache_seconds  # the rows principals are made of: their lifetime
        self.domains: changes.StampedCache[str, tuple[OrgInfo, ...]] = changes.StampedCache(
            changes.directory, ttl=ttl, max_entries=self.MAX_ENTRIES
        )
        self.users: changes.StampedCache[uuid.UUID, bool] = changes.StampedCache(
            changes.directory, ttl=ttl, max_entries=self.MAX_ENTRIES
        )


@functools.cache
def _kept() -> _Kept:
    return _Kept()


async def receiving_org(domain: str) -> OrgInfo | None:
    """The organisation that receives ``domain``'s mail (:func:`addresses.org_for_domain`).

    Every RCPT asks, and reading it was two thirds of RCPT's cost (bench/mail/README.md),
    for an answer that changes only when an administrator changes a domain or the
    organisation. So each process keeps it (an empty tuple: not ours) until the domain's
    or the organisation's rows change: identity declares them on the core's tracker of who
    is who (:data:`hexagone.core.changes.directory`), which drops the answer in every
    process at the commit of such a change."""
    domain = domain.strip().lower().rstrip(".")

    async def load() -> tuple[tuple[OrgInfo, ...], list[changes.Key]]:
        async with system_session() as db:
            org = await addresses.org_for_domain(db, domain) if domain else None
        if org is None:
            return (), [changes.domain_key(domain)]
        return (org,), [changes.domain_key(domain), changes.org_key(org.id)]

    found = await _kept().domains.get_or_load(domain, load)
    return found[0] if found else None


async def _receives(user_id: uuid.UUID) -> bool:
    """Whether the owner of a user's mailbox may receive mail (active, not a guest), kept
    like :func:`receiving_org` until the user's row changes."""

    async def load() -> tuple[bool, list[changes.Key]]:
        async with system_session() as db:
            found = await person(db, user_id)
        return found is not None and found.is_active and not found.is_guest, [changes.user_key(user_id)]

    return await _kept().users.get_or_load(user_id, load)


async def resolve(address: str) -> Recipient | None:
    """Where ``address`` leads (:func:`resolve_with_room`, without the quota)."""
    return (await resolve_with_room(address, room=False))[0]


async def resolve_with_room(address: str, *, room: bool = True) -> tuple[Recipient | None, bool]:
    """The mailboxes ``address`` reaches, and whether every one of them is already at its
    quota (:func:`all_full`): what SMTP's RCPT asks.

    The usual recipient is a mailbox's own address: one statement outside the ORM answers
    both (with the organisation and whether the owner may receive mail kept per process).
    A user's mailbox receives only while its owner is active and no guest, as a user
    without one yet does. Anything else (an alias, a group, a user whose mailbox is made
    on first use) takes ``addresses.resolve_in`` in a session of its own. That may create a user's
    mailbox; two first deliveries at once may race to do it, so the loser asks again with
    the write lock (on SQLite a read transaction cannot start writing once another writer
    has committed)."""
    address = addresses.base_address(address)
    org = await receiving_org(domain_of(address))
    if org is None:
        return None, False
    own = await _own_mailbox(org.id, address)
    if own is not None:
        mailbox_id, owner_id, has_room = own
        if owner_id is not None and not await _receives(owner_id):
            return None, False
        return Recipient(org.id, (mailbox_id,)), room and not has_room
    try:
        return await _resolve(org.id, address, write=False, room=room)
    except (IntegrityError, DBAPIError):
        return await _resolve(org.id, address, write=True, room=room)


# Built once: building it per RCPT cost a fifth of the statement's time.
_OWN_MAILBOX = select(Mailbox.id, Mailbox.user_id, Mailbox.used_bytes < Mailbox.quota_bytes).where(
    Mailbox.org_id == bindparam("org_id"), Mailbox.address == bindparam("address")
)


async def _own_mailbox(org_id: uuid.UUID, address: str) -> tuple[uuid.UUID, uuid.UUID | None, bool] | None:
    """The mailbox whose address ``address`` is: its id, its owner (a user's mailbox) and
    whether it has room left, in one statement outside the ORM."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(_OWN_MAILBOX, {"org_id": org_id, "address": address})).first()
    return (row[0], row[1], bool(row[2])) if row is not None else None


async def _resolve(org_id: uuid.UUID, address: str, *, write: bool, room: bool) -> tuple[Recipient | None, bool]:
    async with system_session(write=write) as db:
        found = await addresses.resolve_in(db, org_id, address)
        await db.commit()
        return found, room and found is not None and await _all_full(db, found)


async def is_local_domain(domain: str) -> bool:
    return await receiving_org(domain) is not None


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
        return await _all_full(db, recipient)


async def _all_full(db: AsyncSession, recipient: Recipient) -> bool:
    query = select(Mailbox.id).where(Mailbox.id.in_(recipient.mailbox_ids), Mailbox.used_bytes < Mailbox.quota_bytes)
    return (await db.execute(query.limit(1))).first() is None


# --- putting it in mailboxes -----------------------------------------------------------


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
    """Deliver to local recipients, one transaction per organisation (shared with the
    deliveries that arrive at the same time, :func:`store.deliver_stored`). Returns what
    was delivered and what failed for good (full mailboxes), and the addresses to try
    again later (the organisation's transaction failed)."""
    outcome, retry = Outcome(), []
    stored = with_return_path(raw, mail_from)
    parsed = mime.parse(stored) if local else None
    invitations = mime.calendar_parts(stored, parsed.structure) if parsed is not None else []
    by_org: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = defaultdict(lambda: defaultdict(list))
    for address, recipient in local.items():
        for mailbox_id in recipient.mailbox_ids:
            by_org[recipient.org_id][mailbox_id].append(address)
    for org_id, mailboxes in by_org.items():
        assert parsed is not None
        addresses_ = list(dict.fromkeys(a for addrs in mailboxes.values() for a in addrs))
        try:
            ref = await store.put_blob(org_id, stored)
            ruled = await filtering.plans(org_id, mailboxes, stored, mail_from=mail_from)
            targets = {folder: flags for plan in ruled.values() for folder, flags in plan.folders.items()}
            delivered = await store.deliver_stored(
                org_id,
                ref,
                parsed,
                folder_ids=list(targets),
                inboxes=[m for m in mailboxes if m not in ruled],
                flags=targets,
                skip_full=True,
                on_stored=functools.partial(
                    _stored,
                    org_id=org_id,
                    ref=ref,
                    mail_from=mail_from,
                    plans=ruled,
                    header=parsed.header,
                    calendars=invitations,
                ),
            )
        except Exception as error:
            if blobs.is_storage_full(error):
                raise  # queueing would write the same bytes to the same full disk: a 4xx now
            log_failure(log, f"local delivery to {sorted(addresses_)} (queued for another attempt)", error)
            retry += sorted(addresses_)
            continue
        reached = {a for m in delivered.messages for a in mailboxes[m.mailbox_id]}
        reached |= {a for m, plan in ruled.items() if not plan.folders for a in mailboxes[m]}  # discarded by a rule
        outcome.delivered += sorted(reached)
        outcome.failed += [dsn.Failure(a, "5.2.2", "552 5.2.2 Mailbox full") for a in addresses_ if a not in reached]
    return outcome, retry


def _stored(
    db: AsyncSession,
    delivered: store.Delivered,
    *,
    org_id: uuid.UUID,
    ref: blobs.BlobRef,
    mail_from: str,
    plans: dict[uuid.UUID, filtering.Plan],
    header: bytes,
    calendars: list[str],
) -> None:
    """In the delivery's transaction: publish the delivery of each stored copy (the
    handlers' jobs are committed with the messages, before the caller answers ``250``),
    and each mailbox's redirects, or have the blob collected when nothing needs it (every
    mailbox full or discarding it; a redirect's job has it collected once sent). A
    mailbox that asked for an automatic reply but kept no copy (``discard``) has its
    reply announced with the message's header fields instead."""
    if not delivered.messages and not any(plan.redirects for plan in plans.values()):
        store.forget_blobs(db, org_id, [ref.key])
    answered = set()
    for message in delivered.messages:
        payload = {"org_id": org_id, "mailbox_id": message.mailbox_id, "message_id": message.id, "mail_from": mail_from}
        plan = plans.get(message.mailbox_id)
        if plan is not None and plan.vacation is not None and message.mailbox_id not in answered:
            answered.add(message.mailbox_id)
            events.on_commit(db, DELIVERED_AUTO_REPLY, {**payload, "vacation": dataclasses.asdict(plan.vacation)})
        else:
            events.on_commit(db, DELIVERED_PLAIN, payload)
        if calendars:
            events.on_commit(db, DELIVERED_CALENDAR, {**payload, "calendars": calendars})
    for mailbox_id, plan in plans.items():
        if plan.vacation is not None and mailbox_id not in answered:
            vacation = {"vacation": dataclasses.asdict(plan.vacation), "header": header[:MAX_HEADER].decode("latin-1")}
            payload = {"org_id": org_id, "mailbox_id": mailbox_id, "message_id": None, "mail_from": mail_from}
            events.on_commit(db, DELIVERED_AUTO_REPLY, {**payload, **vacation})
        if plan.redirects:
            redirect = {"org_id": org_id, "mailbox_id": mailbox_id, "blob_key": ref.key, "mail_from": mail_from}
            events.on_commit(db, REDIRECTED, {**redirect, "address": plan.address, "recipients": plan.redirects})


async def after_delivery(step: Awaitable[None]) -> None:
    """Run what follows a delivery (announcing it, a bounce) without letting it fail the
    delivery: the message is stored, so the sender must get its 250, not a 4xx that
    would make it send the message again."""
    try:
        await step
    except Exception as error:
        log_failure(log, "a step after a delivery (the delivery stands)", error)
