"""Mail's write transactions take turns in the process on SQLite.

SQLite has one writer at a time. A write session (``org_session(..., write=True)``) takes
the write lock at ``BEGIN IMMEDIATE``; when another connection holds it, SQLite's busy
handler sleeps and tries again, sleeping longer each time (up to 100 ms a try). Under
ten IMAP sessions storing flags, expunging and appending on one folder, that made a
STORE wait a second at the 95th percentile while the lock was free most of the time
(``bench/README.md``, Mail). Here mail's writers in one process queue on an asyncio lock
instead, and the next one starts as soon as the previous one ends, in arrival order.
Writers of other processes (another worker, the CLI) still meet SQLite's busy handler,
as before. On PostgreSQL, where writers of different mailboxes do not wait for each
other, the session is opened at once.

Use it for a session that writes from its first statement (a batch of deliveries, an
import), never around code that waits for another writer (the turn is not re-entrant).

IMAP's writes (STORE, EXPUNGE, APPEND, COPY) go through :func:`run` instead: on SQLite the
writes of the sessions waiting for the turn share one transaction, as deliveries do
(:mod:`.groupcommit`). Under ten sessions storing, expunging and appending, one write
transaction of its own each held the turn for about 16 ms (seven statements, each a trip
to SQLite's thread and back through a busy event loop), and the turn was never free: a
STORE waited 110 ms at the median for one 1 ms UPDATE. Together they pay the BEGIN, the
COMMIT, the folder's lookup and the UPDATE of its counters once (:func:`finishing`).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import get_engine, org_session
from hexagone.mail.service.groupcommit import GroupCommit

R = TypeVar("R")
Work = Callable[[AsyncSession], Awaitable[Any]]

_FINISH = "hexagone.mail.finish"  # session.info of a shared transaction: what to write before its commit

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _turn() -> asyncio.Lock | None:
    if get_engine().dialect.name != "sqlite":
        return None
    return _turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@asynccontextmanager
async def write_session(org_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """``org_session(org_id, write=True)``, on SQLite once it is this writer's turn."""
    turn = _turn()
    if turn is None:
        async with org_session(org_id, write=True) as db:
            yield db
        return
    async with turn, org_session(org_id, write=True) as db:
        yield db


async def run(org_id: uuid.UUID, work: Callable[[AsyncSession], Awaitable[R]]) -> R:
    """``work(db)`` in a write session of ``org_id``, committed; returns its result once
    the commit is done. On SQLite the session is shared with the other works waiting for
    the turn: ``work`` must not commit, and must not depend on a transaction of its own
    (what it locked, read or wrote stays in the transaction for the works after it). If
    one of them raises, the transaction is rolled back and each is run again alone, so
    a work may run twice: it must keep its results in what it returns, not elsewhere.
    On PostgreSQL, where writers of different mailboxes do not wait for each other and a
    shared transaction would lock several mailboxes in no fixed order, each work has a
    transaction of its own."""
    if _turn() is None:
        async with org_session(org_id, write=True) as db:
            result = await work(db)
            await db.commit()
        return result
    return cast(R, await _works.submit(org_id, work))


def finishing(db: AsyncSession) -> dict[str, Work] | None:
    """In a transaction that works share (:func:`run` on SQLite): the writes they leave
    for just before its commit, by key, once each however many works ask (the folder
    counters the store keeps in Python meanwhile); None in any other session."""
    return db.info.get(_FINISH)


async def _together(org_id: uuid.UUID, works: list[Work]) -> list[Any]:
    async with write_session(org_id) as db:
        finish: dict[str, Work] = {}
        db.info[_FINISH] = finish
        results = [await work(db) for work in works]
        for write in finish.values():
            await write(db)
        await db.commit()
    return results


_works: GroupCommit[uuid.UUID, Work, Any] = GroupCommit(_together)
