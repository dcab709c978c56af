"""The event bus: the same tests over the in-process bus and the real Redis and NATS
servers on 127.0.0.1 (a server that is down makes these tests fail, never skip)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from hexagone.core import pubsub
from hexagone.core.config import get_settings
from hexagone.core.pubsub import Message, PubSub, PubSubError, Subscription
from tests.core.brokers import Broker

SERVERS = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
BACKENDS = {"memory": "memory://", **SERVERS}
TIMEOUT = 5


def load(url: str) -> PubSub:
    return pubsub.load(get_settings().model_copy(update={"pubsub_url": url}))


@pytest.fixture(params=list(BACKENDS))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[PubSub]:
    backend = load(BACKENDS[request.param])
    yield backend
    await backend.close()


def channel() -> str:
    return f"test.{uuid.uuid4().hex}"


async def receive(subscription: Subscription) -> Message:
    return await asyncio.wait_for(anext(subscription), TIMEOUT)


async def test_published_message_reaches_a_subscriber_of_its_channel(bus: PubSub) -> None:
    name = channel()
    async with bus.subscribe(name) as subscription:
        await bus.publish(name, {"text": "bonjour", "n": 1})
        assert await receive(subscription) == Message(name, {"text": "bonjour", "n": 1})


async def test_every_subscriber_receives_its_own_copy(bus: PubSub) -> None:
    name = channel()
    async with bus.subscribe(name) as first, bus.subscribe(name) as second:
        await bus.publish(name, {"n": 1})
        assert (await receive(first)).payload == {"n": 1}
        assert (await receive(second)).payload == {"n": 1}


async def test_star_matches_exactly_one_token(bus: PubSub) -> None:
    base = channel()
    async with bus.subscribe(f"{base}.*.message") as subscription:
        for name in (f"{base}.message", f"{base}.a.b.message", f"{base}.a.other", f"{base}.a.message"):
            await bus.publish(name, {"name": name})
        assert (await receive(subscription)).channel == f"{base}.a.message"


async def test_final_greater_than_matches_one_or_more_tokens(bus: PubSub) -> None:
    base = channel()
    async with bus.subscribe(f"{base}.>") as subscription:
        for name in (base, f"{base}.a", f"{base}.a.b"):
            await bus.publish(name, {})
        assert [(await receive(subscription)).channel for _ in range(2)] == [f"{base}.a", f"{base}.a.b"]


async def test_messages_arrive_in_publication_order(bus: PubSub) -> None:
    name = channel()
    async with bus.subscribe(name) as subscription:
        for n in range(50):
            await bus.publish(name, {"n": n})
        assert [(await receive(subscription)).payload["n"] for _ in range(50)] == list(range(50))


async def test_message_published_before_subscribing_is_not_received(bus: PubSub) -> None:
    name = channel()
    await bus.publish(name, {"n": "before"})
    async with bus.subscribe(name) as subscription:
        await bus.publish(name, {"n": "after"})
        assert (await receive(subscription)).payload == {"n": "after"}


async def test_closing_one_subscription_leaves_the_others_on_the_same_channel(bus: PubSub) -> None:
    name = channel()
    async with bus.subscribe(name) as staying:
        async with bus.subscribe(name) as leaving:
            pass
        with pytest.raises(StopAsyncIteration):
            await anext(leaving)
        await bus.publish(name, {"n": 1})
        assert (await receive(staying)).payload == {"n": 1}


async def test_payload_uuids_and_datetimes_arrive_as_strings(bus: PubSub) -> None:
    name, ident = channel(), uuid.uuid4()
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    async with bus.subscribe(name) as subscription:
        await bus.publish(name, {"id": ident, "at": when, "nested": {"list": [1, "é"]}})
        assert (await receive(subscription)).payload == {
            "id": str(ident),
            "at": "2026-03-01T12:30:00+00:00",
            "nested": {"list": [1, "é"]},
        }


async def test_slow_subscriber_loses_the_newest_messages_beyond_its_queue(
    bus: PubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub, "QUEUE_SIZE", 5)
    name = channel()
    async with bus.subscribe(name) as subscription:
        for n in range(8):
            await bus.publish(name, {"n": n})
        async with asyncio.timeout(TIMEOUT):
            while subscription.dropped < 3:
                await asyncio.sleep(0.01)
        assert [(await receive(subscription)).payload["n"] for _ in range(5)] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name", ["", "a..b", "a b", "a.*", "a.>", "é", "a/b", "a\n", "x" * 256])
async def test_publishing_on_an_invalid_channel_is_refused(bus: PubSub, name: str) -> None:
    with pytest.raises(ValueError):
        await bus.publish(name, {})


@pytest.mark.parametrize("pattern", ["", "a.>.b", "a*", "a.**", ">.a", "a..b"])
async def test_subscribing_to_an_invalid_pattern_is_refused(bus: PubSub, pattern: str) -> None:
    with pytest.raises(ValueError):
        bus.subscribe(pattern)


@pytest.mark.parametrize("payload", [["not", "a", "dict"], {"set": {1, 2}}, {"bytes": b"x"}])
async def test_payload_that_is_not_a_json_object_is_refused(bus: PubSub, payload: object) -> None:
    with pytest.raises(TypeError):
        await bus.publish(channel(), payload)  # type: ignore[arg-type]


async def test_ping_answers_when_the_backend_is_up(bus: PubSub) -> None:
    await bus.ping()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "nats://127.0.0.1:1"])
async def test_unreachable_server_raises_a_pubsub_error(url: str) -> None:
    backend = load(url)
    try:
        with pytest.raises(PubSubError):
            await backend.ping()
        with pytest.raises(PubSubError):
            await backend.publish(channel(), {})
    finally:
        await backend.close()


def test_unknown_scheme_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="HEXAGONE_PUBSUB_URL"):
        load("kafka://127.0.0.1:9092")


@pytest.mark.parametrize("backend", list(SERVERS))
async def test_message_crosses_between_two_connections(backend: str) -> None:
    """Two bus objects stand for two processes: nothing is shared but the server."""
    publisher, subscriber = load(SERVERS[backend]), load(SERVERS[backend])
    name = channel()
    try:
        async with subscriber.subscribe(f"{name}.*") as subscription:
            await publisher.publish(f"{name}.x", {"from": "elsewhere"})
            assert await receive(subscription) == Message(f"{name}.x", {"from": "elsewhere"})
    finally:
        await publisher.close()
        await subscriber.close()


@pytest.mark.parametrize("backend", list(SERVERS))
async def test_subscription_survives_a_restart_of_the_server(backend: str) -> None:
    broker = Broker(backend)
    broker.start()
    publisher, subscriber = load(broker.url), load(broker.url)
    name = channel()
    try:
        async with subscriber.subscribe(name) as subscription:
            await publisher.publish(name, {"n": "before"})
            assert (await receive(subscription)).payload == {"n": "before"}
            broker.stop()
            broker.start()
            async with asyncio.timeout(20):  # both clients reconnect on their own
                while True:
                    with contextlib.suppress(PubSubError):
                        await publisher.publish(name, {"n": "after"})
                    with contextlib.suppress(TimeoutError):
                        assert (await asyncio.wait_for(anext(subscription), 0.5)).payload == {"n": "after"}
                        break
    finally:
        await publisher.close()
        await subscriber.close()
        broker.stop()
