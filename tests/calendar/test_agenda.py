"""The agenda over the store: events created from a form's fields become iCalendar the
library reads back, occurrences come expanded in the viewer's zone, one occurrence moves
or goes without its series, answers set the invitee's PARTSTAT, and files go in and out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from hexagone.calendar.service import agenda, calendar_files, collections, objects
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, NotFound, PreconditionFailed
from tests.calendar.factories import event, make_calendar_org
from tests.factories import TestOrg, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
PARIS = ZoneInfo("Europe/Paris")
MARCH = (datetime(2027, 3, 1, tzinfo=PARIS), datetime(2027, 4, 1, tzinfo=PARIS))


async def _me(org: TestOrg | None = None) -> tuple[Principal, uuid.UUID]:
    org = org or await make_calendar_org()
    me = await principal(await make_user(org))
    async with org_session(me.org_id) as db:
        [own] = [c for c in await agenda.calendars(db, me) if c.owner_id == me.user_id]
        await db.commit()
    return me, own.id


def _fields(**changes: object) -> agenda.EventFields:
    values: dict[str, object] = {
        "summary": "Comité de pilotage",
        "start": datetime(2027, 3, 1, 9, 0),
        "end": datetime(2027, 3, 1, 10, 30),
        "timezone": "Europe/Paris",
    }
    values.update(changes)
    return agenda.EventFields(**values)  # type: ignore[arg-type]


async def _create(me: Principal, calendar: uuid.UUID, **changes: object) -> uuid.UUID:
    async with org_session(me.org_id, write=True) as db:
        event_id = await agenda.create(db, me, calendar, _fields(**changes), meeting_url_template="")
        await db.commit()
    return event_id


async def _list(me: Principal, start: datetime = MARCH[0], end: datetime = MARCH[1]) -> list[agenda.Occurrence]:
    async with org_session(me.org_id) as db:
        return await agenda.occurrences(db, me, start, end, PARIS)


async def test_create_weekly_with_attendee_reminder_and_meeting_link_reads_back_as_icalendar() -> None:
    me, calendar = await _me()
    async with org_session(me.org_id, write=True) as db:
        event_id = await agenda.create(
            db,
            me,
            calendar,
            _fields(repeat="weekly", count=3, attendees=("Eve@Partner.test",), reminder_minutes=15, meeting=True),
            meeting_url_template="https://visio.example.org/{id}",
        )
        await db.commit()
        shown = await agenda.event(db, me, calendar, event_id)
        reach = await collections.reach(db, me, calendar)
        [stored] = await objects.listing(db, reach)
        text = (await objects.get(db, reach, stored.name)).data
    vevent: Any = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert vevent["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Paris" and "BEGIN:VTIMEZONE" in text
    assert vevent.walk("VALARM")[0]["TRIGGER"].dt == timedelta(minutes=-15)
    assert shown.meeting_url.startswith("https://visio.example.org/") and len(shown.meeting_url) > 30
    assert shown.fields.attendees == ("eve@partner.test",) and shown.organizer == me.email.lower()
    listed = await _list(me)
    assert [o.start.day for o in listed] == [1, 8, 15]
    assert listed[0].start == datetime(2027, 3, 1, 9, 0, tzinfo=PARIS) and listed[0].recurring


async def test_create_monthly_until_a_day_stops_there() -> None:
    me, calendar = await _me()
    await _create(me, calendar, repeat="monthly", until=date(2027, 3, 15))
    await _create(
        me,
        calendar,
        summary="Congés",
        all_day=True,
        start=date(2027, 3, 3),
        end=date(2027, 3, 3),
        repeat="daily",
        until=date(2027, 3, 4),
    )
    assert [(o.summary, o.start.day) for o in await _list(me)] == [
        ("Comité de pilotage", 1),
        ("Congés", 3),
        ("Congés", 4),
    ]


async def test_occurrences_are_given_in_the_viewers_zone_and_all_day_events_at_its_midnight() -> None:
    me, calendar = await _me()
    await _create(me, calendar, start=datetime(2027, 3, 2, 9), end=datetime(2027, 3, 2, 10), timezone="UTC")
    await _create(me, calendar, summary="Congés", all_day=True, start=date(2027, 3, 3), end=date(2027, 3, 4))
    timed, holiday = await _list(me)
    assert timed.start == datetime(2027, 3, 2, 10, tzinfo=PARIS) and timed.start.tzinfo == PARIS
    assert holiday.all_day and holiday.start == datetime(2027, 3, 3, tzinfo=PARIS)
    assert holiday.end == datetime(2027, 3, 5, tzinfo=PARIS)


async def test_move_one_occurrence_writes_an_override_and_leaves_the_series() -> None:
    me, calendar = await _me()
    event_id = await _create(me, calendar, repeat="daily", count=3)
    second = (await _list(me))[1]
    async with org_session(me.org_id, write=True) as db:
        await agenda.move(
            db,
            me,
            calendar,
            event_id,
            start=second.start + timedelta(hours=5),
            end=second.end + timedelta(hours=6),
            recurrence_id=second.recurrence_id,
        )
        await db.commit()
    starts = [(o.start.day, o.start.hour, o.end.hour) for o in await _list(me)]
    assert starts == [(1, 9, 10), (2, 14, 16), (3, 9, 10)]


async def test_move_the_series_shifts_every_occurrence() -> None:
    me, calendar = await _me()
    event_id = await _create(me, calendar, repeat="daily", count=2)
    first = (await _list(me))[0]
    async with org_session(me.org_id, write=True) as db:
        await agenda.move(
            db, me, calendar, event_id, start=first.start + timedelta(hours=1), end=first.end + timedelta(hours=1)
        )
        await db.commit()
    assert [(o.start.day, o.start.hour) for o in await _list(me)] == [(1, 10), (2, 10)]


async def test_delete_one_occurrence_adds_an_exdate_and_the_rest_stays() -> None:
    me, calendar = await _me()
    event_id = await _create(me, calendar, repeat="daily", count=3)
    second = (await _list(me))[1]
    async with org_session(me.org_id, write=True) as db:
        await agenda.delete(db, me, calendar, event_id, recurrence_id=second.recurrence_id)
        await db.commit()
        with pytest.raises(Invalid):
            await agenda.delete(db, me, calendar, event_id, recurrence_id="20990101T000000Z")
        for nonsense in ("00010101T000000Z", "yesterday", "20270301T250000"):
            with pytest.raises(Invalid):
                await agenda.delete(db, me, calendar, event_id, recurrence_id=nonsense)
    assert [o.start.day for o in await _list(me)] == [1, 3]
    async with org_session(me.org_id, write=True) as db:
        await agenda.delete(db, me, calendar, event_id)
        await db.commit()
    assert await _list(me) == []


async def test_update_with_a_stale_etag_is_refused_and_keeps_the_other_change() -> None:
    me, calendar = await _me()
    event_id = await _create(me, calendar)
    async with org_session(me.org_id, write=True) as db:
        seen = await agenda.event(db, me, calendar, event_id)
        await agenda.update(db, me, calendar, event_id, _fields(summary="Changé ailleurs"), etag=seen.etag)
        await db.commit()
        with pytest.raises(PreconditionFailed):
            await agenda.update(db, me, calendar, event_id, _fields(summary="Trop tard"), etag=seen.etag)
    assert [o.summary for o in await _list(me)] == ["Changé ailleurs"]


async def test_reply_sets_my_partstat_and_refuses_an_event_i_am_not_invited_to() -> None:
    org = await make_calendar_org()
    me, calendar = await _me(org)
    invited = await _create(me, calendar, attendees=(me.email, "other@partner.test"))
    mine_only = await _create(me, calendar, summary="Seul")
    async with org_session(me.org_id, write=True) as db:
        await agenda.reply(db, me, calendar, invited, "tentative")
        with pytest.raises(Invalid):
            await agenda.reply(db, me, calendar, mine_only, "accepted")
        with pytest.raises(Invalid):
            await agenda.reply(db, me, calendar, invited, "maybe")
        await db.commit()
    by_summary = {o.summary: o for o in await _list(me)}
    assert by_summary["Comité de pilotage"].my_partstat == "TENTATIVE"
    others = [a.partstat for a in by_summary["Comité de pilotage"].attendees if a.email == "other@partner.test"]
    assert others == ["NEEDS-ACTION"]


async def test_bad_fields_are_refused_with_a_message() -> None:
    me, calendar = await _me()
    for bad in (
        _fields(summary="  "),
        _fields(end=datetime(2027, 3, 1, 8)),
        _fields(timezone="Mars/Olympus"),
        _fields(attendees=("not-an-address",)),
        _fields(repeat="hourly"),
        _fields(repeat="daily", count=100_000),
        _fields(repeat="monthly", until=date(2027, 2, 1)),
        _fields(repeat="monthly", until=date(3519, 3, 22)),
        _fields(start=datetime(1, 1, 1), end=datetime(1, 1, 1, 1)),
    ):
        async with org_session(me.org_id, write=True) as db:
            with pytest.raises(Invalid) as refused:
                await agenda.create(db, me, calendar, bad, meeting_url_template="")
            assert refused.value.message


async def test_other_organisation_and_colleague_without_share_find_nothing() -> None:
    me, calendar = await _me()
    event_id = await _create(me, calendar)
    colleague = await principal(await make_user(await _org_of(me)))
    stranger, _their = await _me()
    for who in (colleague, stranger):
        async with org_session(who.org_id) as db:
            with pytest.raises(NotFound):
                await agenda.event(db, who, calendar, event_id)
        assert await _list(who) == []


async def _org_of(me: Principal) -> TestOrg:
    return TestOrg(id=me.org_id, name="", domain=me.email.split("@")[1])


async def test_import_then_export_round_trips_each_uid_as_one_resource() -> None:
    me, calendar = await _me()
    source = icalendar.Calendar()
    source.add("prodid", "-//Elsewhere//EN")
    source.add("version", "2.0")
    for text in (
        event(uid="a@elsewhere", summary="Un"),
        event(uid="b@elsewhere", summary="Deux", rrule={"freq": "daily", "count": 2}),
    ):
        for component in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            source.add_component(component)
    broken = icalendar.Event()
    broken.add("uid", "c@elsewhere")  # no DTSTART: the store refuses it, the others stay
    source.add_component(broken)
    async with org_session(me.org_id, write=True) as db:
        first = await calendar_files.import_ics(db, me, calendar, source.to_ical())
        again = await calendar_files.import_ics(db, me, calendar, source.to_ical())
        await db.commit()
        name, text = await calendar_files.export_ics(db, me, calendar)
        with pytest.raises(Invalid):
            await calendar_files.import_ics(db, me, calendar, b"not a calendar")
    assert (first.created, first.updated, again.created, again.updated) == (2, 0, 0, 2)
    assert [r.split(":")[0] for r in first.refused] == ["c@elsewhere"]
    exported = icalendar.Calendar.from_ical(text)
    assert name.endswith(".ics")
    assert {str(c["UID"]) for c in exported.walk("VEVENT")} >= {"a@elsewhere", "b@elsewhere"}
    assert sorted(o.summary for o in await _list(me, datetime(2027, 2, 28, tzinfo=UTC))) == ["Deux", "Deux", "Un"]


def test_meeting_link_needs_a_template_with_its_id_and_differs_each_time() -> None:
    assert agenda.meeting_link("") == "" and agenda.meeting_link("https://visio.example.org/") == ""
    first, second = (agenda.meeting_link("https://visio.example.org/{id}") for _ in range(2))
    assert first.startswith("https://visio.example.org/") and first != second
