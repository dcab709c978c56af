"""Calendars: those the caller may read (their own, their spaces', those shared with
them, the rooms'), creating one of their own, and sharing it."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from hexagone.calendar.api.common import errors
from hexagone.calendar.api.models import CalendarIn, CalendarOut, Text
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import agenda, collections
from hexagone.core.api import CurrentPrincipal, session

router = APIRouter(tags=["calendar"])


@router.get("/calendars", response_model=list[CalendarOut], summary="The calendars the caller may read")
async def list_calendars(principal: CurrentPrincipal) -> list[CalendarOut]:
    async with session(principal, write=True) as db:
        found = await agenda.calendars(db, principal)  # a member's own is created on first use
        await db.commit()
    return [CalendarOut.of(c) for c in found]


@router.post(
    "/calendars",
    response_model=CalendarOut,
    status_code=201,
    responses=errors(400, 409),
    summary="Create a calendar of one's own (guests have none)",
)
async def create_calendar(principal: CurrentPrincipal, body: CalendarIn) -> CalendarOut:
    async with session(principal, write=True) as db:
        created = await collections.create(
            db, principal, CollectionKind.CALENDAR, name=body.name, color=body.color, description=body.description
        )
        await db.commit()
    return CalendarOut.of(created)


class ShareOut(BaseModel):
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    label: str = Field(description="The member's address or the group's name.")
    access: str = Field(description="freebusy, read, write or delegate.")


class ShareIn(BaseModel):
    address: Text | None = Field(default=None, max_length=320, description="A member's address (or group_id).")
    group_id: uuid.UUID | None = None
    access: Literal["freebusy", "read", "write", "delegate"] = "read"


SHARES = "/calendars/{calendar_id}/shares"


@router.get(SHARES, response_model=list[ShareOut], summary="Who else reaches one's calendar")
async def list_shares(principal: CurrentPrincipal, calendar_id: uuid.UUID) -> list[ShareOut]:
    async with session(principal) as db:
        found = await collections.shares_of(db, principal, calendar_id)
    return [ShareOut(user_id=s.user_id, group_id=s.group_id, label=s.label, access=s.access) for s in found]


@router.put(SHARES, status_code=204, responses=errors(400), summary="Share one's calendar with a member or a group")
async def put_share(principal: CurrentPrincipal, calendar_id: uuid.UUID, body: ShareIn) -> Response:
    async with session(principal, write=True) as db:
        if body.group_id is not None:
            await collections.share(db, principal, calendar_id, group_id=body.group_id, access=body.access)
        else:
            await collections.share_with_address(db, principal, calendar_id, body.address or "", body.access)
        await db.commit()
    return Response(status_code=204)


@router.delete(SHARES, status_code=204, responses=errors(400), summary="Stop sharing one's calendar with someone")
async def delete_share(
    principal: CurrentPrincipal,
    calendar_id: uuid.UUID,
    user_id: Annotated[uuid.UUID | None, Query()] = None,
    group_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    async with session(principal, write=True) as db:
        await collections.unshare(db, principal, calendar_id, user_id=user_id, group_id=group_id)
        await db.commit()
    return Response(status_code=204)
