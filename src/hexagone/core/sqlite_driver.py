"""SQLite through aiosqlite in one thread hop per statement instead of four.

aiosqlite runs each connection in a thread of its own and hands it every call through a
queue, waking the event loop with the answer. SQLAlchemy's adapter makes four such calls
for a ``SELECT`` (open a cursor, execute, fetch all, close the cursor), and one more for the
rollback that ends every session, a transaction or not. Each hop costs a wake-up of the
thread and one of the loop, about a tenth of a millisecond of CPU on a small machine: more
than SQLite takes to answer a lookup by key. Profiled under load, those hops and the
loop's wake-ups were a fifth of a signed-in page's CPU (``bench/README.md``).

This adapter sends the whole statement (cursor, execute, fetch, close) to the thread as one
call, and skips the commit or rollback of a connection that holds no transaction (a
session that only read: SQLite's driver begins a transaction just before the first write).
Everything else is SQLAlchemy's aiosqlite dialect as it is.

It uses aiosqlite's ``Connection._execute`` (queue a call to the connection's thread) and
``_conn`` (the sqlite3 connection, touched only from that thread); both versions are pinned
in ``pyproject.toml``, and the whole suite runs through this adapter on SQLite.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# What one statement leaves behind: description, rows, rowcount, lastrowid, in a transaction.
_Outcome = tuple[Any, list[Any], int, int | None, bool]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the connection's thread: the whole statement, its rows fetched, its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, conn.in_transaction
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements each make one trip to the connection's thread. It holds
    no aiosqlite cursor: the result (rows, description, counts) comes back whole."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection):
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = cast(OneHopConnection, self._adapt_connection)
        async with connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid, connection._in_transaction = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._run(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        return None  # nothing left open in the thread

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Knows whether its sqlite3 connection holds a transaction (as of its last statement),
    so that ending a session that only read costs no trip to the thread."""

    __slots__ = ("_in_transaction",)
    _cursor_cls = OneHopCursor  # streamed results (server-side cursors) keep SQLAlchemy's own

    def __init__(self, dbapi: Any, connection: Any):  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self._in_transaction = True  # unknown until the first statement: do not skip

    def rollback(self) -> None:
        if self._in_transaction:
            super().rollback()
            self._in_transaction = False

    def commit(self) -> None:
        if self._in_transaction:
            super().commit()
            self._in_transaction = False


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DB-API adapter, handing out :class:`OneHopConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does: never hold up exit
        return OneHopConnection(self, await_(connection))


def dbapi() -> OneHopDbapi:
    """The ``module=`` to give ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""
    return OneHopDbapi(aiosqlite, sqlite3)
