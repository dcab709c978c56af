"""Who is connected, and how: online, away or do not disturb.

Presence lives in memory, never in the database: each process knows the people it holds
connections for, and says so on the bus (``chat.<org>.presence``) when someone's state
changes and every :data:`BEAT` seconds for all of them; what other processes said is kept
for :data:`KEEP` seconds. A connection watches the people it shows (``presence`` frames
it asked for with ``watch``), so a change goes to those who look, not to the whole
organisation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from typing import Any, NamedTuple, Protocol

from hexagone.core.auth import Principal
from hexagone.core.pubsub import get_bus

log = logging.getLogger("hexagone.chat.presence")

STATES = ("online", "away", "dnd")
OFFLINE = "offline"
BEAT = 30.0
KEEP = 75.0
MAX_WATCHED = 500
PROCESS = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
CHANNEL = "presence"  # chat.<org>.presence: what a process says of its people
QUERY = "chat.presence.query"  # a process that starts asks the others to say it now
_pending: set[asyncio.Task[None]] = set()


class Socket(Protocol):
    """A live connection, as the hub and presence see it (:class:`.connection.Socket`)."""

    principal: Principal
    channels: set[uuid.UUID]
    watching: set[uuid.UUID]
    state: str

    due: float  # time.monotonic() of its next recheck
    gone: bool  # removed from the hub

    def deliverable(self, frame: bytes, seq: int | None) -> Any: ...

    async def recheck(self) -> None: ...

    def reschedule(self, now: float) -> None: ...


class Sockets(Protocol):
    """What presence needs of the hub: the sockets by person, and sending to some."""

    by_user: dict[uuid.UUID, set[Socket]]

    def send(self, sockets: Iterable[Socket], payload: dict[str, Any]) -> None: ...


class Heard(NamedTuple):
    """What another process said of one of its people."""

    state: str
    until: float  # time.monotonic() after which it no longer counts
    org_id: uuid.UUID


class Presence:
    def __init__(self, hub: Sockets) -> None:
        self.hub = hub
        self.remote: dict[uuid.UUID, dict[str, Heard]] = defaultdict(dict)  # user -> process -> what it said
        self.watchers: dict[uuid.UUID, set[Socket]] = defaultdict(set)
        self._beating: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Beat from now on, and ask the processes already running for theirs at once (a
        process that starts late would otherwise think everyone offline for a beat)."""
        if self._beating is None or self._beating.done():
            self._beating = asyncio.create_task(self._beat(), name="chat-presence")
            self._spawn(get_bus().publish(QUERY, {"process": PROCESS}))

    def queried(self, payload: dict[str, Any]) -> None:
        """A process started and asks who is connected: answer with everyone here."""
        if payload.get("process") != PROCESS:
            self._spawn(self._report_all())

    def local_state(self, user_id: uuid.UUID) -> str | None:
        """The best state among this process's connections of the person (dnd wins, then
        online, then away), None without any."""
        states = {c.state for c in self.hub.by_user.get(user_id, ())}
        return next((s for s in ("dnd", "online", "away") if s in states), None)

    def state(self, user_id: uuid.UUID) -> str:
        now = time.monotonic()
        states = {self.local_state(user_id)} | {h.state for h in self.remote.get(user_id, {}).values() if h.until > now}
        return next((s for s in ("dnd", "online", "away") if s in states), OFFLINE)

    def online(self, org_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone connected anywhere in the organisation (whom ``@here`` reaches)."""
        now = time.monotonic()
        here = {u for u, conns in self.hub.by_user.items() if any(c.principal.org_id == org_id for c in conns)}
        there = {u for u, by in self.remote.items() if any(h.until > now and h.org_id == org_id for h in by.values())}
        return here | there

    def connected(self, connection: Socket) -> None:
        self.changed(connection)

    def disconnected(self, connection: Socket) -> None:
        self.changed(connection)
        for watched in connection.watching:
            discard(self.watchers, watched, connection)

    def changed(self, connection: Socket) -> None:
        """A connection opened, closed or changed state: tell the watchers here and the
        other processes."""
        user_id = connection.principal.user_id
        self._announce(user_id)
        state = self.local_state(user_id) or OFFLINE
        self._publish(connection.principal.org_id, {str(user_id): state})

    def watch(self, connection: Socket, user_ids: list[uuid.UUID]) -> dict[str, str]:
        """Start telling ``connection`` of these people's changes; their states now."""
        for user_id in user_ids:
            if len(connection.watching) >= MAX_WATCHED:
                break
            connection.watching.add(user_id)
            self.watchers[user_id].add(connection)
        return {str(u): self.state(u) for u in user_ids}

    def heard(self, org_id: uuid.UUID, payload: dict[str, Any]) -> None:
        """Another process's report (ours come back too, and are ignored)."""
        process = str(payload.get("process", ""))
        states = payload.get("states")
        if process == PROCESS or not isinstance(states, dict):
            return
        until = time.monotonic() + KEEP
        for key, state in states.items():
            with contextlib.suppress(ValueError):
                user_id = uuid.UUID(key)
                before = self.state(user_id)
                if state in STATES:
                    self.remote[user_id][process] = Heard(state, until, org_id)
                else:
                    self.remote[user_id].pop(process, None)
                if self.state(user_id) != before:
                    self._announce(user_id)

    def _announce(self, user_id: uuid.UUID) -> None:
        watchers = self.watchers.get(user_id)
        if watchers:
            self.hub.send(watchers, {"type": "presence", "states": {str(user_id): self.state(user_id)}})

    def _publish(self, org_id: uuid.UUID, states: dict[str, str]) -> None:
        self._spawn(self._send(org_id, states))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    async def _send(self, org_id: uuid.UUID, states: dict[str, str]) -> None:
        try:
            await get_bus().publish(f"chat.{org_id.hex}.{CHANNEL}", {"process": PROCESS, "states": states})
        except Exception as error:  # presence is best effort
            log.warning("could not publish presence: %s", error)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(BEAT)
            await self._report_all()
            self._forget_expired()

    async def _report_all(self) -> None:
        by_org: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
        for user_id, connections in list(self.hub.by_user.items()):
            for connection in connections:
                by_org[connection.principal.org_id][str(user_id)] = self.local_state(user_id) or OFFLINE
        for org_id, states in by_org.items():
            await self._send(org_id, states)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for user_id in list(self.remote):
            kept = {p: h for p, h in self.remote[user_id].items() if h.until > now}
            if kept:
                self.remote[user_id] = kept
            else:
                del self.remote[user_id]
                self._announce(user_id)


def discard(index: dict[uuid.UUID, set[Socket]], key: uuid.UUID, connection: Socket) -> None:
    """Take ``connection`` out of ``index[key]``, and the key out once its set is empty."""
    found = index.get(key)
    if found is not None:
        found.discard(connection)
        if not found:
            del index[key]
