"""Each user's scheduling inbox (RFC 6638 2.2, 4.1): the iTIP messages (RFC 5546)
scheduling delivered to them, as CalDAV clients read them: invitations and their
updates, cancellations (whole events or single occurrences) and, for organisers, the
answers of attendees. The events themselves are already in the recipient's calendar
(:mod:`.scheduling` puts them there); a message is a notice the client shows and then
deletes. The inbox is synchronised like a collection (RFC 6578): every delivery and
deletion takes its next change number; a deleted message stays as a tombstone.

Only its owner reaches an inbox (the policy's :class:`~hexagone.calendar.policy.Mailbox`
rule). Past :data:`MAX_MESSAGES` unread notices, the oldest are dropped: nobody reads a
thousand-long inbox, and the events stay in the calendar.
"""

from __future__ import annotations

import uuid

import icalendar
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import InboxMessage, ScheduleInbox
from hexagone.calendar.policy import INBOX, Mailbox
from hexagone.calendar.service.itip import components
from hexagone.calendar.service.objects import Changes, ObjectInfo, StoredObject, etag_of
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid, NotFound, PreconditionFailed
from hexagone.core.i18n import _
from hexagone.identity.service import Person

MAX_MESSAGES = 500


def mailbox(principal: Principal, owner_id: uuid.UUID, kind: str) -> Mailbox:
    """The inbox or outbox of ``owner_id`` as ``principal`` asks for it."""
    return Mailbox(org_id=principal.org_id, owner_id=owner_id, kind=kind)


def _own_inbox(principal: Principal, ability: str) -> uuid.UUID:
    policy.require(principal, mailbox(principal, principal.user_id, INBOX), ability, _("No such inbox."))
    return principal.user_id


_SHARED = ("id", "name", "uid", "component", "etag", "seq", "size")  # columns named as a resource's


def _info(row: InboxMessage) -> ObjectInfo:
    """A message as the DAV layer lists a resource (a message has no dates to index)."""
    shared = {key: getattr(row, key) for key in _SHARED}
    return ObjectInfo(collection_id=row.user_id, title=row.method, recurring=False, schedule_tag="", **shared)


def _stored(row: InboxMessage) -> StoredObject:
    return StoredObject(**_info(row).__dict__, data=row.data)


async def sync_seq(db: AsyncSession, principal: Principal) -> int:
    """The inbox's change number (0 before its first message)."""
    owner = _own_inbox(principal, "view")
    return int(await db.scalar(select(ScheduleInbox.sync_seq).where(ScheduleInbox.user_id == owner)) or 0)


async def listing(db: AsyncSession, principal: Principal) -> list[ObjectInfo]:
    owner = _own_inbox(principal, "view")
    rows = await db.execute(
        select(InboxMessage)
        .where(InboxMessage.user_id == owner, InboxMessage.deleted.is_(False))
        .order_by(InboxMessage.seq)
    )
    return [_info(r) for r in rows.scalars()]


async def many(db: AsyncSession, principal: Principal, names: list[str]) -> list[StoredObject]:
    owner = _own_inbox(principal, "view")
    if not names:
        return []
    rows = await db.execute(
        select(InboxMessage).where(
            InboxMessage.user_id == owner, InboxMessage.name.in_(names), InboxMessage.deleted.is_(False)
        )
    )
    return [_stored(r) for r in rows.scalars()]


async def get(db: AsyncSession, principal: Principal, name: str) -> StoredObject:
    found = await many(db, principal, [name])
    if not found:
        raise NotFound(_("No such message."))
    return found[0]


