"""One WebSocket: what the client sends (posts, read markers, typing, presence, pings),
and the events the hub pushes to it.

The protocol is JSON text frames, ``{"type": …}``; [docs/chat.md](../../../docs/chat.md)
lists them. What protects the server and the other people:

- a frame larger than :data:`~hexagone.core.live.MAX_FRAME` closes the socket (1009,
  the live server's limit), a binary frame too (1003), and so do :data:`MAX_BAD` frames
  in a row that are not the JSON expected (1007);
- frames are rate limited per socket (a token bucket: :data:`FRAMES_PER_SECOND`,
  bursts of :data:`FRAME_BURST`), posts more strictly (per person:
  :mod:`hexagone.chat.service.limits`); a post over the limit is refused with a 429 error frame, a
  client that keeps sending past the frame limit is closed (1008);
- what the hub pushes is written at once to every socket (:func:`hexagone.core.live.broadcast`),
  held only while a reconnecting client's replay is sent (at most :data:`MAX_HELD`
  frames); a client that leaves more than a megabyte unread is closed (1013) instead of
  growing the server's memory, and resumes from the last number it saw when it
  reconnects; an answer to this client alone waits at most :data:`SEND_TIMEOUT` for it;
- every ``HEXAGONE_WEBSOCKET_RECHECK_SECONDS`` or so (the hub asks, for all its sockets)
  the sign-in that opened the socket is asked again: signed out, the socket closes (4401); the person's spaces as
  they are now decide which spaces' channels it follows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection

from hexagone.chat.live.hub import Hub
from hexagone.chat.service import channels, messages
from hexagone.chat.service.events import bus_channel
from hexagone.chat.service.limits import Bucket, posting_allowed
from hexagone.core import live
from hexagone.core import websockets as ws
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.encoding import encode
from hexagone.core.exceptions import ServiceError
from hexagone.core.pubsub import get_bus

log = logging.getLogger("hexagone.chat.live")

MAX_HELD = 1000
MAX_BAD = 5
FRAMES_PER_SECOND, FRAME_BURST = 20.0, 60.0
MAX_REFUSED = 50  # frames over the limit before the socket is closed
TYPING_EVERY = 2.0  # seconds between two typing notices of one socket in one channel
SEND_TIMEOUT = 10.0


class Closing(Exception):
    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class Connection:
    # Thousands live at once in a process: no per-instance dict.
    __slots__ = (
        "_bad",
        "_frames",
        "_held",
        "_refused",
        "_typed",
        "caller",
        "channels",
        "due",
        "gone",
        "hub",
        "last_seq",
        "principal",
        "socket",
        "state",
        "watching",
    )

    def __init__(self, hub: Hub, socket: ServerConnection, caller: live.Caller, followed: set[uuid.UUID]) -> None:
        self.hub = hub
        self.socket = socket
        self.caller = caller
        self.principal = caller.principal
        self.channels = followed
        self.watching: set[uuid.UUID] = set()
        self.state = "online"
        self.last_seq = 0  # the highest event number sent
        # What the hub pushed while the replay was being sent; None once caught up.
        self._held: list[tuple[bytes, int | None]] | None = []
        self._frames = Bucket(FRAMES_PER_SECOND, FRAME_BURST)
        self._typed: dict[uuid.UUID, float] = {}
        self._bad = 0
        self._refused = 0
        self.gone = False  # removed from the hub: its socket is over
        self.reschedule(time.monotonic())

    # What the hub pushes.

    def deliverable(self, frame: bytes, seq: int | None) -> ServerConnection | None:
        """The socket to write a pushed frame to now, or None while the replay is being
        sent (the frame is held, and follows it)."""
        held = self._held
        if held is None:
            return self.socket
        if len(held) >= MAX_HELD:
            live.close_soon(self.socket, ws.TRY_AGAIN, "not reading fast enough")
        else:
            held.append((frame, seq))
        return None

    async def caught_up(self) -> None:
        """Send what was held during the replay, in order, once each (an event the replay
        already sent is skipped); from then on the hub writes directly."""
        held = self._held or []
        while held:
            frame, seq = held.pop(0)
            if seq is not None:
                if seq <= self.last_seq:
                    continue
                self.last_seq = seq
            await self._send(frame)
        self._held = None

    async def send(self, frame: dict[str, Any]) -> None:
        """A frame to this client alone, at once (answers, the replay)."""
        seq = frame.get("seq")
        if isinstance(seq, int):
            self.last_seq = max(self.last_seq, seq)
        await self._send(encode(frame))

    async def _send(self, frame: bytes) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.socket.send(frame, text=True)
        except TimeoutError:
            raise Closing(ws.TRY_AGAIN, "not reading fast enough") from None

    # What the client sends.

    async def read(self) -> None:
        async for text in self.socket:
            if not isinstance(text, str):
                raise Closing(ws.UNSUPPORTED, "text frames only")
            if not self._frames.take():
                self._refused += 1
                if self._refused > MAX_REFUSED:
                    raise Closing(ws.POLICY, "too many frames")
                await self.send({"type": "error", "status": 429, "error": "slow down"})
                continue
            await self.handle(text)

    async def handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise ValueError("not a typed object")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            self._bad += 1
            if self._bad >= MAX_BAD:
                raise Closing(ws.INVALID_DATA, "frames must be JSON objects with a type") from None
            await self.send({"type": "error", "status": 400, "error": "frames are JSON objects with a type"})
            return
        self._bad = 0
        ref = frame.get("ref")
        handler = _HANDLERS.get(frame["type"])
        if handler is None:
            await self.send(
                {"type": "error", "status": 400, "error": f"unknown frame type {frame['type'][:40]!r}", "ref": ref}
            )
            return
        try:
            answer = await handler(self, frame)
        except ServiceError as error:
            await self.send({"type": "error", "status": error.status, "error": str(error), "ref": ref})
        except (ValueError, TypeError, KeyError) as error:
            await self.send(
                {"type": "error", "status": 400, "error": f"invalid {frame['type']} frame: {error}", "ref": ref}
            )
        else:
            if answer is not None:
                await self.answer(frame, answer)

    async def answer(self, frame: dict[str, Any], answer: dict[str, Any]) -> None:
        """``answer`` to the client's ``frame``, with the frame's ``ref`` if it had one."""
        ref = frame.get("ref")
        await self.send({**answer, "ref": ref} if ref is not None else answer)

    async def _post(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        posting_allowed(self.principal)
        channel_id = uuid.UUID(str(frame["channel"]))
        thread = frame.get("thread")
        client_id = frame.get("client_id")
        files = frame.get("attachments", [])
        if not isinstance(files, list):
            raise TypeError("attachments is a list of file ids")
        async with org_session(self.principal.org_id, write=True) as db:
            posted = await messages.post(
                db,
                self.principal,
                channel_id,
                str(frame["text"]),
                thread_id=uuid.UUID(str(thread)) if thread else None,
                client_id=str(client_id) if client_id is not None else None,
                files=[uuid.UUID(str(f)) for f in files],
                online=lambda: self.hub.presence.online(self.principal.org_id),
            )
            await db.commit()
            # Answered before the session is let go: that awaits (its connection goes back
            # to the pool), and the message published at the commit would meanwhile be
            # written to every socket first (the benchmark's post → posted).
            await self.answer(frame, {"type": "posted", "message": posted.as_json()})
        return None

    async def _read(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        channel_id = uuid.UUID(str(frame["channel"]))
        async with org_session(self.principal.org_id, write=True) as db:
            marker = await channels.mark_read(db, self.principal, channel_id, int(frame["seq"]))
            await db.commit()
        return {"type": "marked", "channel": str(channel_id), "read": marker}

    async def _typing(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        channel_id = uuid.UUID(str(frame["channel"]))
        if channel_id not in self.channels:
            return {"type": "error", "status": 404, "error": "no such conversation"}
        now = time.monotonic()
        if now - self._typed.get(channel_id, 0.0) >= TYPING_EVERY:
            self._typed[channel_id] = now
            notice = {"type": "typing", "channel": str(channel_id), "user": str(self.principal.user_id)}
            await get_bus().publish(bus_channel(self.principal.org_id, channel_id=channel_id), notice)
        return None

    async def _state(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        state = str(frame["state"])
        if state not in ("online", "away", "dnd"):
            raise ValueError("state is online, away or dnd")
        self.state = state
        self.hub.presence.changed(self)
        return None

    async def _watch(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        users = [uuid.UUID(str(u)) for u in frame["users"]][:500]
        return {"type": "presence", "states": self.hub.presence.watch(self, users)}

    async def _ping(self, _frame: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "pong"}

    async def recheck(self) -> None:
        """End the socket when the sign-in that opened it is over; follow the person's
        spaces as they are now (left a space: its channel is no longer heard, nor can
        be written to from this socket). Called by the hub every
        ``HEXAGONE_WEBSOCKET_RECHECK_SECONDS`` or so (:attr:`due`)."""
        fresh = await self.caller.still_signed_in()
        if self.gone:
            return  # left meanwhile: the hub must not follow anything for it again
        if fresh is None:
            live.close_soon(self.socket, ws.SIGNED_OUT, "signed out")
            return
        if fresh != self.principal:
            self.principal = fresh
            followed = await followed_by(fresh)
            if self.gone:
                return
            for channel_id in self.channels - followed:
                self.hub.follow(self, channel_id, False)
            for channel_id in followed - self.channels:
                self.hub.follow(self, channel_id, True)

    def reschedule(self, now: float) -> None:
        """The next recheck, spread out: sockets opened together would all ask at once."""
        self.due = now + live.recheck_seconds() * random.uniform(0.75, 1.25)


async def followed_by(principal: Principal) -> set[uuid.UUID]:
    """The conversations a socket of this person hears: see :func:`channels.visible_ids`."""
    async with org_session(principal.org_id) as db:
        return await channels.visible_ids(db, principal)


_HANDLERS = {
    "post": Connection._post,
    "read": Connection._read,
    "typing": Connection._typing,
    "state": Connection._state,
    "watch": Connection._watch,
    "ping": Connection._ping,
}
