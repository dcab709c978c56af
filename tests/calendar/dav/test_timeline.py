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

from hexagone.calendar import ical
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
