"""Free/busy for planning a meeting: when members and rooms of the organisation are busy
over a range, without what they are doing (``calendar/service/freebusy.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hexagone.calendar.api.common import errors
from hexagone.calendar.api.models import Text
from hexagone.calendar.service import freebusy
from hexagone.core.api import CurrentPrincipal, session

router = APIRouter(tags=["calendar"])


class BusyOut(BaseModel):
    start: datetime
    end: datetime
    status: str = Field(description="BUSY, or BUSY-TENTATIVE (not answered yet, or tentative).")


class FreeBusyOut(BaseModel):
    address: str
    known: bool = Field(description="False for an address that is not a member or a resource of the organisation.")
    busy: list[BusyOut]


@router.get(
    "/freebusy",
    response_model=list[FreeBusyOut],
    responses=errors(400),
    summary="When members and rooms are busy over a range (guests may not ask)",
)
async def busy_times(
    principal: CurrentPrincipal,
    start: Annotated[datetime, Query(description="Start of the range (with its offset).")],
    end: Annotated[datetime, Query(description="End of the range, excluded; at most a year after start.")],
    address: Annotated[list[Text], Query(description="An address (repeatable, at most 50).")],
) -> list[FreeBusyOut]:
    async with session(principal) as db:
        found = await freebusy.busy_times(db, principal, address, start, end)
    return [
        FreeBusyOut(
            address=who,
            known=spans is not None,
            busy=[BusyOut(start=s.start, end=s.end, status=s.status) for s in spans or []],
        )
        for who, spans in found.items()
    ]
