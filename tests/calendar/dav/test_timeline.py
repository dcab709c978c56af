"""The remembered occurrences that answer time-range queries (``ical.timeline``) give
the same answers as expanding the resource with recurring_ical_events, over rules of
every kind: zones with DST, all-day and floating times, COUNT, UNTIL, no end, EXDATE,
RDATE and moved instances."""

from __future__ import annotations

import random
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from hexagone.calendar import ical, utc_text
from hexagone.calendar.service.objects import etag_of

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _calendar(*components: icalendar.Event) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//FR")
    calendar.add("version", "2.0")
    for component in components:
        calendar.add_component(component)
    return calendar.to_ical().decode()


def _event(start: date | datetime, rrule: dict[str, object] | None = None, **extra: object) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", "u@tests")
    event.add("dtstamp", datetime(2027, 1, 1, tzinfo=UTC))
    event.add("dtstart", start)
    event.add("dtend", start + (timedelta(days=1) if not isinstance(start, datetime) else timedelta(hours=1)))
    if rrule:
        event.add("rrule", rrule)
    for key, value in extra.items():
        event.add(key.replace("_", "-"), value)
    return event


def _moved(original: datetime) -> icalendar.Event:
    event = _event(original + timedelta(hours=3))
    event.add("recurrence-id", original)
    return event


START = datetime(2026, 3, 23, 9, 30, tzinfo=PARIS)  # the week before the change to summer time
CASES = {
    "weekly paris endless": _calendar(_event(START, {"freq": "weekly", "byday": "MO"})),
    "daily weekdays count": _calendar(
        _event(START, {"freq": "daily", "byday": ["MO", "TU", "WE", "TH", "FR"], "count": 40})
    ),
    "monthly until": _calendar(
        _event(START, {"freq": "monthly", "bymonthday": 23, "until": datetime(2027, 6, 1, tzinfo=UTC)})
    ),
    "yearly all-day": _calendar(_event(date(2025, 7, 14), {"freq": "yearly"})),
    "floating weekly": _calendar(_event(datetime(2026, 1, 5, 18, 0), {"freq": "weekly", "interval": 2})),
    "exdate": _calendar(
        _event(START, {"freq": "weekly", "count": 20}, exdate=[START + timedelta(weeks=2), START + timedelta(weeks=3)])
    ),
    "rdate": _calendar(
        _event(START, {"freq": "weekly", "count": 3}, rdate=[datetime(2026, 12, 24, 20, 0, tzinfo=PARIS)])
    ),
    "moved instance": _calendar(_event(START, {"freq": "weekly"}), _moved(START + timedelta(weeks=5))),
    "hourly utc": _calendar(_event(datetime(2026, 1, 1, tzinfo=UTC), {"freq": "hourly", "interval": 7})),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_timeline_answers_as_the_expansion_does(name: str) -> None:
    text = CASES[name]
    rng = random.Random(name)
    windows = []
    for _ in range(300):
        start = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 3 * 365 * 24))
        windows.append((start, start + timedelta(hours=rng.choice([1, 5, 24, 24 * 7, 24 * 31]))))
    expected = [ical.overlaps(text, s, e) for s, e in windows]
    answered = [ical.overlaps_by_etag(etag_of(text), text, s, e) for s, e in windows]
    assert answered == expected
    assert ical.timeline(text) is not None  # the fast path was taken


def _instances(text: str) -> list[tuple[tuple[str, bytes], ...]]:
    """Each VEVENT of an expanded resource as its properties (SEQUENCE aside: the general
    path gives every instance the highest of the series), with its alarms."""
    found = []
    for component in icalendar.Calendar.from_ical(text).walk("VEVENT"):
        props = {k: v.to_ical() for k, v in component.items() if k != "SEQUENCE" and hasattr(v, "to_ical")}
        props["ALARMS"] = b"".join(a.to_ical() for a in component.subcomponents)
        found.append(tuple(sorted(props.items())))
    return sorted(found)


ZONED = {
    "weekly paris endless",
    "daily weekdays count",
    "monthly until",
    "exdate",
    "rdate",
    "moved instance",
    "hourly utc",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_timeline_expands_as_the_general_path_does(name: str) -> None:
    text = CASES[name]
    kept = ical.timeline(text)
    assert kept is not None
    assert (kept.expansion is not None) == (name in ZONED)  # dates and floating times take the general path
    rng = random.Random(name)
    for _ in range(60):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 2 * 365 * 24))
        end = start + timedelta(hours=rng.choice([1, 24, 24 * 7, 24 * 31]))
        expanded = ical.expand_by_etag(etag_of(text), text, start, end)
        assert _instances(expanded) == _instances(ical.expand(text, start, end))
        assert "TZID" not in expanded and "RRULE" not in expanded


def test_timeline_expands_an_alarm_and_folded_lines_with_each_instance() -> None:
    long = "Réunion " + "très " * 30
    text = _calendar(_event(START, {"freq": "daily", "count": 3}, summary=long), _moved(START + timedelta(days=1)))
    text = text.replace("END:VEVENT", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT", 1)
    week = (datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    expanded = ical.expand_by_etag(etag_of(text), text, *week)
    assert ical.timeline(text).expansion is not None  # type: ignore[union-attr]
    assert _instances(expanded) == _instances(ical.expand(text, *week))
    assert expanded.count("BEGIN:VALARM") == 2 and expanded.count("BEGIN:VEVENT") == 3
    assert all(len(line.encode()) <= 75 for line in expanded.split("\r\n"))


def test_timeline_expand_of_too_many_instances_is_refused() -> None:
    text = CASES["hourly utc"]
    start = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ical.TooManyInstances):
        ical.expand_by_etag(etag_of(text), text, start, start + timedelta(days=365), limit=100)


def test_in_utc_writes_known_zones_line_by_line_and_keeps_the_rest() -> None:
    moved = _moved(START)
    moved["RECURRENCE-ID"].params["RANGE"] = "THISANDFUTURE"
    text = _calendar(moved).replace("BEGIN:VEVENT", _PARIS_ZONE + "BEGIN:VEVENT")
    written = ical.in_utc(text)
    assert "DTSTART:20260323T113000Z" in written  # 12:30 in Paris, winter time
    assert "RECURRENCE-ID;RANGE=THISANDFUTURE:20260323T083000Z" in written
    assert "VTIMEZONE" not in written and "TZID" not in written
    assert "PRODID:-//tests//FR" in written  # the calendar's own lines as they were


def test_in_utc_of_a_zone_the_database_does_not_know_takes_the_general_path() -> None:
    text = _calendar(_event(START)).replace("Europe/Paris", "Hexagone/Somewhere")
    text = text.replace("BEGIN:VEVENT", _PARIS_ZONE.replace("Europe/Paris", "Hexagone/Somewhere") + "BEGIN:VEVENT")
    written = ical.in_utc(text)
    assert utc_text.in_utc(text) is None
    assert "DTSTART:20260323T083000Z" in written and "TZID" not in written


_PARIS_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)
