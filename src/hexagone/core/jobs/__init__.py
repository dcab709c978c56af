"""A durable job queue in the database: work that must be done, with retries, even if
the process that asked for it dies.

A service enqueues in its own transaction (``jobs.enqueue(db, "mail.deliver", {...})``),
so a job exists if and only if the change that calls for it is committed. A module
declares the coroutine that does the work in its descriptor (``jobs=[JobSpec(...)]``); the
worker of every ``hexagone serve`` process claims due jobs, runs them, retries failures
with exponential backoff and jitter, fails a job after ``max_attempts``, and recovers the
jobs of a worker that crashed. Delivery is at least once: handlers must be idempotent.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from hexagone.core.jobs.models import Job, JobStatus
from hexagone.core.jobs.queue import DEFAULT_MAX_ATTEMPTS, ENQUEUED, Claimed, enqueue
from hexagone.core.jobs.registry import (
    HANDLERS,
    Backoff,
    Handlers,
    JobHandler,
    JobSpec,
    PermanentFailure,
    register,
)
from hexagone.core.jobs.worker import Worker, wake_local_workers

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "HANDLERS",
    "Backoff",
    "Claimed",
    "Handlers",
    "Job",
    "JobHandler",
    "JobSpec",
    "JobStatus",
    "PermanentFailure",
    "Worker",
    "enqueue",
    "register",
]


@event.listens_for(Session, "after_commit")
def _wake_workers_on_commit(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop(ENQUEUED, False):
        wake_local_workers()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued_on_rollback(session: Session) -> None:
    session.info.pop(ENQUEUED, None)