async def remove(db: AsyncSession, principal: Principal, name: str, *, if_match: str | None = None) -> None:
    """Delete a message (the client has shown it), leaving its tombstone for sync."""
    owner = _own_inbox(principal, "unbind")
    row = await db.scalar(
        select(InboxMessage).where(
            InboxMessage.user_id == owner, InboxMessage.name == name, InboxMessage.deleted.is_(False)
        )
    )
    if row is None:
        raise NotFound(_("No such message."))
    if if_match is not None and if_match != "*" and row.etag != if_match:
        raise PreconditionFailed(_("The resource changed since you read it."))
    _bury(row, await _next_seq(db, principal.org_id, owner))
    await db.flush()


def _bury(row: InboxMessage, seq: int) -> None:
    row.deleted = True
    row.data = ""
    row.size = 0
    row.seq = seq


async def changes(db: AsyncSession, principal: Principal, since: int, limit: int | None = None) -> Changes:
    """What changed after the change ``since`` (0: every message there is), in order; at
    most ``limit`` (then the token of the last one given). A token from the future is
    Invalid (RFC 6578 3.2 valid-sync-token)."""
    owner = _own_inbox(principal, "view")
    token = await sync_seq(db, principal)
    if since < 0 or since > token:
        raise Invalid(_("Unknown sync token."))
    query = select(InboxMessage).where(InboxMessage.user_id == owner, InboxMessage.seq > since)
    if not since:
        query = query.where(InboxMessage.deleted.is_(False))
    query = query.order_by(InboxMessage.seq)
    if limit is not None:
        query = query.limit(limit + 1)
    rows = list((await db.execute(query)).scalars())
    truncated = limit is not None and len(rows) > limit
    if truncated:
        rows = rows[:limit]
        token = rows[-1].seq if rows else since
    return Changes(
        changed=[_info(r) for r in rows if not r.deleted],
        deleted=sorted(r.name for r in rows if r.deleted),
        token=token,
        truncated=truncated,
    )


async def _next_seq(db: AsyncSession, org_id: uuid.UUID, owner: uuid.UUID) -> int:
    """The inbox's next change number, the inbox made at the first (two deliveries at
    once never share one: an upsert)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ScheduleInbox)
        .values(user_id=owner, org_id=org_id, sync_seq=1)
        .on_conflict_do_update(index_elements=[ScheduleInbox.user_id], set_={"sync_seq": ScheduleInbox.sync_seq + 1})
        .returning(ScheduleInbox.sync_seq)
    )
    return int(await db.scalar(statement) or 0)


async def deliver(db: AsyncSession, owner: Person, method: str, calendar: icalendar.Calendar) -> None:
    """Put an iTIP message (``calendar``, its METHOD set to ``method``) into ``owner``'s
    inbox, in the caller's transaction (the caller commits)."""
    if "METHOD" in calendar:
        del calendar["METHOD"]
    calendar.add("method", method)
    text = calendar.to_ical().decode()
    parts = components(calendar)
    seq = await _next_seq(db, owner.org_id, owner.id)
    db.add(
        InboxMessage(
            org_id=owner.org_id,
            user_id=owner.id,
            name=f"{uuid.uuid4().hex}.ics",
            uid=str(parts[0].get("UID", ""))[:255] if parts else "",
            method=method,
            component=parts[0].name if parts else "VEVENT",
            data=text,
            etag=etag_of(text),
            seq=seq,
            size=len(text.encode()),
        )
    )
    await db.flush()
    await _prune(db, owner)


async def _prune(db: AsyncSession, owner: Person) -> None:
    live = await db.scalar(
        select(func.count())
        .select_from(InboxMessage)
        .where(InboxMessage.user_id == owner.id, InboxMessage.deleted.is_(False))
    )
    excess = int(live or 0) - MAX_MESSAGES
    if excess <= 0:
        return
    oldest = await db.execute(
        select(InboxMessage)
        .where(InboxMessage.user_id == owner.id, InboxMessage.deleted.is_(False))
        .order_by(InboxMessage.seq)
        .limit(excess)
    )
    for row in oldest.scalars():
        _bury(row, await _next_seq(db, owner.org_id, owner.id))
    await db.flush()
