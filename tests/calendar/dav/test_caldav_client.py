"""The ``caldav`` Python library (a client nobody here wrote) against the server: it
discovers the calendars from the server's root, creates one, writes and reads events
and tasks, syncs with tokens, searches with expansion and asks for free/busy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import caldav
import icalendar

from tests.calendar.factories import event
from tests.conftest import Server
from tests.factories import TestOrg, make_user

MARCH = datetime(2027, 3, 1, tzinfo=UTC)


def _todo(uid: str, summary: str) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//FR")
    calendar.add("version", "2.0")
    todo = icalendar.Todo()
    todo.add("uid", uid)
    todo.add("dtstamp", MARCH)
    todo.add("summary", summary)
    todo.add("due", MARCH + timedelta(days=2))
    calendar.add_component(todo)
    return calendar.to_ical().decode()


async def _client(server: Server, org: TestOrg) -> caldav.DAVClient:
    user = await make_user(org)
    return caldav.DAVClient(url=server.base_url + "/", username=user.email, password=user.password)


async def test_caldav_discovery_from_the_server_root_finds_the_default_calendar(server: Server, org: TestOrg) -> None:
    with await _client(server, org) as client:
        principal = client.principal()
        names = [c.get_display_name() for c in principal.calendars()]
    assert names == ["Agenda"]


async def test_caldav_create_calendar_then_crud_of_events_and_todos(server: Server, org: TestOrg) -> None:
    with await _client(server, org) as client:
        principal = client.principal()
        work = principal.make_calendar(name="Travail", cal_id="travail")
        assert "Travail" in [c.get_display_name() for c in principal.calendars()]
        meeting = work.add_event(event(uid="meeting@tests", summary="Comité"))
        work.add_todo(_todo("todo@tests", "Relire"))
        fetched = work.event_by_uid("meeting@tests")
        assert str(fetched.icalendar_component["SUMMARY"]) == "Comité"
        fetched.icalendar_component["SUMMARY"] = "Comité de pilotage"
        fetched.save()
        assert str(work.event_by_uid("meeting@tests").icalendar_component["SUMMARY"]) == "Comité de pilotage"
        assert [str(t.icalendar_component["SUMMARY"]) for t in work.todos()] == ["Relire"]
        meeting.delete()
        assert [e.icalendar_component["UID"] for e in work.events()] == []
        work.delete()
        assert "Travail" not in [c.get_display_name() for c in principal.calendars()]


async def test_caldav_sync_tokens_report_only_what_changed(server: Server, org: TestOrg) -> None:
    with await _client(server, org) as client:
        calendar = client.principal().calendars()[0]
        first = calendar.add_event(event(uid="one@tests"))
        calendar.add_event(event(uid="two@tests"))
        initial = calendar.objects_by_sync_token(load_objects=False)
        assert len(list(initial)) == 2
        calendar.add_event(event(uid="three@tests"))
        first.delete()
        later = calendar.objects_by_sync_token(sync_token=initial.sync_token, load_objects=False)
        # the new one, and the deleted one (reported gone); not the untouched one
        assert sorted(str(o.url).rsplit("/", 1)[1] for o in later) == ["one%40tests.ics", "three%40tests.ics"]
        assert later.sync_token != initial.sync_token


async def test_caldav_search_with_expand_returns_each_occurrence(server: Server, org: TestOrg) -> None:
    with await _client(server, org) as client:
        calendar = client.principal().calendars()[0]
        calendar.add_event(event(uid="daily@tests", summary="Point", rrule={"FREQ": "DAILY"}))
        calendar.add_event(event(uid="other@tests", start=MARCH + timedelta(days=40)))
        found = calendar.search(event=True, start=MARCH, end=MARCH + timedelta(days=3), expand=True)
        starts = sorted(o.icalendar_component["DTSTART"].dt for o in found)
    assert starts == [MARCH + timedelta(days=d, hours=9) for d in range(3)]


async def test_caldav_freebusy_reports_the_busy_time(server: Server, org: TestOrg) -> None:
    with await _client(server, org) as client:
        calendar = client.principal().calendars()[0]
        calendar.add_event(event(uid="busy@tests"))
        answer = calendar.freebusy_request(MARCH, MARCH + timedelta(days=1))
        periods = answer.icalendar_instance.walk("VFREEBUSY")[0]["FREEBUSY"]
    assert str(periods.to_ical().decode()) == "20270301T090000Z/20270301T100000Z"
