"""The queue's statements: enqueue in the caller's transaction, and the worker's claim,
heartbeat, finish and recovery.

Claiming is safe with any number of workers in any number of processes. On PostgreSQL the
candidates are read with ``FOR UPDATE SKIP LOCKED``, so concurrent workers take different
rows without waiting for each other, then updated. On SQLite (one writer at a time, no row
locks) a single ``UPDATE … WHERE id IN (due jobs) AND status = 'queued' RETURNING …``
takes them atomically. In both, the ``status = 'queued'`` condition means a row is taken
by exactly one claim, and ``RETURNING`` says which rows are ours.

A claim is identified by ``(id, locked_by, attempts)``: a worker whose lease expired and
whose job was taken again can no longer heartbeat or finish it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import utcnow
from hexagone.core.encoding import encode
from hexagone.core.jobs.models import Job, JobStatus

DEFAULT_MAX_ATTEMPTS = 5
MAX_ERROR_LENGTH = 4000
ENQUEUED = "hexagone.jobs.enqueued"


@dataclass(frozen=True)
class Claimed:
    """A job as its handler sees it. ``attempt`` counts from 1."""

    id: uuid.UUID
    kind: str
    org_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int
    max_attempts: int


def enqueue(
    db: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    org_id: uuid.UUID | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Add a job to the caller's transaction: it exists if and only if the caller commits.

    The payload is stored as JSON (UUIDs and datetimes become strings, anything else not
    JSON fails here rather than at commit)."""
    if not kind or len(kind) > 100:
        raise ValueError("a job kind is 1 to 100 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        payload=json.loads(encode(payload)),
        org_id=org_id,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        run_at=run_at or utcnow(),
    )
    db.add(job)
    db.info[ENQUEUED] = True
    return job


def _is_postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


async def claim(
    db: AsyncSession, *, worker: str, kinds: Collection[str], limit: int, lease: timedelta
) -> list[Claimed]:
    """Take up to ``limit`` due jobs of the given kinds, and commit."""
    if not kinds or limit < 1:
        return []
    now = utcnow()
    due = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= now, Job.kind.in_(list(kinds)))
        .order_by(Job.run_at)
        .limit(limit)
    )
    if _is_postgres(db):
        ids = list((await db.execute(due.with_for_update(skip_locked=True))).scalars())
        if not ids:
            await db.rollback()
            return []
        chosen = Job.id.in_(ids)
    else:
        # Look before taking SQLite's single write lock: an idle worker would otherwise
        # take it every poll, and a request transaction that read first and writes
        # second fails at once ("database is locked") when its snapshot is overtaken.
        if (await db.execute(due.limit(1))).first() is None:
            await db.rollback()
            return []
        await db.rollback()  # the UPDATE below starts a fresh transaction, write lock first
        # One statement: SQLite runs it under its single write lock, so the sub-select
        # sees only rows that no other worker has taken (two steps would let concurrent
        # workers pick the same candidates, and all but one come back empty-handed).
        chosen = Job.id.in_(due.scalar_subquery())
    taken = (
        update(Job)
        .where(chosen, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            locked_by=worker,
            locked_until=now + lease,
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.org_id, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    )
    rows = (await db.execute(taken)).all()
    await db.commit()
    return [Claimed(*row) for row in rows]


def _ours(job: Claimed, worker: str) -> ColumnElement[bool]:
    return (
        (Job.id == job.id)
        & (Job.locked_by == worker)
        & (Job.attempts == job.attempt)
        & (Job.status == JobStatus.RUNNING)
    )


async def _update_claim(db: AsyncSession, job: Claimed, worker: str, **values: Any) -> bool:
    result = await db.execute(
        update(Job)
        .where(_ours(job, worker))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


async def heartbeat(db: AsyncSession, job: Claimed, worker: str, lease: timedelta) -> bool:
    """Extend the lease; False when the job is no longer ours."""
    return await _update_claim(db, job, worker, locked_until=utcnow() + lease)


async def mark_done(db: AsyncSession, job: Claimed, worker: str) -> bool:
    return await _update_claim(
        db, job, worker, status=JobStatus.DONE, locked_by=None, locked_until=None, last_error="", finished_at=utcnow()
    )


async def mark_failed(db: AsyncSession, job: Claimed, worker: str, error: str, retry_at: datetime | None) -> bool:
    """Queue the job again for ``retry_at``, or, without one, fail it for good."""
    values: dict[str, Any] = {"locked_by": None, "locked_until": None, "last_error": error[-MAX_ERROR_LENGTH:]}
    if retry_at is None:
        values.update(status=JobStatus.FAILED, finished_at=utcnow())
    else:
        values.update(status=JobStatus.QUEUED, run_at=retry_at)
    return await _update_claim(db, job, worker, **values)


async def release(db: AsyncSession, job: Claimed, worker: str) -> bool:
    """Give back a job this worker will not finish (shutdown): the attempt does not count."""
    return await _update_claim(
        db, job, worker, status=JobStatus.QUEUED, attempts=Job.attempts - 1, locked_by=None, locked_until=None
    )


async def recover_expired(db: AsyncSession) -> int:
    """Queue again the running jobs whose lease ran out (their worker crashed or stalled);
    a job that has used all its attempts that way fails instead."""
    now = utcnow()
    exhausted = Job.attempts >= Job.max_attempts
    result = await db.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, Job.locked_until < now)
        .values(
            status=case((exhausted, JobStatus.FAILED.value), else_=JobStatus.QUEUED.value),
            finished_at=case((exhausted, literal(now, Job.__table__.c.finished_at.type)), else_=None),
            locked_by=None,
            locked_until=None,
            updated_at=now,
            last_error="the worker lost its lease (crashed or stalled)",
        )
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune_done(db: AsyncSession, older_than: timedelta) -> int:
    """Delete finished jobs after a while; failed ones stay for an administrator to see."""
    result = await db.execute(
        delete(Job)
        .where(Job.status == JobStatus.DONE, Job.finished_at < utcnow() - older_than)
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def ensure_periodic(db: AsyncSession, kind: str, every: timedelta) -> bool:
    """Enqueue a periodic job unless one of its kind is waiting, running, or was queued
    less than ``every`` ago; True if this call enqueued it. Every worker asks at each of
    its maintenance rounds: two asking at once may both enqueue, which a periodic
    handler, idempotent like every handler, survives."""
    recent = (
        select(Job.id)
        .where(
            Job.kind == kind,
            (Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))) | (Job.created_at > utcnow() - every),
        )
        .limit(1)
    )
    if (await db.execute(recent)).scalar() is not None:
        return False
    enqueue(db, kind, {})
    await db.commit()
    return True
