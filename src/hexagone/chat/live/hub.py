"""One process's live connections and the bus: the hub subscribes once to every chat
event (``chat.>``) and hands each to the connections that follow its channel or its
user, encoded once for all of them and written to their sockets at once.

A connection follows the channels its person could see when it opened (their spaces'
``#général``, the channels they are members of), and the channels they join while it is
open (the ``joined``/``left`` events addressed to the person). Presence is kept here too
(:mod:`.presence`): which people this process holds connections for, and what the
other processes said of theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from hexagone.chat.live.presence import CHANNEL, QUERY, Presence, Socket, discard
from hexagone.chat.service.events import live_pattern
from hexagone.core import live
from hexagone.core.encoding import encode
from hexagone.core.pubsub import Message, PubSubError, get_bus

log = logging.getLogger("hexagone.chat.live")

RECHECK_TICK = 1.0  # seconds between two looks for sockets due a recheck
RECHECK_BATCH = 50  # sockets rechecked at once


class Hub:
    def __init__(self) -> None:
        self.by_channel: dict[uuid.UUID, set[Socket]] = defaultdict(set)
        self.by_user: dict[uuid.UUID, set[Socket]] = defaultdict(set)
        self.presence = Presence(self)
        self._listening: asyncio.Task[None] | None = None
        self._rechecking: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Subscribe to the bus, once per process (at the first connection)."""
        if self._listening is None or self._listening.done():
            self._ready = asyncio.Event()
            self._listening = asyncio.create_task(self._listen(), name="chat-hub")
        await self._ready.wait()
        self.presence.start()  # once subscribed: its query's answers must reach us
        if self._rechecking is None or self._rechecking.done():
            self._rechecking = asyncio.create_task(self._recheck(), name="chat-recheck")

    async def _listen(self) -> None:
        while True:
            try:
                async with get_bus().subscribe(live_pattern()) as subscription:
                    self._ready.set()
                    async for message in subscription:
                        self.dispatch(message)
            except PubSubError as error:
                log.warning("chat hub lost the bus, subscribing again: %s", error)
                await asyncio.sleep(1)

    async def _recheck(self) -> None:
        """Ask again, for each socket when it is due, whether the sign-in that opened it
        still holds: one task for the process rather than one sleeping task per socket
        (thousands of them: memory), a batch at a time."""
        while True:
            await asyncio.sleep(min(RECHECK_TICK, live.recheck_seconds() / 4))
            now = time.monotonic()
            due = [c for sockets in self.by_user.values() for c in sockets if c.due <= now]
            for connection in due:
                connection.reschedule(now)
            for start in range(0, len(due), RECHECK_BATCH):
                batch = due[start : start + RECHECK_BATCH]
                for outcome in await asyncio.gather(*(c.recheck() for c in batch), return_exceptions=True):
                    if isinstance(outcome, Exception):
                        log.warning("chat socket recheck failed: %r", outcome)

    def add(self, connection: Socket) -> None:
        self.by_user[connection.principal.user_id].add(connection)
        for channel_id in connection.channels:
            self.by_channel[channel_id].add(connection)
        self.presence.connected(connection)

    def remove(self, connection: Socket) -> None:
        connection.gone = True
        discard(self.by_user, connection.principal.user_id, connection)
        for channel_id in connection.channels:
            discard(self.by_channel, channel_id, connection)
        self.presence.disconnected(connection)

    def follow(self, connection: Socket, channel_id: uuid.UUID, following: bool) -> None:
        if following:
            connection.channels.add(channel_id)
            self.by_channel[channel_id].add(connection)
        else:
            connection.channels.discard(channel_id)
            discard(self.by_channel, channel_id, connection)

    def dispatch(self, message: Message) -> None:
        """``chat.<org>.c.<channel>``, ``chat.<org>.u.<user>``, ``chat.<org>.presence`` or
        ``chat.presence.query``."""
        parts = message.channel.split(".")
        if len(parts) < 3:
            return
        payload = message.payload
        if message.channel == QUERY:
            self.presence.queried(payload)
            return
        try:
            if parts[2] == CHANNEL:
                self.presence.heard(uuid.UUID(parts[1]), payload)
                return
            target = uuid.UUID(parts[3])
        except (ValueError, IndexError):
            log.warning("chat hub ignored a message on %s", message.channel)
            return
        if parts[2] == "c":
            self.send(self.by_channel.get(target, ()), payload)
        elif parts[2] == "u":
            self._to_user(target, payload)

    def _to_user(self, user_id: uuid.UUID, payload: dict[str, Any]) -> None:
        connections = list(self.by_user.get(user_id, ()))
        kind = payload.get("type")
        if kind in ("joined", "left") and "channel" in payload:
            with contextlib.suppress(ValueError):
                channel_id = uuid.UUID(str(payload["channel"]))
                for connection in connections:
                    self.follow(connection, channel_id, kind == "joined")
        self.send(connections, payload)

    def send(self, connections: Iterable[Socket], payload: dict[str, Any]) -> None:
        """One frame to many connections, encoded once and written to all at once."""
        if not connections:
            return
        frame = encode(payload)
        seq = payload.get("seq")
        live.broadcast((s for c in connections if (s := c.deliverable(frame, seq)) is not None), frame)

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self.by_user.values())


_hub: Hub | None = None


def hub() -> Hub:
    """This process's hub (made on first use, in the server's event loop)."""
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub
