"""Domain events: a service says what happened, in its transaction; the bus hears it
after the commit, and the modules that react do so through durable jobs.

``events.on_commit(db, "identity.user_created", {"user_id": …})`` does two things:

- it keeps the event on the session and publishes it on the bus once the transaction
  commits (like Zulip's ``send_event_on_commit``). A rolled-back transaction, or a
  rolled-back savepoint, publishes nothing; live subscribers never hear of a change that
  did not happen. Publishing is best effort: if the bus is down the live event is lost.
- it enqueues, in the same transaction, the jobs that run the modules' handlers for that
  event (``Module.event_handlers``, keyed by channel or pattern), one job per handler,
  of kind ``event:<module>.<function>``: each reaction is durable, runs once per event in
  one process (not once per subscribed process) that has that handler, and is retried on
  its own if it fails. Handlers must be idempotent (jobs run at least once).

The composition root calls :func:`install_handlers` with the registry. A process that
did not (a CLI command, a test process) cannot know which handlers exist: it enqueues one
``core.event`` job instead, which a worker that knows fans out into handler jobs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from hexagone.core import jobs
from hexagone.core.db import system_session
from hexagone.core.encoding import encode
from hexagone.core.modules import EventHandler, Registry
from hexagone.core.pubsub import check_channel, check_pattern, get_bus, pattern_matcher

log = logging.getLogger("hexagone.events")

PENDING = "hexagone.events.pending"
FAN_OUT_JOB = "core.event"
HANDLER_JOB_PREFIX = "event:"


@dataclass(frozen=True)
class _Pending:
    channel: str
    payload: dict[str, Any]
    savepoint: SessionTransaction | None  # the innermost savepoint open when it was registered


@dataclass(frozen=True)
class _Subscriber:
    matches: Callable[[str], bool]
    job_kind: str


_subscribers: list[_Subscriber] | None = None  # None: this process does not know the handlers


def handler_job_kind(run: EventHandler) -> str:
    """The job kind of one handler: a worker claims only the handlers it can run."""
    kind = f"{HANDLER_JOB_PREFIX}{run.__module__}.{run.__qualname__}"
    if len(kind) > 100:
        raise ValueError(f"event handler name too long for a job kind: {kind}")
    return kind


@functools.cache
def _job_runner(run: EventHandler) -> jobs.JobHandler:
    async def run_handler(job: jobs.Claimed) -> None:
        await run(job.payload["payload"])

    return run_handler


def install_handlers(registry: Registry) -> None:
    """Make this process enqueue the handler jobs itself, and its worker able to run them
    (and the fan-out of events committed by processes that could not)."""
    global _subscribers
    jobs.register(FAN_OUT_JOB, fan_out)
    subscribers = []
    for module in registry:
        for pattern, runs in module.event_handlers.items():
            for run in runs:
                kind = handler_job_kind(run)
                jobs.register(kind, _job_runner(run))
                subscribers.append(_Subscriber(pattern_matcher(check_pattern(pattern)), kind))
    _subscribers = subscribers


def publish_on_commit(db: AsyncSession, channel: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Only publish ``payload`` on ``channel`` when ``db``'s transaction commits: for live
    changes that no handler reacts to (a new message for open IMAP IDLE sessions), where
    a job per change would be pure cost."""
    payload = json.loads(encode(payload))
    session = db.sync_session
    session.info.setdefault(PENDING, []).append(
        _Pending(check_channel(channel), payload, session.get_nested_transaction())
    )
    return payload


def on_commit(db: AsyncSession, channel: str, payload: dict[str, Any]) -> None:
    """Publish ``payload`` on ``channel`` when ``db``'s transaction commits, and have the
    modules' handlers for it run as jobs committed with it."""
    payload = publish_on_commit(db, channel, payload)
    org_id = db.sync_session.info.get("org_id")
    if _subscribers is None:
        jobs.enqueue(db, FAN_OUT_JOB, {"channel": channel, "payload": payload}, org_id=org_id)
    else:
        _enqueue_handler_jobs(db, channel, payload, org_id, _subscribers)


def _enqueue_handler_jobs(
    db: AsyncSession,
    channel: str,
    payload: dict[str, Any],
    org_id: uuid.UUID | None,
    subscribers: Sequence[_Subscriber],
) -> None:
    for subscriber in subscribers:
        if subscriber.matches(channel):
            jobs.enqueue(db, subscriber.job_kind, {"channel": channel, "payload": payload}, org_id=org_id)


async def fan_out(job: jobs.Claimed) -> None:
    """Turn an event committed by a process that did not know the handlers into their jobs."""
    assert _subscribers is not None, "registered by install_handlers, which sets them"
    async with system_session() as db:
        _enqueue_handler_jobs(db, job.payload["channel"], job.payload["payload"], job.org_id, _subscribers)
        await db.commit()


# Publication after commit. SQLAlchemy also fires after_commit when a savepoint is
# released, hence the nested check; events registered inside a savepoint that is rolled
# back are dropped when it is.

_publishing: set[asyncio.Task[None]] = set()
_last: asyncio.Task[None] | None = None


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending: list[_Pending] = session.info.pop(PENDING, [])
    if pending:
        _schedule([(p.channel, p.payload) for p in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_savepoint(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(PENDING)
    if pending and previous.nested:
        session.info[PENDING] = [p for p in pending if not _inside(p.savepoint, previous)]


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


def _schedule(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Publish in a task (commit hooks cannot await), in commit order: each batch waits
    for the previous one."""
    global _last
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        log.warning("events committed outside an event loop were not published: %s", [c for c, _ in events])
        return
    task = loop.create_task(_publish(events, _last if _last is not None and _last.get_loop() is loop else None))
    _publishing.add(task)
    task.add_done_callback(_publishing.discard)
    _last = task


async def _publish(events: Sequence[tuple[str, dict[str, Any]]], previous: asyncio.Task[None] | None) -> None:
    if previous is not None:
        await asyncio.wait([previous])
    bus = get_bus()
    for channel, payload in events:
        try:
            await bus.publish(channel, payload)
        except Exception:  # live delivery is best effort; the handler jobs are committed
            log.exception("could not publish %s", channel)


async def flush() -> None:
    """Wait until the events committed so far are published (shutdown, tests)."""
    while _publishing:
        await asyncio.wait(list(_publishing))
