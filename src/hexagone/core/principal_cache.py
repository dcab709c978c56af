"""A short-lived cache of who a session cookie stands for, dropped at once on any change.

Resolving a session to its :class:`~hexagone.core.auth.Principal` reads the session, the
user with their organisation, and their memberships: three statements on every signed-in
request, most of a page's database work. This cache keeps the answer per session (keyed
by the digest of its cookie) in each process, for ``HEXAGONE_PRINCIPAL_CACHE_SECONDS``
(10 s by default; 0 turns it off) and at most :data:`MAX_ENTRIES` sessions.

What must never happen is a request served with rights that were taken away. So every
committed change that could alter a principal drops it before the change is answered:

- **What changes it.** A row of a watched model written through a session (:func:`watch`:
  the core watches login sessions; the module that builds principals, identity, declares
  its users, memberships, organisations, spaces and groups with :func:`declare_sources`),
  or an ``UPDATE``/``DELETE``/``INSERT`` statement on one. A row says whose principal it
  touches (a user, an organisation); a statement that does not say so with :func:`affects`
  drops every entry. A process where no module declared its sources (a script that did not
  import identity) drops every entry at every commit that wrote anything.
- **When.** After the commit (``after_commit``), never before: a request that read the old
  rows meanwhile must not store them as new.
- **Where.** Every process on this machine that uses the same database: the drop is a new
  random value written into a slot of a small shared-memory file beside the database
  (the generations file: one slot for everything, and slots hashed from user, organisation
  and session keys). An entry records the values of its slots as they were *before* its
  rows were read, and is used only while they are unchanged. Other machines hear it on
  the event bus (Redis or NATS), which the module declaring the sources hands over (the
  bus sits above this file); while a process is not subscribed there, it caches nothing.

The invalidation is tested change by change in ``tests/identity/test_principal_cache.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mmap
import os
import random
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hexagone.core.config import Settings, get_settings

log = logging.getLogger("hexagone.principals")

MAX_ENTRIES = 10_000
SLOTS = 4096  # hashed keys; a collision only costs another load
CHANNEL = "core.principals.changed"
OPTION = "hexagone_principals"  # execution option: the keys a statement affects
PENDING = "hexagone.principals.pending"
EVERYTHING = "*"

Key = str  # "user:<uuid>", "org:<uuid>", "session:<digest>" or EVERYTHING


def user_key(user_id: uuid.UUID) -> Key:
    return f"user:{user_id}"


def org_key(org_id: uuid.UUID) -> Key:
    return f"org:{org_id}"


def session_key(digest: str) -> Key:
    return f"session:{digest}"


def affects(*keys: Key) -> dict[str, Any]:
    """Execution options for an ``UPDATE``/``DELETE`` of a watched table that says whose
    principal it changes (none: it changes no principal, as ``last_seen_at`` does)."""
    return {OPTION: keys}


# --------------------------------------------------------------------------- generations


def _slot(key: Key) -> int:
    return 0 if key == EVERYTHING else 1 + zlib.crc32(key.encode()) % SLOTS


class Generations:
    """The shared-memory slots. Writers store a new random value (no read-modify-write,
    so two processes bumping one slot at once still leave a value no reader has seen)."""

    def __init__(self, path: Path):
        self.path = path
        size = (1 + SLOTS) * 8
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Whoever may write it may keep a stale principal alive: trust only our own file
            # (or root's view of it) for reading; writing drops, which is always safe.
            self.trusted = os.fstat(fd).st_uid == os.geteuid() or os.geteuid() == 0
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)  # zeros; several processes doing it at once agree
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._slots = memoryview(self._map).cast("Q")

    def snapshot(self) -> bytes:
        """Every slot at once: taken before reading rows, it holds whatever they depend on."""
        return bytes(self._map)

    def read(self, keys: Iterable[Key], snapshot: bytes | None = None) -> tuple[int, ...]:
        if snapshot is None:
            return tuple(self._slots[_slot(k)] for k in keys)
        view = memoryview(snapshot).cast("Q")
        return tuple(view[_slot(k)] for k in keys)

    def bump(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self._slots[_slot(key)] = random.getrandbits(64)


# --------------------------------------------------------------------------- the cache


@dataclass(frozen=True)
class Entry:
    principal: Any  # the Principal, session fields included
    expires_at: datetime  # the session's
    keys: tuple[Key, ...]
    stamps: tuple[int, ...]  # the keys' slots before the rows were read
    stored_at: float  # time.monotonic()
    last_seen_at: datetime


class Cache:
    def __init__(self, settings: Settings):
        self.ttl = settings.principal_cache_seconds
        self.entries: dict[str, Entry] = {}
        self.generations: Generations | None = None
        self.bus_scheme = settings.pubsub_url.split(":", 1)[0]
        self.listening = False  # subscribed to CHANNEL (only needed on a cross-process bus)
        self._listener: asyncio.Task[None] | None = None
        # Opened even with the cache off here: this process' changes must still reach the
        # processes that cache (a command run with other settings than the server's).
        name = hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.generations = Generations(settings.data_dir / f"principal-generations-{name}")
        except OSError as exc:
            log.warning("principal cache off, and changes made here not shared: no generations file (%s)", exc)

    @property
    def enabled(self) -> bool:
        if self.ttl <= 0 or self.generations is None or not self.generations.trusted:
            return False
        if self.bus_scheme == "memory":
            return True
        if _bus is None:
            return False  # another machine's changes would go unheard
        self._listen()
        return self.listening

    def snapshot(self) -> bytes | None:
        return self.generations.snapshot() if self.enabled and self.generations else None

    def get(self, digest: str) -> Entry | None:
        entry = self.entries.get(digest)
        if entry is None or self.generations is None:
            return None
        if (
            time.monotonic() - entry.stored_at > self.ttl
            or self.generations.read(entry.keys) != entry.stamps
            or not self.enabled
        ):
            self.entries.pop(digest, None)
            return None
        return entry

    def put(
        self,
        digest: str,
        principal: Any,
        *,
        expires_at: datetime,
        last_seen_at: datetime,
        snapshot: bytes | None,
    ) -> None:
        if snapshot is None or self.generations is None or not self.enabled:
            return
        keys = (EVERYTHING, user_key(principal.user_id), org_key(principal.org_id), session_key(digest))
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.pop(next(iter(self.entries)))  # the oldest stored
        self.entries[digest] = Entry(
            principal,
            expires_at,
            keys,
            self.generations.read(keys, snapshot),
            time.monotonic(),
            last_seen_at,
        )

    def seen(self, digest: str, entry: Entry, when: datetime) -> None:
        self.entries[digest] = replace(entry, last_seen_at=when)

    def drop(self, keys: Iterable[Key]) -> None:
        """Make every entry that depends on ``keys`` stale, in every process of this machine."""
        keys = set(keys)
        if self.generations is not None:
            self.generations.bump(keys)
        if EVERYTHING in keys:
            self.entries.clear()

    # ------------------------------------------------------------------ other machines

    def _listen(self) -> None:
        if _bus is None or (self._listener is not None and not self._listener.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._listener = loop.create_task(self._subscription(), name="principal-cache")

    async def _subscription(self) -> None:
        try:
            assert _bus is not None, "checked by _listen"
            async with _bus().subscribe(CHANNEL) as messages:
                self.listening = True
                async for message in messages:
                    keys = [k for k in message.payload.get("keys", []) if isinstance(k, str)]
                    if self.generations is not None:
                        self.generations.bump(keys)
                    if EVERYTHING in keys:
                        self.entries.clear()
        except Exception:  # the bus went away: cache nothing until subscribed again
            log.warning("principal cache off until the event bus is back", exc_info=True)
        finally:
            self.listening = False
            self.entries.clear()
            await asyncio.sleep(1)  # then the next request tries again


_cache: Cache | None = None


def cache() -> Cache:
    global _cache
    if _cache is None:
        _cache = Cache(get_settings())
    return _cache


def reset() -> None:
    """Forget the process' cache (tests that change the settings)."""
    global _cache
    _cache = None


