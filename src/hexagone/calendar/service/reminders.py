"""Reminders (VALARM, RFC 5545 3.6.6): the notification centre tells the calendar's
owner when an alarm of their event goes off, and an e-mail goes too when the alarm asks
for one (``ACTION:EMAIL``).

Nothing is computed while a client waits: a write of an event that has alarms enqueues
a planning job, which finds the next alarm (``recurring-ical-events`` expands the
recurrence and the triggers) and enqueues the reminder itself for that moment. Each job
carries the ETag it was planned for: once the event changes or goes, the old jobs find
another ETag and stop, and the write that changed it planned afresh. A reminder plans the
next one after it, so a repeating event reminds at every occurrence with one job waiting.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import recurring_ical_events
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, DavObject, Purpose
from hexagone.core import i18n, jobs, notifications, outbox
from hexagone.core.db import org_session, utcnow
from hexagone.core.i18n import _
from hexagone.identity.service import person

PLAN_JOB = "calendar.reminders.plan"
REMIND_JOB = "calendar.reminders.remind"
LOOK_AHEAD = timedelta(days=400)  # an alarm further away is planned by the reminder before it


def plan(db: AsyncSession, collection: Collection, obj: DavObject | Any, data: str) -> None:
    """After a write: have the next alarm of this resource planned, if it has any and
    someone owns the calendar to be reminded. In the writer's transaction."""
    if "BEGIN:VALARM" not in data or collection.purpose != Purpose.PERSONAL or collection.owner_id is None:
        return
    jobs.enqueue(db, PLAN_JOB, {"object_id": obj.id, "etag": obj.etag, "after": utcnow()}, org_id=collection.org_id)


def next_alarm(data: str, after: datetime) -> tuple[datetime, Any, Any] | None:
    """The first alarm that goes off after ``after`` within :data:`LOOK_AHEAD`: when, the
    occurrence (with its start) and the alarm (its ACTION). Looked for in widening
    windows, so that a daily event's next alarm costs a day's expansion, not a year's."""
    calendar = ical.parse(data)
    query = recurring_ical_events.of(calendar, components=["VALARM"])
    for window in (timedelta(days=2), timedelta(days=40), LOOK_AHEAD):
        found = [
            (alarm["TRIGGER"].dt, occurrence, alarm)
            for occurrence in query.between(after, after + window)
            for alarm in occurrence.walk("VALARM")
            if isinstance(getattr(alarm.get("TRIGGER"), "dt", None), datetime)
            and alarm["TRIGGER"].dt.tzinfo is not None
            and alarm["TRIGGER"].dt > after
        ]
        if found:
            return min(found, key=lambda candidate: candidate[0])
    return None


async def _current(org_id: uuid.UUID, payload: dict[str, Any]) -> tuple[Collection, DavObject] | None:
    """The resource and its calendar if it is still as planned (same ETag)."""
    async with org_session(org_id) as db:
        obj = await db.get(DavObject, uuid.UUID(str(payload["object_id"])))
        if obj is None or obj.etag != payload["etag"]:
            return None
        collection = await db.get(Collection, obj.collection_id)
        return None if collection is None else (collection, obj)


async def plan_job(job: jobs.Claimed) -> None:
    assert job.org_id is not None
    found = await _current(job.org_id, job.payload)
    if found is None:
        return
    _collection, obj = found
    after = datetime.fromisoformat(str(job.payload["after"]))
    # From the write: one due while this job waited still goes, late. In a thread: parsing
    # and expanding take milliseconds the requests served beside this job need too.
    alarm = await asyncio.to_thread(next_alarm, obj.data, after)
    if alarm is None:
        return
    when, occurrence, _action = alarm
    async with org_session(job.org_id) as db:
        payload = {"object_id": obj.id, "etag": obj.etag, "at": when, "starts": occurrence.start}
        jobs.enqueue(db, REMIND_JOB, payload, org_id=job.org_id, run_at=when)
        await db.commit()


async def remind_job(job: jobs.Claimed) -> None:
    assert job.org_id is not None
    found = await _current(job.org_id, job.payload)
    if found is None:
        return
    collection, obj = found
    at = datetime.fromisoformat(str(job.payload["at"]))
    alarm = await asyncio.to_thread(next_alarm, obj.data, at - timedelta(seconds=1))
    async with org_session(job.org_id) as db:
        owner = await person(db, collection.owner_id) if collection.owner_id else None
        if owner is not None and owner.is_active:
            i18n.set_language(owner.locale or "fr")
            title = _("Reminder: {summary}").format(summary=obj.title or _("(no title)"))
            starts = str(job.payload["starts"])
            body = _("Starts at {start}").format(start=starts)
            notifications.post(
                db, org_id=owner.org_id, user_id=owner.id, module="calendar", title=title, body=body, link="/calendar/"
            )
            if alarm is not None and str(alarm[2].get("ACTION", "")).upper() == "EMAIL":
                outbox.enqueue(
                    db, org_id=owner.org_id, recipient=owner.email, subject=title, body=body, kind="calendar_reminder"
                )
        jobs.enqueue(db, PLAN_JOB, {"object_id": obj.id, "etag": obj.etag, "after": at}, org_id=job.org_id)
        await db.commit()


PLAN = jobs.JobSpec(PLAN_JOB, plan_job)
REMIND = jobs.JobSpec(REMIND_JOB, remind_job)
