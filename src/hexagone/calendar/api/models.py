"""The calendar API's request and response bodies: the OpenAPI document's schemas."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, model_validator

from hexagone.calendar.service import agenda
from hexagone.calendar.service.collections import CollectionInfo
from hexagone.core.api import Text, whole


def _moment(value: object) -> object:
    """``YYYY-MM-DD`` is a date, anything longer a date-time: a union alone would read a
    date as midnight."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("a date (YYYY-MM-DD) or a date-time (ISO 8601)") from None
    if not isinstance(value, date):
        raise ValueError("a date (YYYY-MM-DD) or a date-time (ISO 8601)")
    return value


Moment = Annotated[datetime | date, BeforeValidator(_moment)]


Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#3465a4"])]


class CalendarOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    color: str
    timezone: str
    purpose: str = Field(description="personal, space, resource (a room or equipment) or directory.")
    owner_id: uuid.UUID | None
    space_id: uuid.UUID | None
    access: str = Field(description="What the caller may do: freebusy, read, write or delegate (their own).")
    can_write: bool = Field(description="Events may be created and changed in it.")

    @classmethod
    def of(cls, info: CollectionInfo) -> CalendarOut:
        return cls(
            id=info.id,
            name=info.name,
            description=info.description,
            color=info.color,
            timezone=info.timezone,
            purpose=info.purpose,
            owner_id=info.owner_id,
            space_id=info.space_id,
            access=info.access,
            can_write=info.abilities.get("write", False),
        )


class CalendarIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    color: Color = "#3465a4"
    description: Text = Field(default="", max_length=2000)


class AttendeeOut(BaseModel):
    email: str
    name: str
    partstat: str = Field(description="NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE or DELEGATED.")


class OccurrenceOut(BaseModel):
    calendar_id: uuid.UUID
    event_id: uuid.UUID
    uid: str
    recurrence_id: str = Field(description="The occurrence's original start (iCalendar, UTC); '' when not repeating.")
    summary: str
    location: str
    description: str
    start: datetime = Field(description="In the caller's time zone (their calendar's), or the one asked for.")
    end: datetime
    all_day: bool
    recurring: bool
    color: str
    organizer: str
    attendees: list[AttendeeOut]
    my_partstat: str = Field(description="The caller's answer when invited, '' otherwise.")
    meeting_url: str
    etag: str
    can_write: bool

    @classmethod
    def of(cls, o: agenda.Occurrence) -> OccurrenceOut:
        return cls(
            calendar_id=o.calendar_id,
            event_id=o.event_id,
            uid=o.uid,
            recurrence_id=o.recurrence_id,
            summary=o.summary,
            location=o.location,
            description=o.description,
            start=o.start,
            end=o.end,
            all_day=o.all_day,
            recurring=o.recurring,
            color=o.color,
            organizer=o.organizer,
            attendees=[AttendeeOut(email=a.email, name=a.name, partstat=a.partstat) for a in o.attendees],
            my_partstat=o.my_partstat,
            meeting_url=o.meeting_url,
            etag=o.etag,
            can_write=o.writable,
        )


Repeat = Literal["", "daily", "weekly", "monthly", "yearly"]


class EventIn(BaseModel):
    """An event's fields. Timed: ``start`` and ``end`` are date-times (with an offset, or
    local to ``timezone``). All-day: dates, ``end`` the last day (included)."""

    summary: Text = Field(min_length=1, max_length=500)
    start: Moment
    end: Moment
    all_day: StrictBool = False
    timezone: Text = Field(default="", max_length=64, description="The event's zone; default: the calendar's.")
    location: Text = Field(default="", max_length=500)
    description: Text = Field(default="", max_length=10_000)
    repeat: Repeat = ""
    until: date | None = None
    count: whole(1, agenda.MAX_COUNT) | None = None  # type: ignore[valid-type]
    # E-mail addresses, checked by the service (400 with the address at fault)
    attendees: list[Annotated[Text, Field(max_length=320)]] = Field(default=[], max_length=agenda.MAX_ATTENDEES)
    reminder_minutes: whole(0, 40320) | None = None  # type: ignore[valid-type]
    meeting: StrictBool = Field(
        default=False, description="Add a link to a new room of the organisation's video service."
    )

    @model_validator(mode="after")
    def _kinds(self) -> EventIn:
        """A date for the start or the end makes the event an all-day one (a date-time
        given beside it counts for its day)."""
        if not (isinstance(self.start, datetime) and isinstance(self.end, datetime)):
            self.all_day = True
        if self.all_day:
            self.start = self.start.date() if isinstance(self.start, datetime) else self.start
            self.end = self.end.date() if isinstance(self.end, datetime) else self.end
        return self

    def fields(self) -> agenda.EventFields:
        return agenda.EventFields(
            summary=self.summary,
            start=self.start,
            end=self.end,
            all_day=self.all_day,
            timezone=self.timezone,
            location=self.location,
            description=self.description,
            repeat=self.repeat,
            until=self.until,
            count=self.count,
            attendees=tuple(self.attendees),
            reminder_minutes=self.reminder_minutes,
            meeting=self.meeting,
        )


class EventOut(BaseModel):
    calendar_id: uuid.UUID
    event_id: uuid.UUID
    uid: str
    etag: str
    summary: str
    start: datetime | date
    end: datetime | date = Field(description="For an all-day event, the last day (included).")
    all_day: bool
    timezone: str
    location: str
    description: str
    repeat: str
    until: date | None
    count: int | None
    reminder_minutes: int | None
    organizer: str
    attendees: list[AttendeeOut]
    meeting_url: str
    can_write: bool

    @classmethod
    def of(cls, e: agenda.Event) -> EventOut:
        f = e.fields
        return cls(
            calendar_id=e.calendar_id,
            event_id=e.event_id,
            uid=e.uid,
            etag=e.etag,
            summary=f.summary,
            start=f.start,
            end=f.end,
            all_day=f.all_day,
            timezone=f.timezone,
            location=f.location,
            description=f.description,
            repeat=f.repeat,
            until=f.until,
            count=f.count,
            reminder_minutes=f.reminder_minutes,
            organizer=e.organizer,
            attendees=[AttendeeOut(email=a.email, name=a.name, partstat=a.partstat) for a in e.attendees],
            meeting_url=e.meeting_url,
            can_write=e.writable,
        )


class MoveIn(BaseModel):
    """Where an event (or one occurrence of it) goes: date-times (without an offset, in
    the caller's zone), or dates for an all-day event (``end`` excluded)."""

    start: Moment
    end: Moment
    recurrence_id: Text = Field(default="", max_length=40, description="Only this occurrence; '' for the whole series.")

    @model_validator(mode="after")
    def _same_kind(self) -> MoveIn:
        """A date beside a date-time: both are read as dates."""
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            self.start = self.start.date() if isinstance(self.start, datetime) else self.start
            self.end = self.end.date() if isinstance(self.end, datetime) else self.end
        return self


class ReplyIn(BaseModel):
    partstat: Literal["accepted", "declined", "tentative"]
