"""Caches of what database rows make, dropped at once, in every process, when a row changes.

A cache of an answer read from the database (who a session cookie stands for, which
organisation receives a domain's mail) may keep it only while the rows it was made of
are unchanged. This is the machinery for that, shared by every such cache:

- **What changes it.** A :class:`Tracker` is told which models its caches are made of
  (:meth:`Tracker.watch` for one model, :meth:`Tracker.declare` for the module that owns
  them, with its event bus). A row of a watched model written through a session says which
  keys it touches (``user:<id>``, ``org:<id>``, ``domain:<name>``…), or an
  ``UPDATE``/``DELETE``/``INSERT`` statement on one says so with :meth:`Tracker.affects`;
  one that does not drops every entry. Until its sources are declared (a script that did
  not import the module owning them), every commit that wrote anything drops every entry.
- **When.** After the commit (``after_commit``), never before: a reader that saw the old
  rows meanwhile must not store them as new.
- **Where.** Every process on this machine that uses the same database: a drop writes a
  new random value into a slot of a small shared-memory file beside the database (the
  generations file: one slot for everything, the others hashed from the keys). A
  :class:`StampedCache` entry records its keys' slots as they were *before* its rows were
  read, and is used only while they are unchanged. Other machines hear the drop on the
  event bus (Redis or NATS); while a process is not subscribed there, it caches nothing.

:mod:`hexagone.core.principal_cache` and mail's recipient domains use :data:`directory`,
the tracker of who is who (users, organisations and their domains, groups, sessions).
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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hexagone.core.config import Settings, get_settings

log = logging.getLogger("hexagone.changes")

SLOTS = 4096  # hashed keys; a collision only costs another load
EVERYTHING = "*"

Key = str  # "user:<uuid>", "org:<uuid>", "domain:<name>", "session:<digest>" or EVERYTHING
RowKeys = Callable[[Any], Iterable[Key]]


def user_key(user_id: uuid.UUID) -> Key:
    return f"user:{user_id}"


def org_key(org_id: uuid.UUID) -> Key:
    return f"org:{org_id}"


def domain_key(name: str) -> Key:
    return f"domain:{name}"


def session_key(digest: str) -> Key:
    return f"session:{digest}"


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
            # Whoever may write it may keep a stale entry alive: trust only our own file
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


# --------------------------------------------------------------------------- the tracker


class Tracker:
    """Which committed writes drop which keys, told to this machine's processes through the
    generations file and to other machines through the event bus."""

    def __init__(self, name: str):
        self.name = name
        self.channel = f"core.{name}.changed"
        self.option = f"hexagone_{name}"  # execution option: the keys a statement affects
        self.pending_info = f"hexagone.{name}.pending"
        self.watched: dict[type, RowKeys] = {}  # model class -> the keys a written row of it affects
        self.declared = False  # whether the module owning the rows said what they are
        self.bus: Callable[[], Any] | None = None  # hexagone.core.pubsub.get_bus, once declared
        self.listening = False  # subscribed to the channel (only needed on a cross-process bus)
        self._listener: asyncio.Task[None] | None = None
        self._generations: Generations | None = None
        self._opened_for: Settings | None = None  # the settings the generations file was opened for
        _trackers.append(self)

    def watch(self, model: type, keys: RowKeys) -> None:
        """Writing a ``model`` row drops ``keys(row)``; a statement on its table drops every
        entry unless it says which keys with :meth:`affects`."""
        self.watched[model] = keys

    def declare(self, sources: dict[type, RowKeys], bus: Callable[[], Any]) -> None:
        """The rows the caches are made of, from the module that owns them: until then, every
        write drops everything. ``bus`` gives the process' event bus, to hear other machines."""
        self.watched.update(sources)
        self.declared = True
        self.bus = bus

    def affects(self, *keys: Key) -> dict[str, Any]:
        """Execution options for an ``UPDATE``/``DELETE`` of a watched table that says which
        keys it changes (none: it changes no cached answer, as ``last_seen_at`` does)."""
        return {self.option: keys}

    # ------------------------------------------------------------------ this machine

    @property
    def generations(self) -> Generations | None:
        """The generations file of the database in use, opened on first need (and again
        for other settings: tests)."""
        settings = get_settings()
        if self._opened_for is not settings:
            self._opened_for, self._generations = settings, None
            name = hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]
            try:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
                self._generations = Generations(settings.data_dir / f"{self.name}-generations-{name}")
            except OSError as exc:
                log.warning("%s caches off, and changes made here not shared: no generations file (%s)", self.name, exc)
        return self._generations

    def live(self) -> bool:
        """Whether a cache may keep entries now: every change that could make one stale
        reaches this process (the generations file is ours, and the bus is heard)."""
        generations = self.generations
        if generations is None or not generations.trusted:
            return False
        if get_settings().pubsub_url.startswith("memory:"):
            return True
        if self.bus is None:
            return False  # another machine's changes would go unheard
        self._listen()
        return self.listening

    def changed(self, keys: Iterable[Key]) -> None:
        """Drop the entries of ``keys`` here and on this machine, and tell other machines."""
        keys = sorted(set(keys))
        if self.generations is not None:
            self.generations.bump(keys)
        if get_settings().pubsub_url.startswith("memory:") or self.bus is None:
            return  # every process that shares the database is on this machine
        with contextlib.suppress(RuntimeError):  # no running loop: this machine only
            task = asyncio.get_running_loop().create_task(self._announce(keys))
            _announcing.add(task)
            task.add_done_callback(_announcing.discard)

    # ------------------------------------------------------------------ other machines

    async def _announce(self, keys: list[Key]) -> None:
        try:
            assert self.bus is not None, "checked by changed"
            await self.bus().publish(self.channel, {"keys": keys})
        except Exception:
            log.exception("could not announce a change of %s to the other machines", self.name)

    def _listen(self) -> None:
        if self.bus is None or (self._listener is not None and not self._listener.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._listener = loop.create_task(self._subscription(), name=f"{self.name}-changes")

    async def _subscription(self) -> None:
        try:
            assert self.bus is not None, "checked by _listen"
            async with self.bus().subscribe(self.channel) as messages:
                self.listening = True
                async for message in messages:
                    keys = [k for k in message.payload.get("keys", []) if isinstance(k, str)]
                    if self.generations is not None:
                        self.generations.bump(keys)
        except Exception:  # the bus went away: cache nothing until subscribed again
            log.warning("%s caches off until the event bus is back", self.name, exc_info=True)
        finally:
            self.listening = False
            await asyncio.sleep(1)  # then the next use tries again

    # ------------------------------------------------------------------ sessions

    def _pending(self, session: Session) -> set[Key]:
        found: set[Key] = session.info.setdefault(self.pending_info, set())
        return found

    def _rows_written(self, session: Session, rows: tuple[Any, ...]) -> None:
        for row in rows:
            keys = self.watched.get(type(row))
            if keys is not None:
                self._pending(session).update(keys(row))
            elif not self.declared:
                self._pending(session).add(EVERYTHING)

    def _statement_run(self, state: ORMExecuteState) -> None:
        mapper = state.bind_mapper
        if self.declared and (mapper is None or mapper.class_ not in self.watched):
            return
        keys = state.execution_options.get(self.option)
        self._pending(state.session).update(keys if keys is not None else (EVERYTHING,))


_trackers: list[Tracker] = []
_announcing: set[asyncio.Task[None]] = set()

directory = Tracker("principals")
"""Who is who: sessions (the core's), users, organisations, their domains, spaces and
groups (identity declares them). What principals and mail recipients are made of."""


@event.listens_for(Session, "after_flush")
def _rows_written(session: Session, _flush: UOWTransaction) -> None:
    rows = (*session.new, *session.dirty, *session.deleted)
    for tracker in _trackers:
        tracker._rows_written(session, rows)


@event.listens_for(Session, "do_orm_execute")
def _statement_run(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        for tracker in _trackers:
            tracker._statement_run(state)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for tracker in _trackers:
        keys: set[Key] = session.info.pop(tracker.pending_info, set())
        if keys:
            tracker.changed(keys)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        for tracker in _trackers:
            session.info.pop(tracker.pending_info, None)  # rolled back: nothing changed


# --------------------------------------------------------------------------- caches

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _Stamped(Generic[V]):
    value: V
    keys: tuple[Key, ...]
    stamps: tuple[int, ...]  # the keys' slots before the rows were read
    stored_at: float  # time.monotonic()


class StampedCache(Generic[K, V]):
    """Answers kept at most ``ttl`` seconds and ``max_entries`` at once, each only while
    none of the keys it was made of changed. The reader takes :meth:`snapshot` before
    reading the rows, then :meth:`put` the answer with it."""

    def __init__(self, tracker: Tracker, *, ttl: float, max_entries: int):
        self.tracker = tracker
        self.ttl = ttl
        self.max_entries = max_entries
        self.entries: dict[K, _Stamped[V]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.tracker.live()

    def snapshot(self) -> bytes | None:
        generations = self.tracker.generations
        return generations.snapshot() if self.enabled and generations is not None else None

    def get(self, key: K) -> V | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        generations = self.tracker.generations
        if (
            time.monotonic() - entry.stored_at > self.ttl
            or generations is None
            or generations.read(entry.keys) != entry.stamps
            or not self.enabled
        ):
            self.entries.pop(key, None)
            return None
        return entry.value

    def put(self, key: K, value: V, keys: Iterable[Key], snapshot: bytes | None) -> None:
        """Keep ``value``, made of the rows of ``keys`` (:data:`EVERYTHING` is added)."""
        generations = self.tracker.generations
        if snapshot is None or generations is None or not self.enabled:
            return
        keys = (EVERYTHING, *keys)
        if len(self.entries) >= self.max_entries:
            self.entries.pop(next(iter(self.entries)))  # the oldest stored
        self.entries[key] = _Stamped(value, keys, generations.read(keys, snapshot), time.monotonic())

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[tuple[V, Iterable[Key]]]]) -> V:
        """The kept value, or the one ``load`` reads (with the keys of its rows), kept."""
        found = self.get(key)
        if found is not None:
            return found
        snapshot = self.snapshot()  # before reading: a change committed meanwhile makes it stale
        value, keys = await load()
        self.put(key, value, keys, snapshot)
        return value

    def replace(self, key: K, value: V) -> None:
        """Another value for an entry, on the same rows (a field the rows do not decide)."""
        entry = self.entries.get(key)
        if entry is not None:
            self.entries[key] = _Stamped(value, entry.keys, entry.stamps, entry.stored_at)
