"""In-process bus: the embedded default. Only subscribers of this process receive; with
several processes (``--workers``, separate mail or job processes) use Redis or NATS."""

from __future__ import annotations

from hexagone.core.pubsub import Deliver, Fail, PubSub, PubSubError, Unsubscribe


class Backend(PubSub):
    scheme = "memory"

    def __init__(self, url: str):
        super().__init__(url)
        self._subscribers: dict[Deliver, Fail] = {}

    async def _publish(self, channel: str, data: bytes) -> None:
        for deliver in list(self._subscribers):
            deliver(channel, data)

    async def _subscribe(self, pattern: str, deliver: Deliver, fail: Fail) -> Unsubscribe:
        self._subscribers[deliver] = fail

        async def unsubscribe() -> None:
            self._subscribers.pop(deliver, None)

        return unsubscribe

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for fail in self._subscribers.values():
            fail(PubSubError("bus closed"))
        self._subscribers.clear()
