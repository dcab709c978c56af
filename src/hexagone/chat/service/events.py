"""The chat's event log: each change takes the organisation's next sequence number,
is written to ``chat_events`` and, once the transaction commits, published on the bus
for the live connections of every process (``chat.<org>.c.<channel>`` for a channel's
members, ``chat.<org>.u.<user>`` for one person).

The number comes from one ``UPDATE … RETURNING`` on the organisation's counter row,
whose lock is held until the commit: two transactions that both post take their numbers
in the order they commit, so a client that resumes after number *n* gets every event it
missed (:func:`since`). Take the number last, just before the commit, to hold the lock
briefly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Counter, Event
from hexagone.core.db import utcnow
from hexagone.core.pubsub.events import publish_on_commit

CHANNEL_PREFIX = "chat"
KEEP_EVENTS = timedelta(days=3)  # a client away longer reloads instead of replaying
MAX_REPLAY = 1000  # more missed than this: the client reloads


def bus_channel(org_id: uuid.UUID, *, channel_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> str:
    if channel_id is not None:
        return f"{CHANNEL_PREFIX}.{org_id.hex}.c.{channel_id.hex}"
    assert user_id is not None, "an event goes to a channel or to a user"
    return f"{CHANNEL_PREFIX}.{org_id.hex}.u.{user_id.hex}"


def live_pattern() -> str:
    """What a process's hub subscribes to, once."""
    return f"{CHANNEL_PREFIX}.>"


async def next_seq(db: AsyncSession, org_id: uuid.UUID) -> int:
    """The organisation's next number; its counter row stays locked until the commit."""
    taken = await db.execute(
        update(Counter)
        .where(Counter.org_id == org_id)
        .values(last_seq=Counter.last_seq + 1)
        .returning(Counter.last_seq)
    )
    seq = taken.scalar()
    if seq is not None:
        return int(seq)
    try:  # the organisation's first change: its row, made in a savepoint in case another made it first
        async with db.begin_nested():
            db.add(Counter(org_id=org_id, last_seq=0))
    except IntegrityError:
        pass
    return await next_seq(db, org_id)


def emit(
    db: AsyncSession,
    org_id: uuid.UUID,
    seq: int,
    kind: str,
    data: dict[str, Any],
    *,
    channel_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Log one event under ``seq`` and publish it after the commit; returns it as sent."""
    frame = {"type": kind, "seq": seq, **data}
    if channel_id is not None:
        frame["channel"] = str(channel_id)
    frame = publish_on_commit(db, bus_channel(org_id, channel_id=channel_id, user_id=user_id), frame)
    db.add(Event(org_id=org_id, seq=seq, channel_id=channel_id, user_id=user_id, kind=kind, data=frame))
    return frame


@dataclass(frozen=True)
class Replay:
    events: list[dict[str, Any]]
    complete: bool  # False: too much was missed, or too long ago: reload instead


async def since(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, channel_ids: set[uuid.UUID], after: int
) -> Replay:
    """The events after ``after`` in these channels and for this user, in order."""
    oldest = (await db.execute(select(Event.seq).where(Event.org_id == org_id).order_by(Event.seq).limit(1))).scalar()
    if oldest is not None and after + 1 < oldest:
        return Replay([], False)  # pruned since: the client's state is too old
    stmt = (
        select(Event.data)
        .where(Event.org_id == org_id, Event.seq > after)
        .where(or_(Event.channel_id.in_(channel_ids), Event.user_id == user_id))
        .order_by(Event.seq)
        .limit(MAX_REPLAY + 1)
    )
    found = list((await db.execute(stmt)).scalars())
    return Replay(found[:MAX_REPLAY], len(found) <= MAX_REPLAY)


async def last_seq(db: AsyncSession, org_id: uuid.UUID) -> int:
    found = (await db.execute(select(Counter.last_seq).where(Counter.org_id == org_id))).scalar()
    return int(found or 0)


async def prune(db: AsyncSession) -> int:
    """Drop events older than :data:`KEEP_EVENTS` (a job)."""
    done = await db.execute(delete(Event).where(Event.created_at < utcnow() - KEEP_EVENTS))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
