"""The durable job queue on the real database: enqueue in a transaction, run, retry with
backoff, fail after the last attempt, never run a job twice at once, recover the jobs of a
crashed worker. Each test uses job kinds of its own, which the test servers never claim."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hexagone.app import load_registry
from hexagone.core import jobs
from hexagone.core.db import system_session, utcnow
from hexagone.core.jobs import Backoff, Claimed, Handlers, Job, JobSpec, JobStatus, PermanentFailure, Worker, queue
from tests.conftest import ROOT, server_env
from tests.sample_module.module import tidy

pytestmark = pytest.mark.usefixtures("migrated", "every_model")

FAST = Backoff(base=0.05, cap=0.2)


@pytest.fixture(scope="module")
def every_model() -> None:
    """The job table's foreign key names identity's organisations, as in a served process."""
    load_registry()


def kind() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


async def enqueue(kind: str, payload: dict | None = None, **options: object) -> uuid.UUID:
    async with system_session() as db:
        job = jobs.enqueue(db, kind, payload or {}, **options)  # type: ignore[arg-type]
        await db.commit()
        return job.id


async def load(job_id: uuid.UUID) -> Job:
    async with system_session() as db:
        job = await db.get(Job, job_id)
        assert job is not None
        return job


def worker_for(
    kind: str, run: Callable[[Claimed], Awaitable[None]], *, backoff: Backoff = FAST, **options: object
) -> Worker:
    handlers = Handlers()
    handlers.register(kind, run, backoff=backoff)
    return Worker(handlers, **options)  # type: ignore[arg-type]


async def wait_until_due(job_id: uuid.UUID) -> None:
    job = await load(job_id)
    await asyncio.sleep(max(0.0, (job.run_at - utcnow()).total_seconds()) + 0.01)


def test_a_worker_knows_the_jobs_every_installed_module_declares() -> None:
    kinds = Worker().handlers.kinds
    assert {"sample.tidy", "mail.blob_gc", "mail.import"} <= set(kinds)
    handler = jobs.HANDLERS.get("sample.tidy")
    assert handler is not None and handler.run is tidy


async def test_enqueued_job_exists_only_if_the_transaction_commits() -> None:
    name = kind()
    async with system_session() as db:
        jobs.enqueue(db, name, {"n": 1})
        await db.rollback()
    job_id = await enqueue(name, {"n": 2})
    async with system_session() as db:
        rows = (await db.execute(select(Job).where(Job.kind == name))).scalars().all()
    assert [(row.id, row.payload, row.status, row.attempts) for row in rows] == [(job_id, {"n": 2}, "queued", 0)]


async def test_worker_runs_a_due_job_with_its_payload_and_marks_it_done() -> None:
    name, seen = kind(), []

    async def run(job: Claimed) -> None:
        seen.append((job.kind, job.payload, job.attempt))

    ident = uuid.uuid4()
    job_id = await enqueue(name, {"user_id": ident})
    assert await worker_for(name, run).run_once() == 1
    assert seen == [(name, {"user_id": str(ident)}, 1)]
    job = await load(job_id)
    assert (job.status, job.attempts, job.locked_by, job.locked_until, job.last_error) == ("done", 1, None, None, "")
    assert job.finished_at is not None


async def test_job_scheduled_later_waits_for_its_time() -> None:
    name = kind()

    async def run(_job: Claimed) -> None:
        pass

    job_id = await enqueue(name, run_at=utcnow() + timedelta(hours=1))
    assert await worker_for(name, run).run_once() == 0
    assert (await load(job_id)).status == "queued"


async def test_failing_job_is_retried_after_a_backoff_and_then_succeeds() -> None:
    name, attempts = kind(), []

    async def run(job: Claimed) -> None:
        attempts.append(job.attempt)
        if job.attempt < 3:
            raise RuntimeError(f"remote server down (attempt {job.attempt})")

    worker = worker_for(name, run, backoff=Backoff(base=0.2, cap=10))
    job_id = await enqueue(name)
    before = utcnow()
    await worker.run_once()
    job = await load(job_id)
    assert (job.status, job.attempts, job.locked_by) == ("queued", 1, None)
    assert "remote server down (attempt 1)" in job.last_error
    assert timedelta(seconds=0.1) <= job.run_at - before <= timedelta(seconds=0.2) + (utcnow() - before)
    assert await worker.run_once() == 0  # not due yet
    await wait_until_due(job_id)
    await worker.run_once()
    second = await load(job_id)
    assert second.attempts == 2 and second.status == "queued"
    assert second.run_at - second.updated_at >= timedelta(seconds=0.2)  # the second wait is longer: 0.2 to 0.4 s
    await wait_until_due(job_id)
    await worker.run_once()
    done = await load(job_id)
    assert (done.status, done.attempts, done.last_error) == ("done", 3, "")
    assert attempts == [1, 2, 3]


def test_backoff_doubles_per_attempt_with_jitter_and_stops_at_its_cap() -> None:
    backoff = Backoff(base=10, cap=100)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered, not a fixed value


async def test_job_fails_for_good_after_max_attempts() -> None:
    name, attempts = kind(), []

    async def run(job: Claimed) -> None:
        attempts.append(job.attempt)
        raise ValueError("always broken")

    worker = worker_for(name, run)
    job_id = await enqueue(name, max_attempts=3)
    deadline = time.monotonic() + 10
    while (await load(job_id)).status == "queued" and time.monotonic() < deadline:
        await wait_until_due(job_id)
        await worker.run_once()
    job = await load(job_id)
    assert (job.status, job.attempts, attempts) == ("failed", 3, [1, 2, 3])
    assert "ValueError: always broken" in job.last_error and job.finished_at is not None
    await asyncio.sleep(0.3)
    assert await worker.run_once() == 0


async def test_permanent_failure_fails_the_job_without_retrying() -> None:
    name = kind()

    async def run(_job: Claimed) -> None:
        raise PermanentFailure("the mailbox no longer exists")

    job_id = await enqueue(name, max_attempts=5)
    await worker_for(name, run).run_once()
    job = await load(job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "the mailbox no longer exists" in job.last_error


async def test_worker_claims_only_the_kinds_it_has_handlers_for() -> None:
    mine, other = kind(), kind()

    async def run(_job: Claimed) -> None:
        pass

    other_id = await enqueue(other)
    await enqueue(mine)
    assert await worker_for(mine, run).run_once() == 1
    assert (await load(other_id)).status == "queued"


def start_workers(mode: str, name: str, folder: Path, count: int, lease: float = 30) -> list[subprocess.Popen[bytes]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.core.jobs_worker_process", mode, name, str(folder), str(lease)],
            env=server_env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    deadline = time.monotonic() + 90  # several interpreters importing the suite on a loaded 2-core box
    while len(list(folder.glob("*.ready"))) < count:
        exited = [p for p in processes if p.poll() is not None]
        assert not exited, exited[0].stderr.read().decode(errors="replace") if exited[0].stderr else "exited"
        assert time.monotonic() < deadline, "worker processes did not start"
        time.sleep(0.05)
    (folder / "go").touch()
    return processes


async def test_concurrent_worker_processes_never_run_the_same_job_twice() -> None:
    name = kind()
    async with system_session() as db:
        ids = {jobs.enqueue(db, name, {"n": n}).id for n in range(120)}
        await db.commit()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for process in start_workers("record", name, folder, count=3):
            _out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err.decode()[-2000:]
        runs = {path.stem: path.read_text().split() for path in folder.glob("*.done")}
    all_runs = [job_id for ran in runs.values() for job_id in ran]
    assert len(all_runs) == len(set(all_runs)) == 120, "a job ran twice, or not at all"
    assert set(map(uuid.UUID, all_runs)) == ids
    assert len(runs) >= 2, "the processes did not work concurrently"
    async with system_session() as db:
        rows = (await db.execute(select(Job.status, Job.attempts).where(Job.kind == name))).all()
    assert set(rows) == {("done", 1)}


async def test_job_of_a_crashed_worker_is_recovered_and_run_again() -> None:
    name, seen = kind(), []
    job_id = await enqueue(name, {"mail": "x"})
    with tempfile.TemporaryDirectory() as tmp:
        (process,) = start_workers("crash", name, Path(tmp), count=1, lease=1)
        process.wait(timeout=60)
    assert process.returncode == 3
    crashed = await load(job_id)
    assert (crashed.status, crashed.attempts) == ("running", 1)

    async def run(job: Claimed) -> None:
        seen.append(job.attempt)

    survivor = worker_for(name, run)
    assert await survivor.recover_expired() == 0 or (await load(job_id)).status == "queued"
    await asyncio.sleep(max(0.0, (crashed.locked_until - utcnow()).total_seconds()) + 0.05)  # type: ignore[operator]
    assert await survivor.run_once() == 1
    job = await load(job_id)
    assert (job.status, job.attempts, seen) == ("done", 2, [2])


async def test_job_whose_worker_crashed_on_its_last_attempt_fails() -> None:
    name = kind()
    job_id = await enqueue(name, max_attempts=1)
    with tempfile.TemporaryDirectory() as tmp:
        (process,) = start_workers("crash", name, Path(tmp), count=1, lease=0.5)
        process.wait(timeout=60)
    await asyncio.sleep(0.6)

    async def run(_job: Claimed) -> None:
        raise AssertionError("a job out of attempts must not run")

    assert await worker_for(name, run).run_once() == 0
    job = await load(job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "lost its lease" in job.last_error


async def test_long_job_renews_its_lease_and_is_never_taken_over() -> None:
    name, runs = kind(), []

    async def run(job: Claimed) -> None:
        runs.append(job.attempt)
        await asyncio.sleep(1.2)

    job_id = await enqueue(name)
    worker = worker_for(name, run, lease=timedelta(seconds=0.4))
    other = worker_for(name, run, lease=timedelta(seconds=0.4))
    running = asyncio.create_task(worker.run_once())
    for _ in range(10):
        await asyncio.sleep(0.12)
        assert await other.run_once() == 0
    await running
    job = await load(job_id)
    assert (job.status, job.attempts, runs) == ("done", 1, [1])


async def test_worker_that_lost_its_lease_can_neither_renew_nor_finish_the_job() -> None:
    name = kind()
    job_id = await enqueue(name)
    lease = timedelta(seconds=30)
    async with system_session() as db:
        (stale,) = await queue.claim(db, worker="stale", kinds=[name], limit=1, lease=lease)
        await db.execute(update(Job).where(Job.id == job_id).values(locked_until=utcnow() - timedelta(seconds=1)))
        await db.commit()
        assert await queue.recover_expired(db) >= 1
        (fresh,) = await queue.claim(db, worker="fresh", kinds=[name], limit=1, lease=lease)
        assert fresh.attempt == 2
        assert not await queue.heartbeat(db, stale, "stale", lease)
        assert not await queue.mark_done(db, stale, "stale")
        assert await queue.mark_done(db, fresh, "fresh")
    assert (await load(job_id)).status == "done"


async def test_running_worker_starts_a_job_committed_in_its_process_without_waiting_for_a_poll() -> None:
    name, started = kind(), asyncio.Event()

    async def run(_job: Claimed) -> None:
        started.set()

    worker = worker_for(name, run, poll_interval=60)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.2)  # the first poll has found nothing; the next is a minute away
        await enqueue(name)
        await asyncio.wait_for(started.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_stopped_worker_gives_its_running_jobs_back_without_counting_the_attempt() -> None:
    name, started = kind(), asyncio.Event()

    async def run(_job: Claimed) -> None:
        started.set()
        await asyncio.sleep(60)

    job_id = await enqueue(name)
    task = asyncio.create_task(worker_for(name, run).run())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    job = await load(job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED, 0, None)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", {}), ValueError),
        (("x" * 101, {}), ValueError),
        (("test.ok", {"when": object()}), TypeError),
        (("test.ok", ["not", "a", "dict"]), TypeError),
    ],
)
async def test_enqueue_refuses_bad_arguments_at_once(args: tuple, error: type[Exception]) -> None:
    async with system_session() as db:
        with pytest.raises(error):
            jobs.enqueue(db, *args)


async def test_enqueue_refuses_no_attempts_and_naive_times() -> None:
    async with system_session() as db:
        with pytest.raises(ValueError):
            jobs.enqueue(db, "test.ok", {}, max_attempts=0)
        with pytest.raises(ValueError):
            jobs.enqueue(db, "test.ok", {}, run_at=utcnow().replace(tzinfo=None))


async def test_a_periodic_job_is_enqueued_by_the_worker_once_per_period() -> None:
    name, runs = kind(), []

    async def run(job: Claimed) -> None:
        runs.append(job.payload)

    handlers = Handlers()
    handlers.install([JobSpec(name, run, every=timedelta(hours=1))])
    first, second = Worker(handlers, maintenance_interval=0), Worker(handlers, maintenance_interval=0)
    await first._maintain_when_due()
    await second._maintain_when_due()  # one is queued: the other worker adds none
    assert await first.run_until_idle() == 1
    await first._maintain_when_due()  # done, but queued less than an hour ago
    assert await first.run_until_idle() == 0
    assert runs == [{}]
    async with system_session() as db:
        await db.execute(update(Job).where(Job.kind == name).values(created_at=utcnow() - timedelta(hours=2)))
        await db.commit()
        assert await queue.ensure_periodic(db, name, timedelta(hours=1)) is True
    assert await second.run_until_idle() == 1
    assert runs == [{}, {}]
