"""Redis pub/sub (redis-py asyncio): ``redis://host:port/db``, ``rediss://`` for TLS.

A process holds one subscriber connection whatever the number of subscriptions (a chat
server may have thousands of open sockets): each distinct pattern is subscribed once on
Redis and fanned out locally. Plain channels use SUBSCRIBE (Redis checks them in O(1)),
patterns PSUBSCRIBE with a glob that our exact matcher then narrows, since Redis' ``*``
also matches dots. After a lost connection the reader reconnects and redis-py subscribes
again; messages published in between are lost, as pub/sub promises no more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub as RedisPubSub
from redis.exceptions import RedisError

from hexagone.core.pubsub import Deliver, Fail, PubSub, PubSubError, Unsubscribe, is_pattern

log = logging.getLogger("hexagone.pubsub.redis")

CONFIRM_TIMEOUT = 5.0
RECONNECT_MAX_DELAY = 5.0
POOL_SIZE = 50


def redis_name(pattern: str) -> str:
    """The Redis channel or glob for one of our patterns (tokens hold no glob character)."""
    return pattern.replace(">", "*")


class Backend(PubSub):
    scheme = "redis"

    def __init__(self, url: str):
        super().__init__(url)
        # A bounded pool that makes a publisher wait for a free connection: redis-py's
        # default pool raises "Too many connections" past 100, which a thousand sockets
        # opening at once (each announcing its presence) reached in the chat's benchmark.
        pool = BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=CONFIRM_TIMEOUT, socket_connect_timeout=2, health_check_interval=30
        )
        self._client = Redis(connection_pool=pool)
        self._pubsub: RedisPubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._local: dict[str, dict[Deliver, Fail]] = {}
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()

    async def _publish(self, channel: str, data: bytes) -> None:
        try:
            await self._client.publish(channel, data)
        except RedisError as exc:
            raise PubSubError(f"redis publish failed: {exc}") from exc

    async def _subscribe(self, pattern: str, deliver: Deliver, fail: Fail) -> Unsubscribe:
        name = redis_name(pattern)
        async with self._lock:
            if name not in self._local:
                await self._redis_subscribe(name, pattern)
                self._local[name] = {}
            self._local[name][deliver] = fail

        async def unsubscribe() -> None:
            async with self._lock:
                delivers = self._local.get(name, {})
                delivers.pop(deliver, None)
                if not delivers and name in self._local and self._pubsub is not None:
                    del self._local[name]
                    try:
                        await (
                            self._pubsub.punsubscribe(name) if is_pattern(pattern) else self._pubsub.unsubscribe(name)
                        )
                    except RedisError as exc:  # the connection is gone: nothing left to undo
                        log.debug("unsubscribe from %s: %s", name, exc)

        return unsubscribe

    async def _redis_subscribe(self, name: str, pattern: str) -> None:
        if self._pubsub is None:
            self._pubsub = self._client.pubsub()
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[name] = confirmed
        try:
            await (self._pubsub.psubscribe(name) if is_pattern(pattern) else self._pubsub.subscribe(name))
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(self._pubsub), name="redis-pubsub-reader")
            await asyncio.wait_for(confirmed, CONFIRM_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as exc:
            raise PubSubError(f"redis subscribe to {name} failed: {exc}") from exc
        finally:
            self._confirmations.pop(name, None)

    async def _read(self, pubsub: RedisPubSub) -> None:
        delay = 0.1
        while True:
            try:
                message = await pubsub.get_message(timeout=None)
            except (RedisError, OSError) as exc:
                log.warning("redis pub/sub connection lost (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY)
                continue
            delay = 0.1
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("subscribe", "psubscribe"):
            confirmed = self._confirmations.get(_text(message["channel"]))
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
        elif kind in ("message", "pmessage"):
            name = _text(message["pattern"] if kind == "pmessage" else message["channel"])
            channel = _text(message["channel"])
            for deliver in list(self._local.get(name, ())):
                deliver(channel, message["data"])

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except RedisError as exc:
            raise PubSubError(f"redis unreachable: {exc}") from exc

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        for delivers in self._local.values():
            for fail in delivers.values():
                fail(PubSubError("bus closed"))
        self._local.clear()
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
