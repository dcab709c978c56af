"""Events: the occurrences of a range (recurrences expanded), one event's fields, and
creating, changing, moving, deleting and answering one. A change may carry the ETag the
caller read (``If-Match``): if the event changed since, the answer is 412 and nothing is
overwritten."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from hexagone.calendar.api.common import errors
from hexagone.calendar.api.models import EventIn, EventOut, MoveIn, OccurrenceOut, ReplyIn
from hexagone.calendar.service import agenda
from hexagone.core.api import CurrentPrincipal, session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

router = APIRouter(tags=["calendar"])
IfMatch = Annotated[
    str | None, Header(max_length=100, description="The ETag the caller read; 412 if the event changed since.")
]
EVENT = "/calendars/{calendar_id}/events/{event_id}"


def _etag(value: str | None) -> str | None:
    return value.strip().strip('"') if value else None


@router.get(
    "/events",
    response_model=list[OccurrenceOut],
    responses=errors(400),
    summary="The occurrences of a range, recurrences expanded, from every calendar shown or those named",
)
async def list_events(
    principal: CurrentPrincipal,
    start: Annotated[datetime, Query(description="Start of the range (with its offset).")],
    end: Annotated[datetime, Query(description="End of the range, excluded; at most 400 days after start.")],
    calendar: Annotated[list[uuid.UUID] | None, Query(description="Only these calendars (repeatable).")] = None,
    timezone: Annotated[str, Query(max_length=64, description="Times in this zone; default the caller's.")] = "",
) -> list[OccurrenceOut]:
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid(_("Give the range with a time zone."))
    async with session(principal) as db:
        viewer = agenda.zone(timezone) if timezone else await agenda.viewer_zone(db, principal)
        found = await agenda.occurrences(db, principal, start, end, viewer, calendar)
    return [OccurrenceOut.of(o) for o in found]


@router.get(EVENT, response_model=EventOut, summary="One event's fields (its first occurrence, its repetition)")
async def get_event(principal: CurrentPrincipal, calendar_id: uuid.UUID, event_id: uuid.UUID) -> EventOut:
    async with session(principal) as db:
        return EventOut.of(await agenda.event(db, principal, calendar_id, event_id))


@router.post(
    "/calendars/{calendar_id}/events",
    response_model=EventOut,
    status_code=201,
    responses=errors(400, 403),
    summary="Create an event",
)
async def create_event(principal: CurrentPrincipal, calendar_id: uuid.UUID, body: EventIn) -> EventOut:
    async with session(principal, write=True) as db:
        event_id = await agenda.create(db, principal, calendar_id, body.fields())
        await db.commit()
        return EventOut.of(await agenda.event(db, principal, calendar_id, event_id))


@router.put(EVENT, response_model=EventOut, responses=errors(400, 403, 412), summary="Change an event (its series)")
async def update_event(
    principal: CurrentPrincipal, calendar_id: uuid.UUID, event_id: uuid.UUID, body: EventIn, if_match: IfMatch = None
) -> EventOut:
    async with session(principal, write=True) as db:
        await agenda.update(db, principal, calendar_id, event_id, body.fields(), etag=_etag(if_match))
        await db.commit()
        return EventOut.of(await agenda.event(db, principal, calendar_id, event_id))


@router.post(
    EVENT + "/move",
    response_model=EventOut,
    responses=errors(400, 403, 412),
    summary="Move or resize an event, its whole series or one occurrence",
)
async def move_event(
    principal: CurrentPrincipal, calendar_id: uuid.UUID, event_id: uuid.UUID, body: MoveIn, if_match: IfMatch = None
) -> EventOut:
    start, end = body.start, body.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        async with session(principal) as db:
            zone = await agenda.viewer_zone(db, principal)
        start, end = (v if v.tzinfo else v.replace(tzinfo=zone) for v in (start, end))
    async with session(principal, write=True) as db:
        await agenda.move(
            db,
            principal,
            calendar_id,
            event_id,
            start=start,
            end=end,
            recurrence_id=body.recurrence_id,
            etag=_etag(if_match),
        )
        await db.commit()
        return EventOut.of(await agenda.event(db, principal, calendar_id, event_id))


@router.delete(
    EVENT,
    status_code=204,
    responses=errors(400, 403, 412),
    summary="Delete an event (its series), or one occurrence with recurrence_id",
)
async def delete_event(
    principal: CurrentPrincipal,
    calendar_id: uuid.UUID,
    event_id: uuid.UUID,
    recurrence_id: Annotated[str, Query(max_length=40, description="Only this occurrence.")] = "",
    if_match: IfMatch = None,
) -> Response:
    async with session(principal, write=True) as db:
        await agenda.delete(db, principal, calendar_id, event_id, recurrence_id=recurrence_id, etag=_etag(if_match))
        await db.commit()
    return Response(status_code=204)


@router.post(
    EVENT + "/reply",
    response_model=EventOut,
    responses=errors(400, 403, 412),
    summary="Answer an invitation: set the caller's PARTSTAT in their copy of the event",
)
async def reply_event(
    principal: CurrentPrincipal, calendar_id: uuid.UUID, event_id: uuid.UUID, body: ReplyIn, if_match: IfMatch = None
) -> EventOut:
    async with session(principal, write=True) as db:
        await agenda.reply(db, principal, calendar_id, event_id, body.partstat, etag=_etag(if_match))
        await db.commit()
        return EventOut.of(await agenda.event(db, principal, calendar_id, event_id))
