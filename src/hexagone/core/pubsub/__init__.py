"""The event bus between processes: publish a JSON payload on a channel, subscribe to a
channel or a pattern, in process (``memory://``), through Redis or through NATS.

Pub/sub is for live fan-out (chat messages to open sockets, presence, notification
badges, document updates): every subscriber that is listening when a message is published
gets it, at most once, and nothing is kept for one that is not. Work that must happen
exactly because something was committed goes through :mod:`hexagone.core.pubsub.events`
(published after commit, handlers run as durable jobs), never through a bare subscription.

Channels are dot-separated tokens of ``[A-Za-z0-9_-]`` (``chat.<space id>.message``).
A pattern may use ``*`` for exactly one token and ``>`` as its last token for one or more
(``chat.*.message``, ``chat.>``): NATS' own syntax, which the other backends reproduce
exactly, so code and tests do not depend on the backend.

Each backend is one file implementing the small :class:`PubSub` hooks; :func:`load`
picks it from ``HEXAGONE_PUBSUB_URL``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

from hexagone.core.backends import load_backend
from hexagone.core.config import Settings, get_settings
from hexagone.core.encoding import encode

log = logging.getLogger("hexagone.pubsub")

TOKEN = r"[A-Za-z0-9_-]+"
CHANNEL_RE = re.compile(rf"{TOKEN}(\.{TOKEN})*")
PATTERN_RE = re.compile(rf"({TOKEN}|\*)(\.({TOKEN}|\*))*(\.>)?|>")
MAX_CHANNEL_LENGTH = 255
QUEUE_SIZE = 10_000

BACKENDS = {"memory": "memory", "redis": "redis", "rediss": "redis", "nats": "nats", "tls": "nats"}

Deliver = Callable[[str, bytes], None]
Fail = Callable[[BaseException], None]
Unsubscribe = Callable[[], Awaitable[None]]


class PubSubError(RuntimeError):
    """The bus cannot be reached, or a subscription lost its backend for good."""


@dataclass(frozen=True)
class Message:
    channel: str
    payload: dict[str, Any]


def check_channel(channel: str) -> str:
    if len(channel) > MAX_CHANNEL_LENGTH or not CHANNEL_RE.fullmatch(channel):
        raise ValueError(f"invalid channel name {channel!r}: dot-separated tokens of [A-Za-z0-9_-]")
    return channel


def check_pattern(pattern: str) -> str:
    if len(pattern) > MAX_CHANNEL_LENGTH or not PATTERN_RE.fullmatch(pattern):
        raise ValueError(f"invalid channel pattern {pattern!r}: tokens, '*' for one token, a final '>' for the rest")
    return pattern


def is_pattern(pattern: str) -> bool:
    return "*" in pattern or ">" in pattern


def pattern_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate telling whether a channel name matches ``pattern`` (NATS semantics)."""
    if not is_pattern(pattern):
        return pattern.__eq__
    parts = [
        TOKEN if token == "*" else rf"{TOKEN}(\.{TOKEN})*" if token == ">" else re.escape(token)
        for token in pattern.split(".")
    ]
    return re.compile(r"\.".join(parts)).fullmatch  # type: ignore[return-value]


class Subscription:
    """Messages on one channel or pattern, as an async iterator; use as an async context
    manager (``async with bus.subscribe("chat.>") as sub: async for message in sub``).

    Once ``__aenter__`` returns, the backend has registered the subscription: anything
    published afterwards arrives. A subscriber slower than the publishers loses messages
    beyond ``QUEUE_SIZE`` (counted in ``dropped``) rather than holding the process memory.
    """

    def __init__(self, bus: PubSub, pattern: str):
        self.bus = bus
        self.pattern = check_pattern(pattern)
        self.dropped = 0
        self._matches = pattern_matcher(pattern)
        self._queue: asyncio.Queue[tuple[str, bytes] | BaseException | None] = asyncio.Queue(QUEUE_SIZE)
        self._unsubscribe: Unsubscribe | None = None
        self._closed = False

    async def open(self) -> Self:
        self._unsubscribe = await self.bus._subscribe(self.pattern, self._deliver, self._fail)
        return self

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._unsubscribe is not None:
            await self._unsubscribe()
        self._put(None)

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Message:
        while True:
            item = await self._queue.get()
            if item is None:
                self._queue.put_nowait(None)  # later calls end too
                raise StopAsyncIteration
            if isinstance(item, BaseException):
                self._queue.put_nowait(item)  # later calls fail too
                raise PubSubError(f"subscription to {self.pattern} lost: {item}") from item
            channel, data = item
            try:
                payload = json.loads(data)
            except ValueError:
                log.warning("dropped a message on %s that is not JSON", channel)
                continue
            if isinstance(payload, dict):
                return Message(channel, payload)
            log.warning("dropped a message on %s that is not a JSON object", channel)

    def _deliver(self, channel: str, data: bytes) -> None:
        """Called by the backend for every candidate message; filters by the exact pattern
        (Redis' globs are broader than our patterns)."""
        if not self._closed and self._matches(channel):
            self._put((channel, data))

    def _fail(self, exc: BaseException) -> None:
        if not self._closed:
            self._closed = True
            self._put(exc)

    def _put(self, item: tuple[str, bytes] | BaseException | None) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            if item is None or isinstance(item, BaseException):
                self._queue.get_nowait()  # the end must get through: drop the oldest message
                self._queue.put_nowait(item)
            self.dropped += 1
            if self.dropped in (1, 100, 10_000) or self.dropped % 100_000 == 0:
                log.warning("subscriber to %s too slow: %d messages dropped", self.pattern, self.dropped)


class PubSub(ABC):
    """A bus. Public methods validate and encode once; a backend implements the hooks."""

    scheme: str = ""

    def __init__(self, url: str):
        self.url = url

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._publish(check_channel(channel), encode(payload))

    def subscribe(self, pattern: str) -> Subscription:
        """A subscription to open with ``async with`` (or ``await ….open()``)."""
        return Subscription(self, pattern)

    @abstractmethod
    async def _publish(self, channel: str, data: bytes) -> None: ...

    @abstractmethod
    async def _subscribe(self, pattern: str, deliver: Deliver, fail: Fail) -> Unsubscribe:
        """Register ``deliver`` for every message whose channel may match ``pattern`` and
        return once the backend confirms; ``fail`` is called if it is lost for good."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the backend cannot be reached (readiness checks)."""

    @abstractmethod
    async def close(self) -> None: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme}>"


def load(settings: Settings) -> PubSub:
    """The backend named by ``HEXAGONE_PUBSUB_URL``: ``memory://``,
    ``redis://host:port/db`` (``rediss://`` for TLS), ``nats://host:port`` (``tls://``)."""
    bus: PubSub = load_backend(__name__, "HEXAGONE_PUBSUB_URL", settings.pubsub_url, BACKENDS)
    return bus


_bus: PubSub | None = None


def get_bus() -> PubSub:
    """The process' bus, loaded from the settings on first use."""
    global _bus
    if _bus is None:
        _bus = load(get_settings())
    return _bus


async def close_bus() -> None:
    global _bus
    if _bus is not None:
        await _bus.close()
    _bus = None
