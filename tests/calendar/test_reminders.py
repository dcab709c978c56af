"""Reminders: an alarm of an event goes off as a notification of the calendar's owner
(and an e-mail when the alarm asks for one), at every occurrence of a repeating event,
and not at all once the event is deleted or moved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hexagone.calendar.service import reminders
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session
from hexagone.core.models import Notification, OutboxMessage
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.conftest import Server
from tests.factories import make_user, principal
from tests.mail.smtp.helpers import eventually

pytestmark = pytest.mark.usefixtures("migrated")


async def _reminders(who: Principal) -> list[str]:
    async with org_session(who.org_id) as db:
        query = select(Notification.title).where(Notification.user_id == who.user_id, Notification.module == "calendar")
        return list((await db.execute(query)).scalars())


async def _mailed(address: str) -> list[str]:
    async with system_session() as db:
        query = select(OutboxMessage.subject).where(
            OutboxMessage.recipient == address, OutboxMessage.kind == "calendar_reminder"
        )
        return list((await db.execute(query)).scalars())


def _starting_in(seconds: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


async def test_reminder_of_an_event_arrives_as_a_notification_when_its_alarm_goes_off(server: Server) -> None:
    me = await principal(await make_user(await make_calendar_org()))
    await write_event(me, "soon.ics", event(summary="Point hebdo", start=_starting_in(62), alarm=timedelta(minutes=-1)))
    assert await eventually(lambda: _reminders(me), timeout=20) == ["Rappel : Point hebdo"]


async def test_reminder_asking_for_an_email_also_sends_one(server: Server) -> None:
    user = await make_user(await make_calendar_org())
    me = await principal(user)
    text = event(summary="Dentiste", start=_starting_in(61), alarm=timedelta(minutes=-1), alarm_action="EMAIL")
    await write_event(me, "mail.ics", text)
    assert await eventually(lambda: _mailed(user.email), timeout=20) == ["Rappel : Dentiste"]


async def test_reminder_of_a_deleted_event_never_arrives(server: Server) -> None:
    me = await principal(await make_user(await make_calendar_org()))
    await write_event(me, "gone.ics", event(summary="Annulé", start=_starting_in(63), alarm=timedelta(minutes=-1)))
    await write_event(me, "gone.ics", None)
    await write_event(me, "later.ics", event(summary="Témoin", start=_starting_in(64), alarm=timedelta(minutes=-1)))
    assert await eventually(lambda: _reminders(me), timeout=20) == ["Rappel : Témoin"]


def test_next_alarm_of_a_daily_event_is_the_next_days_one() -> None:
    text = event(start=datetime(2027, 1, 1, 9, tzinfo=UTC), rrule={"FREQ": "DAILY"}, alarm=timedelta(minutes=-15))
    found = reminders.next_alarm(text, datetime(2027, 3, 1, 8, 50, tzinfo=UTC))
    assert found is not None and found[0] == datetime(2027, 3, 2, 8, 45, tzinfo=UTC)


def test_next_alarm_of_a_past_event_is_none() -> None:
    text = event(uid=str(uuid.uuid4()), start=datetime(2020, 1, 1, 9, tzinfo=UTC), alarm=timedelta(minutes=-15))
    assert reminders.next_alarm(text, datetime(2027, 3, 1, tzinfo=UTC)) is None
