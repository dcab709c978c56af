"""Which changes of an attendee's copy keep its schedule tag (RFC 6638 3.2.10,
:func:`itip.answers_only`): their own answer, alarms and stamps do; anything the
organiser owns does not."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from hexagone.calendar import ical
from hexagone.calendar.service import itip
from tests.calendar.factories import event
from tests.calendar.scheduling.helpers import prop_of

START = datetime(2027, 9, 6, 9, 0, tzinfo=UTC)
ME, OTHER, CHIEF = "bob@example.test", "carol@example.test", "alice@example.test"


def _copy() -> icalendar.Calendar:
    text = event(uid="meeting@tests", start=START, organizer=CHIEF, attendees=(ME, OTHER), rrule={"FREQ": "WEEKLY"})
    return ical.parse(text)


def _answer(calendar: icalendar.Calendar, address: str, partstat: str) -> icalendar.Calendar:
    prop_of(calendar, address).params["PARTSTAT"] = partstat
    return calendar


def test_answers_only_own_partstat_alarm_and_stamp_keep_the_tag() -> None:
    changed = _answer(_copy(), ME, "ACCEPTED")
    [component] = itip.components(changed)
    component["DTSTAMP"] = icalendar.vDDDTypes(datetime(2027, 2, 1, tzinfo=UTC))
    component.add("X-MOZ-LASTACK", "20270201T000000Z")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", icalendar.vDuration.from_ical("-PT15M"))
    component.add_component(alarm)
    prop_of(changed, CHIEF).params["SCHEDULE-STATUS"] = "1.2"
    assert itip.answers_only(_copy(), changed, ME)


def test_answers_only_an_occurrence_answered_apart_keeps_the_tag() -> None:
    changed = _copy()
    occurrence = icalendar.Event.from_ical(itip.components(changed)[0].to_ical())
    occurrence.pop("RRULE")
    occurrence.add("recurrence-id", START)
    prop_of_occurrence = next(a for a in ical.as_list(occurrence["ATTENDEE"]) if ical.mailto_address(a) == ME)
    prop_of_occurrence.params["PARTSTAT"] = "DECLINED"
    changed.add_component(occurrence)
    assert itip.answers_only(_copy(), changed, ME)


def test_answers_only_is_false_for_what_the_organiser_owns() -> None:
    summary = _copy()
    itip.components(summary)[0]["SUMMARY"] = icalendar.vText("Autre chose")
    assert not itip.answers_only(_copy(), summary, ME)
    assert not itip.answers_only(_copy(), _answer(_copy(), OTHER, "ACCEPTED"), ME)
    assert not itip.answers_only(_copy(), _answer(_copy(), ME, "ACCEPTED"), OTHER)


def test_keep_answers_carries_answers_into_an_organisers_stale_text() -> None:
    stored = _answer(_answer(_copy(), ME, "ACCEPTED"), CHIEF, "ACCEPTED")
    stale = _answer(_copy(), CHIEF, "TENTATIVE")
    itip.components(stale)[0]["SUMMARY"] = icalendar.vText("Autre titre")
    assert itip.keep_answers(stored, stale, CHIEF)
    assert prop_of(stale, ME).params["PARTSTAT"] == "ACCEPTED"
    assert prop_of(stale, CHIEF).params["PARTSTAT"] == "TENTATIVE"  # the organiser's own answer is theirs
    assert str(itip.components(stale)[0]["SUMMARY"]) == "Autre titre"


def test_keep_answers_leaves_a_rescheduled_occurrence_to_the_organiser() -> None:
    stored = _answer(_copy(), ME, "ACCEPTED")
    moved = _copy()
    itip.components(moved)[0]["DTSTART"] = icalendar.vDDDTypes(datetime(2027, 9, 7, 9, 0, tzinfo=UTC))
    assert not itip.keep_answers(stored, moved, CHIEF)
    assert prop_of(moved, ME).params.get("PARTSTAT", "NEEDS-ACTION") == "NEEDS-ACTION"
