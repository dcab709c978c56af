"""Domain events: published only after commit, handled durably by the modules' handlers,
and carried between processes by Redis and NATS."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from sqlalchemy import select

from hexagone.app import load_registry
from hexagone.core import pubsub
from hexagone.core.config import get_settings
from hexagone.core.db import system_session, utcnow
from hexagone.core.jobs import Claimed, Job
from hexagone.core.modules import Registry
from hexagone.core.pubsub import Message, Subscription, events
from tests.conftest import Server
from tests.core import events_probe
from tests.core.brokers import Broker

pytestmark = pytest.mark.usefixtures("migrated", "every_model")

SERVERS = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
PROBE_MODULES = "tests.sample_module,tests.core.events_probe"
HANDLER_KIND = events.handler_job_kind(events_probe.record)


@pytest.fixture(scope="module")
def every_model() -> None:
    load_registry()


@pytest.fixture(scope="module")
def probe_server(start_server: Callable[..., Server]) -> Iterator[Callable[[str], Server]]:
    """A server with the probe module on a given bus, started once per bus."""
    started: dict[str, Server] = {}

    def get(backend: str) -> Server:
        if backend not in started:
            started[backend] = start_server(HEXAGONE_PUBSUB_URL=SERVERS[backend], HEXAGONE_MODULES=PROBE_MODULES)
        return started[backend]

    yield get


@pytest.fixture
async def base() -> AsyncIterator[str]:
    yield f"test.{uuid.uuid4().hex}"
    await events.flush()


async def receive(subscription: Subscription, timeout: float = 5) -> Message:
    return await asyncio.wait_for(anext(subscription), timeout)


async def nothing_yet(subscription: Subscription) -> bool:
    await events.flush()
    try:
        await asyncio.wait_for(anext(subscription), 0.2)
    except TimeoutError:
        return True
    return False


async def test_event_is_published_once_the_transaction_commits_and_not_before(base: str) -> None:
    async with pubsub.get_bus().subscribe(base) as subscription, system_session() as db:
        events.on_commit(db, base, {"n": 1})
        await db.flush()
        assert await nothing_yet(subscription)
        await db.commit()
        assert await receive(subscription) == Message(base, {"n": 1})


async def test_event_of_a_rolled_back_transaction_is_never_published(base: str) -> None:
    async with pubsub.get_bus().subscribe(f"{base}.>") as subscription:
        async with system_session() as db:
            events.on_commit(db, f"{base}.rolled_back", {})
            await db.flush()
            await db.rollback()
            events.on_commit(db, f"{base}.committed", {})
            await db.commit()
        assert (await receive(subscription)).channel == f"{base}.committed"


async def test_event_of_a_session_closed_without_commit_is_never_published(base: str) -> None:
    async with pubsub.get_bus().subscribe(f"{base}.>") as subscription:
        async with system_session() as db:
            events.on_commit(db, f"{base}.abandoned", {})
        async with system_session() as db:
            events.on_commit(db, f"{base}.committed", {})
            await db.commit()
        assert (await receive(subscription)).channel == f"{base}.committed"


async def test_event_inside_a_rolled_back_savepoint_is_dropped_and_the_others_are_published(base: str) -> None:
    async with pubsub.get_bus().subscribe(f"{base}.>") as subscription, system_session() as db:
        events.on_commit(db, f"{base}.before", {})
        savepoint = await db.begin_nested()
        events.on_commit(db, f"{base}.inside", {})
        await savepoint.rollback()
        events.on_commit(db, f"{base}.after", {})
        await db.commit()
        assert [(await receive(subscription)).channel for _ in range(2)] == [f"{base}.before", f"{base}.after"]
        assert await nothing_yet(subscription)


async def test_event_inside_a_released_savepoint_waits_for_the_real_commit(base: str) -> None:
    async with pubsub.get_bus().subscribe(base) as subscription, system_session() as db:
        async with db.begin_nested():
            events.on_commit(db, base, {"n": 1})
        assert await nothing_yet(subscription)
        await db.commit()
        assert (await receive(subscription)).payload == {"n": 1}


async def test_events_are_published_in_commit_order(base: str) -> None:
    async with pubsub.get_bus().subscribe(base) as subscription:
        for n in range(20):
            async with system_session() as db:
                events.on_commit(db, base, {"n": n})
                await db.commit()
        assert [(await receive(subscription)).payload["n"] for _ in range(20)] == list(range(20))


async def fan_out_jobs(channel: str, since: object) -> list[Job]:
    async with system_session() as db:
        rows = await db.execute(select(Job).where(Job.kind == events.FAN_OUT_JOB, Job.created_at >= since))
        return [job for job in rows.scalars() if job.payload["channel"] == channel]


async def test_event_from_a_process_without_handlers_enqueues_its_fan_out_job_with_the_transaction(base: str) -> None:
    since = utcnow()
    async with system_session() as db:
        events.on_commit(db, f"{base}.rolled_back", {"n": 1})
        await db.rollback()
        events.on_commit(db, f"{base}.committed", {"n": 2})
        await db.commit()
    assert await fan_out_jobs(f"{base}.rolled_back", since) == []
    (job,) = await fan_out_jobs(f"{base}.committed", since)
    assert job.payload == {"channel": f"{base}.committed", "payload": {"n": 2}}


async def test_fan_out_makes_one_job_per_matching_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_subscribers", None)
    events.install_handlers(Registry([events_probe.MODULE]))
    marker = uuid.uuid4().hex
    since = utcnow()
    for channel in (f"test.probe.{marker}", f"test.elsewhere.{marker}"):
        await events.fan_out(
            Claimed(
                id=uuid.uuid4(),
                kind=events.FAN_OUT_JOB,
                org_id=None,
                attempt=1,
                max_attempts=5,
                payload={"channel": channel, "payload": {"marker": marker}},
            )
        )
    async with system_session() as db:
        rows = (await db.execute(select(Job).where(Job.kind == HANDLER_KIND, Job.created_at >= since))).scalars()
        mine = [job.payload for job in rows if job.payload["payload"] == {"marker": marker}]
    assert mine == [{"channel": f"test.probe.{marker}", "payload": {"marker": marker}}]


async def test_event_with_a_bad_channel_or_payload_is_refused_at_the_call() -> None:
    async with system_session() as db:
        with pytest.raises(ValueError):
            events.on_commit(db, "test.*", {})
        with pytest.raises(TypeError):
            events.on_commit(db, "test.ok", {"when": object()})
        await db.rollback()


async def wait_for_trace(marker: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while not events_probe.trace(marker).exists():
        assert time.monotonic() < deadline, "the module's event handler did not run"
        await asyncio.sleep(0.1)
    return events_probe.trace(marker).read_text().split()


async def test_module_handler_runs_once_as_a_job_of_the_server_that_knows_it(
    probe_server: Callable[[str], Server],
) -> None:
    server = probe_server("redis")
    marker = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        assert (await client.get("/eventprobe/emit", params={"marker": marker})).status_code == 200
    pids = await wait_for_trace(marker)
    await asyncio.sleep(1.5)  # time for a duplicate run to show
    assert len(pids) == 1 and pids == events_probe.trace(marker).read_text().split()
    async with system_session() as db:
        rows = (await db.execute(select(Job).where(Job.kind == HANDLER_KIND))).scalars()
        (job,) = [job for job in rows if job.payload["payload"] == {"marker": marker}]
    assert (job.status, job.attempts) == ("done", 1)


@pytest.mark.parametrize("backend", list(SERVERS))
async def test_event_committed_in_a_server_reaches_a_subscriber_in_another_process(
    probe_server: Callable[[str], Server],
    backend: str,
) -> None:
    server = probe_server(backend)
    marker = uuid.uuid4().hex
    bus = pubsub.load(get_settings().model_copy(update={"pubsub_url": SERVERS[backend]}))
    try:
        async with bus.subscribe(f"test.probe.{marker}") as subscription:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
                assert (await client.get("/eventprobe/emit", params={"marker": marker})).status_code == 200
            assert await receive(subscription, timeout=10) == Message(f"test.probe.{marker}", {"marker": marker})
    finally:
        await bus.close()


@pytest.mark.parametrize("backend", list(SERVERS))
async def test_readiness_reports_the_pubsub_server(probe_server: Callable[[str], Server], backend: str) -> None:
    async with httpx.AsyncClient(base_url=probe_server(backend).base_url, timeout=30) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "pubsub": "up"}


async def test_readiness_fails_while_the_pubsub_server_is_down(start_server: Callable[..., Server]) -> None:
    broker = Broker("redis")
    broker.start()
    try:
        server = start_server(HEXAGONE_PUBSUB_URL=broker.url)
        broker.stop()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            response = await client.get("/readyz")
            assert response.status_code == 503
            assert response.json() == {"status": "unavailable", "database": "up", "pubsub": "down"}
            broker.start()
            async with asyncio.timeout(15):  # the client reconnects on a later check
                while (await client.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.2)
    finally:
        broker.stop()