# --------------------------------------------------------------------------- what drops it

RowKeys = Callable[[Any], Iterable[Key]]

# model class -> the keys a written row of it affects
_watched: dict[type, RowKeys] = {}
_declared = False  # whether the module that builds principals said what they are made of
_bus: Callable[[], Any] | None = None  # hexagone.core.pubsub.get_bus, once declared


def watch(model: type, keys: RowKeys) -> None:
    """Writing a ``model`` row drops the principals of ``keys(row)``; a statement on its
    table drops every principal unless it says which with :func:`affects`."""
    _watched[model] = keys


def declare_sources(sources: dict[type, RowKeys], bus: Callable[[], Any]) -> None:
    """What the installed principal loader reads (:func:`hexagone.core.auth.install`):
    until a module declares it, every write drops every principal. ``bus`` gives the
    process' event bus (:func:`hexagone.core.pubsub.get_bus`), to hear other machines."""
    global _declared, _bus
    _watched.update(sources)
    _declared = True
    _bus = bus


def _pending(session: Session) -> set[Key]:
    found: set[Key] = session.info.setdefault(PENDING, set())
    return found


@event.listens_for(Session, "after_flush")
def _rows_written(session: Session, _flush: UOWTransaction) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        keys = _watched.get(type(row))
        if keys is not None:
            _pending(session).update(keys(row))
        elif not _declared:
            _pending(session).add(EVERYTHING)


@event.listens_for(Session, "do_orm_execute")
def _statement_run(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if _declared and (mapper is None or mapper.class_ not in _watched):
        return
    keys = state.execution_options.get(OPTION)
    _pending(state.session).update(keys if keys is not None else (EVERYTHING,))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    keys: set[Key] = session.info.pop(PENDING, set())
    if keys:
        changed(keys)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)  # rolled back: nothing changed


def changed(keys: Iterable[Key]) -> None:
    """Drop the principals of ``keys`` here and on this machine, and tell other machines."""
    keys = sorted(set(keys))
    cache().drop(keys)
    if cache().bus_scheme == "memory" or _bus is None:
        return  # every process that shares the database is on this machine
    with contextlib.suppress(RuntimeError):  # no running loop: this machine only
        task = asyncio.get_running_loop().create_task(_announce(keys))
        _announcing.add(task)
        task.add_done_callback(_announcing.discard)


_announcing: set[asyncio.Task[None]] = set()


async def _announce(keys: list[Key]) -> None:
    try:
        assert _bus is not None, "checked by changed"
        await _bus().publish(CHANNEL, {"keys": keys})
    except Exception:
        log.exception("could not announce a principal change to the other machines")
