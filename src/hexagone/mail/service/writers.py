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

Use it for a session that writes from its first statement (an IMAP STORE, EXPUNGE or
APPEND, a batch of deliveries), never around code that waits for another writer (the
turn is not re-entrant).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import get_settings
from hexagone.core.db import org_session

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _turn() -> asyncio.Lock | None:
    if not get_settings().resolved_database_url.startswith("sqlite"):
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
