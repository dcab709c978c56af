"""Events for the agenda's tests, made through the agenda service as the pages and the
API make them: a member's own calendar, and an event in it from a form's fields."""

from __future__ import annotations

import uuid
from datetime import datetime

from hexagone.calendar.service import agenda
from hexagone.core.db import org_session
from tests.factories import TestUser, principal


async def own_calendar(user: TestUser) -> uuid.UUID:
    """The member's own calendar, created on first use as the pages do."""
    me = await principal(user)
    async with org_session(me.org_id, write=True) as db:
        [own] = [c for c in await agenda.calendars(db, me) if c.owner_id == me.user_id]
        await db.commit()
    return own.id


async def add_event(user: TestUser, calendar: uuid.UUID, **changes: object) -> uuid.UUID:
    """An event in ``calendar``: « Comité » on 2 March 2027, 09:00-10:00 Paris time, unless
    ``changes`` say otherwise (any field of :class:`agenda.EventFields`)."""
    me = await principal(user)
    values: dict[str, object] = {
        "summary": "Comité",
        "start": datetime(2027, 3, 2, 9),
        "end": datetime(2027, 3, 2, 10),
        "timezone": "Europe/Paris",
    }
    values.update(changes)
    fields = agenda.EventFields(**values)  # type: ignore[arg-type]
    async with org_session(me.org_id, write=True) as db:
        event_id = await agenda.create(db, me, calendar, fields, meeting_url_template="")
        await db.commit()
    return event_id
