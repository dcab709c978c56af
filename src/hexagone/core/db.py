"""Database engine, sessions and the declarative base shared by every module.

SQLite (WAL) is the embedded default; PostgreSQL via asyncpg at scale. The same models and
migrations serve both. Tenancy scoping lives in :mod:`hexagone.core.tenancy`; open sessions
through :func:`org_session` (scoped to one organisation) or :func:`system_session` (for the
few places that must look across organisations, such as login by e-mail).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, DateTime, MetaData, TypeDecorator, Uuid, event
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from hexagone.core import sqlite_driver
from hexagone.core.config import Settings, get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_new_uuid = uuid.UUID.__new__
_set_slot = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _uuid_of_hex(value: str | None) -> uuid.UUID | None:
    """The UUID of the 32 hex digits SQLite keeps, its slots set the way ``UUID``'s own
    unpickling sets them: ``UUID.__init__`` parses every spelling a UUID has, at twice
    times the cost, and a listing reads tens of thousands of identifiers."""
    if value is None:
        return None
    if len(value) != 32:  # written by hand with dashes or braces
        return uuid.UUID(value)
    made = _new_uuid(uuid.UUID)
    _set_slot(made, "int", int(value, 16))
    _set_slot(made, "is_safe", _UNKNOWN)
    return made


class UUIDColumn(TypeDecorator[uuid.UUID]):
    """A UUID column: native on PostgreSQL, 32 hex digits on SQLite, read back by
    :func:`_uuid_of_hex` there."""

    impl = Uuid
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.supports_native_uuid:
            return super().result_processor(dialect, coltype)
        return _uuid_of_hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime, uuid.UUID: UUIDColumn}


def like_escape(text: str) -> str:
    """``text`` for a ``LIKE … ESCAPE '\\'`` where its ``%`` and ``_`` stay literal characters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_folded(text: str) -> str:
    """What a search compares, stored beside a text and applied to the words searched:
    without accents (NFKD, combining marks dropped) and case-folded, so that "reunion"
    finds « Réunion » on SQLite as on PostgreSQL (whose LIKE folds neither the same way)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


WRITE_OPTION = "hexagone_write"
_engine: AsyncEngine | None = None
_write_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


MEMO = "hexagone.memo"


def session_memo(db: AsyncSession, name: str) -> dict[Any, Any]:
    """A dictionary that lives as long as what the session has read stays true: emptied
    when the session writes (a flush, an INSERT, UPDATE or DELETE through it) and when its
    transaction ends. For what one request asks several times of the same rows, such as
    a drive node's access reached by path and then asked for again by each service call."""
    memos: dict[str, dict[Any, Any]] = db.info.setdefault(MEMO, {})
    return memos.setdefault(name, {})


def _forget(session: Session, *_args: object) -> None:
    session.info.pop(MEMO, None)


def _forget_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        _forget(state.session)


for _moment in ("after_flush", "after_transaction_end"):
    event.listen(Session, _moment, _forget)
event.listen(Session, "do_orm_execute", _forget_on_write)


def make_engine(settings: Settings, *, write: bool = False) -> AsyncEngine:
    """The engine for the configured database. On SQLite there are two, each with its own
    pool: ``write`` gives the one of write sessions (see :func:`org_session`), whose
    connections begin every transaction with ``BEGIN IMMEDIATE``. Each connection stays in
    its mode: switching one between modes was a trip to the driver's thread at every
    change, inside the write turn that every other writer waits for."""
    url = settings.resolved_database_url
    if not url.startswith("sqlite"):
        return create_async_engine(
            url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow, pool_pre_ping=True
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # One trip to aiosqlite's thread per statement, not four (core/sqlite_driver.py).
    options = {"module": sqlite_driver.dbapi()} if url.startswith("sqlite+aiosqlite") else {}
    # The configured pool, as on PostgreSQL: with SQLAlchemy's default for SQLite (5 and
    # 10 overflow) bursts of more sessions opened and closed connections, a thread and
    # four PRAGMAs each, again and again.
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30},
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        **options,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        if write:
            dbapi_conn.isolation_level = None  # the BEGIN is ours

    if write:
        # SQLite cannot turn a read transaction into a write one once another connection
        # has committed since it began ("database is locked", at once, whatever the busy
        # timeout). Read sessions keep the driver's way: reads run outside any transaction
        # and its BEGIN comes just before the first write. A write session takes the
        # write lock at BEGIN IMMEDIATE instead, so that the reads it makes before writing
        # are consistent with them.
        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def get_engine() -> AsyncEngine:
    """The engine of read sessions (and of every session on PostgreSQL)."""
    global _engine, _write_engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        _engine = make_engine(settings)
        separate = _engine.dialect.name == "sqlite"
        _write_engine = (make_engine(settings, write=True) if separate else _engine).execution_options(
            **{WRITE_OPTION: True}
        )
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


def engines() -> list[AsyncEngine]:
    """Every engine with a pool of its own: a listener of the statements sent (a test, a
    benchmark) listens on each."""
    get_engine()
    assert _engine is not None and _write_engine is not None
    found = [_engine]
    if _write_engine.sync_engine.pool is not _engine.sync_engine.pool:
        found.append(_write_engine)
    return found


def null_pool_engine(settings: Settings) -> AsyncEngine:
    """An engine without a pool, for one-shot CLI commands and tests' factories."""
    return create_async_engine(settings.resolved_database_url, poolclass=NullPool)


async def dispose_engine() -> None:
    global _engine, _write_engine, _sessionmaker
    if _engine is not None:
        for engine in engines():
            await engine.dispose()
    _engine = _write_engine = None
    _sessionmaker = None


def _session(org_id: uuid.UUID | None, write: bool) -> AsyncSession:
    get_engine()
    assert _sessionmaker is not None
    if write:
        return _sessionmaker(bind=_write_engine, info={"org_id": org_id})
    return _sessionmaker(info={"org_id": org_id})


@asynccontextmanager
async def org_session(org_id: uuid.UUID, *, write: bool = False) -> AsyncIterator[AsyncSession]:
    """A session whose every ORM query is limited to ``org_id``'s rows, and which refuses
    to write a row of another organisation (see :mod:`hexagone.core.tenancy`).

    ``write=True`` for a transaction that reads and then writes under concurrency (a
    delivery, an IMAP STORE): on SQLite it holds the write lock from its first statement,
    so it waits for other writers instead of failing; on PostgreSQL it changes nothing."""
    async with _session(org_id, write) as session:
        yield session


@asynccontextmanager
async def system_session(*, write: bool = False) -> AsyncIterator[AsyncSession]:
    """An unscoped session: for login, CLI administration, jobs that name their org
    explicitly. Never hand one to code that serves a user's request for their data.
    ``write`` as for :func:`org_session`."""
    async with _session(None, write) as session:
        yield session
