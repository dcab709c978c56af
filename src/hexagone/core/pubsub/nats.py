"""NATS core pub/sub (nats-py): ``nats://host:port``, ``tls://`` for TLS.

Our channel and pattern syntax is NATS' own, so subjects pass through unchanged. One
connection per process, opened on first use; nats-py reconnects by itself and keeps the
subscriptions, buffering what is published while it is away.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from hexagone.core.pubsub import Deliver, Fail, PubSub, PubSubError, Unsubscribe

log = logging.getLogger("hexagone.pubsub.nats")

TIMEOUT = 2


class Backend(PubSub):
    scheme = "nats"

    def __init__(self, url: str):
        super().__init__(url)
        self._client: Client | None = None
        self._fails: dict[Deliver, Fail] = {}
        self._lock = asyncio.Lock()

    async def _connection(self) -> Client:
        async with self._lock:
            if self._client is None or self._client.is_closed:
                client = Client()
                try:
                    # Reconnecting forever is right once connected, but nats-py would also
                    # retry a first connection forever: bound that one.
                    await asyncio.wait_for(
                        client.connect(
                            self.url,
                            connect_timeout=TIMEOUT,
                            allow_reconnect=True,
                            max_reconnect_attempts=-1,
                            error_cb=_log_error,
                            name="hexagone",
                        ),
                        TIMEOUT,
                    )
                except (NatsError, OSError, TimeoutError) as exc:
                    await client.close()
                    raise PubSubError(f"nats unreachable: {exc!r}") from exc
                self._client = client
            return self._client

    async def _publish(self, channel: str, data: bytes) -> None:
        client = await self._connection()
        try:
            await client.publish(channel, data)
        except NatsError as exc:
            raise PubSubError(f"nats publish failed: {exc}") from exc

    async def _subscribe(self, pattern: str, deliver: Deliver, fail: Fail) -> Unsubscribe:
        client = await self._connection()

        async def on_message(msg: Msg) -> None:
            deliver(msg.subject, msg.data)

        try:
            subscription = await client.subscribe(pattern, cb=on_message)
            await client.flush(timeout=TIMEOUT)  # the server has the SUB once it answers the PING
        except (NatsError, TimeoutError) as exc:
            raise PubSubError(f"nats subscribe to {pattern} failed: {exc}") from exc
        self._fails[deliver] = fail

        async def unsubscribe() -> None:
            self._fails.pop(deliver, None)
            try:
                await subscription.unsubscribe()
            except NatsError as exc:  # the connection is closed: nothing left to undo
                log.debug("unsubscribe from %s: %s", pattern, exc)

        return unsubscribe

    async def ping(self) -> None:
        client = await self._connection()
        try:
            await client.flush(timeout=TIMEOUT)
        except (NatsError, TimeoutError) as exc:
            raise PubSubError(f"nats unreachable: {exc}") from exc

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
        for fail in self._fails.values():
            fail(PubSubError("bus closed"))
        self._fails.clear()
        self._client = None


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s", exc)
