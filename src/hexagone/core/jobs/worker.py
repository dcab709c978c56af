"""The worker: claims due jobs, runs their handlers, retries with backoff, and recovers
the jobs of workers that died.

``hexagone serve`` runs one in each process (``HEXAGONE_JOBS_CONCURRENCY`` jobs at once; 0
for a process that serves requests only). Delivery is at least once: a worker that dies
after a handler's work but before marking the job done leaves it to be run again once its
lease expires, so handlers must be idempotent. While a handler runs, its lease is renewed;
if the lease is lost anyway (a stall longer than the lease), the handler is cancelled,
since another worker may be running the job by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import system_session, utcnow
from hexagone.core.failures import log_failure
from hexagone.core.jobs import queue
from hexagone.core.jobs.queue import Claimed
from hexagone.core.jobs.registry import HANDLERS, Handlers, PermanentFailure

log = logging.getLogger("hexagone.jobs")

T = TypeVar("T")

# Events of the workers running in this process, set when a transaction that enqueued a
# job commits here, so local work starts at once instead of at the next poll.
_local_wakeups: set[asyncio.Event] = set()


def wake_local_workers() -> None:
    for wakeup in list(_local_wakeups):
        wakeup.set()


class Worker:
    def __init__(
        self,
        handlers: Handlers = HANDLERS,
        *,
        name: str | None = None,
        concurrency: int = 4,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: float = 1.0,
        maintenance_interval: float = 15.0,
        keep_done: timedelta = timedelta(days=7),
    ):
        self.handlers = handlers
        self.name = name or f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.maintenance_interval = maintenance_interval
        self.keep_done = keep_done
        self._wakeup = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._next_maintenance = 0.0
        self._stopping = False

    async def run(self) -> None:
        """Work until cancelled; on cancellation, give running jobs back to the queue."""
        _local_wakeups.add(self._wakeup)
        try:
            while True:
                self._wakeup.clear()
                await self._maintain_when_due()
                free = self.concurrency - len(self._running)
                claimed = await self._claim(free) if free > 0 else []
                for job in claimed:
                    task = asyncio.create_task(self.execute(job), name=f"job-{job.kind}-{job.id}")
                    self._running.add(task)
                    task.add_done_callback(self._finished)
                if free > 0 and len(claimed) == free:
                    continue  # the queue may hold more: wait only for a free slot
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.poll_interval)
        finally:
            _local_wakeups.discard(self._wakeup)
            self._stopping = True
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_once(self) -> int:
        """Recover expired leases, claim what is due (up to ``concurrency``) and run it to
        the end. Returns the number of jobs run: for tests and one-shot scripts."""
        await self.recover_expired()
        claimed = await self._claim(self.concurrency)
        await asyncio.gather(*(self.execute(job) for job in claimed), return_exceptions=True)
        return len(claimed)

    async def run_until_idle(self) -> int:
        total = 0
        while ran := await self.run_once():
            total += ran
        return total

    async def recover_expired(self) -> int:
        recovered = await self._quietly(queue.recover_expired) or 0
        if recovered:
            log.warning("recovered %d job(s) whose worker lost its lease", recovered)
        return recovered

    async def execute(self, job: Claimed) -> None:
        """Run one claimed job and record the outcome."""
        handler = self.handlers.get(job.kind)
        assert handler is not None, "workers claim only the kinds they handle"
        running = asyncio.current_task()
        assert running is not None
        lease_lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(job, running, lease_lost))
        try:
            await handler.run(job)
        except asyncio.CancelledError:
            if self._stopping:
                await self._quietly(lambda db: queue.release(db, job, self.name))
            elif lease_lost.is_set() and running.uncancel() == 0:
                return  # cancelled by _keep_lease alone: the job is another worker's now
            raise
        except PermanentFailure as exc:
            await self._record_failure(job, exc, retry_at=None)
        except Exception as exc:
            retry_at = None
            if job.attempt < job.max_attempts:
                retry_at = utcnow() + timedelta(seconds=handler.backoff.delay(job.attempt))
            await self._record_failure(job, exc, retry_at=retry_at)
        else:
            if await self._quietly(lambda db: queue.mark_done(db, job, self.name)) is False:
                log.warning("job %s (%s) finished after its lease was lost", job.id, job.kind)
        finally:
            keeper.cancel()

    async def _record_failure(self, job: Claimed, exc: BaseException, retry_at: datetime | None) -> None:
        error = "".join(traceback.format_exception(exc, limit=8))
        if retry_at is None:
            log.error("job %s (%s) failed for good after %d attempt(s): %s", job.id, job.kind, job.attempt, exc)
        else:
            log.info("job %s (%s) attempt %d failed, retry at %s: %s", job.id, job.kind, job.attempt, retry_at, exc)
        await self._quietly(lambda db: queue.mark_failed(db, job, self.name, error, retry_at))

    async def _keep_lease(self, job: Claimed, running: asyncio.Task[None], lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if await self._quietly(lambda db: queue.heartbeat(db, job, self.name, self.lease)) is False:
                log.warning("job %s (%s) lost its lease: cancelling its handler", job.id, job.kind)
                lost.set()
                running.cancel()
                return

    async def _claim(self, limit: int) -> list[Claimed]:
        claimed = await self._quietly(
            lambda db: queue.claim(db, worker=self.name, kinds=self.handlers.kinds, limit=limit, lease=self.lease)
        )
        return claimed or []

    async def _maintain_when_due(self) -> None:
        if time.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = time.monotonic() + self.maintenance_interval
        await self.recover_expired()
        await self._quietly(lambda db: queue.prune_done(db, self.keep_done))
        for spec in self.handlers.periodic:
            assert spec.every is not None
            await self._quietly(functools.partial(queue.ensure_periodic, kind=spec.kind, every=spec.every))

    async def _quietly(self, operation: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
        """A queue statement in its own session; a database outage is logged, not raised,
        so the worker outlives it (an unfinished claim is recovered when its lease ends)."""
        try:
            async with system_session() as db:
                return await operation(db)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_failure(log, "job queue statement", error)
            return None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wakeup.set()
