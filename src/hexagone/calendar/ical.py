"""Reading an iCalendar resource (RFC 5545) as CalDAV stores it (RFC 4791 4.1): one
calendar object per resource, one UID, one kind of component, its overrides
(RECURRENCE-ID) beside the master. Parsing, time zones and recurrence are the
``icalendar`` and ``recurring-ical-events`` libraries'; this module says what a resource
must be, and extracts what the tables index so that a query need not parse it.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dateutil.rrule
import icalendar
import recurring_ical_events

from hexagone.calendar import utc_text
from hexagone.core.i18n import _

SCHEDULED = ("VEVENT", "VTODO", "VJOURNAL")
# A floating time or a date is read in the viewer's zone, anywhere from UTC-12 to UTC+14:
# its indexed span is widened by that much so that no zone misses it.
FLOATING_MARGIN = timedelta(hours=14)
# Occurrences counted to find where a COUNT rule ends; beyond it the rule is indexed as
# endless (always a candidate, filtered by expansion), never expanded without a range.
COUNT_EXPANSION_LIMIT = 5000


class InvalidCalendarData(ValueError):
    """The resource is not a calendar object CalDAV can store; the message is for the client."""


@dataclass(frozen=True)
class CalendarObjectInfo:
    """What the tables keep about a resource beside its text."""

    uid: str
    component: str
    starts_at: datetime | None
    ends_at: datetime | None
    recurring: bool
    floating: bool  # a date or a time without zone: its span depends on the viewer's zone
    title: str
    emails: tuple[str, ...]
    organizer: str
    method: str
    # An ORGANIZER and at least one ATTENDEE: a scheduling object resource (RFC 6638 3.1).
    scheduling: bool = False
    # The occurrences of a repeating or floating resource, for the per-process memory of
    # time-range queries (:func:`keep_timeline`); None otherwise or when not for dateutil.
    timeline: Timeline | None = field(default=None, compare=False, repr=False)


def parse(text: str) -> icalendar.Calendar:
    """The iCalendar object in ``text``, or InvalidCalendarData saying why not."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InvalidCalendarData(_("This is not valid iCalendar data: {reason}").format(reason=exc)) from exc
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise InvalidCalendarData(_("An iCalendar object must begin with BEGIN:VCALENDAR."))
    return calendar


def inspect(text: str) -> CalendarObjectInfo:
    """Check that ``text`` is one calendar object resource and say what to index."""
    calendar = parse(text)
    components = [c for c in calendar.subcomponents if c.name in SCHEDULED]
    if not components:
        raise InvalidCalendarData(_("The calendar object holds no event, task or journal entry."))
    kinds = {c.name for c in components}
    uids = {str(c.get("UID", "")) for c in components}
    if len(kinds) > 1:
        raise InvalidCalendarData(_("A calendar object holds one kind of component, not several."))
    if len(uids) > 1:
        raise InvalidCalendarData(_("Every component of a calendar object has the same UID."))
    uid = uids.pop()
    if not uid:
        raise InvalidCalendarData(_("The component has no UID."))
    masters = [c for c in components if "RECURRENCE-ID" not in c]
    if len(masters) > 1:
        raise InvalidCalendarData(_("A calendar object holds one component without RECURRENCE-ID."))
    floating = any(_is_floating(c) for c in components)
    kept = None
    if floating or any(c.get("RRULE") or c.get("RDATE") for c in components):
        kept = _safe_timeline(text, calendar)
    try:
        starts, ends, recurring = _span(calendar, components, kept)
    except (ValueError, TypeError, OverflowError, KeyError) as exc:
        raise InvalidCalendarData(_("The dates of the component cannot be read: {reason}").format(reason=exc)) from exc
    main = masters[0] if masters else components[0]
    return CalendarObjectInfo(
        uid=uid,
        component=str(kinds.pop()),
        starts_at=starts,
        ends_at=ends,
        recurring=recurring,
        floating=floating,
        title=str(main.get("SUMMARY", ""))[:500],
        emails=tuple(sorted({e for c in components for e in _addresses(c)})),
        organizer=mailto_address(main.get("ORGANIZER")),
        method=str(calendar.get("METHOD", "")).upper(),
        scheduling=main.get("ORGANIZER") is not None and any(c.get("ATTENDEE") is not None for c in components),
        timeline=kept,
    )


def _span(
    calendar: icalendar.Calendar, components: list[Any], kept: Timeline | None
) -> tuple[datetime | None, datetime | None, bool]:
    """When the first occurrence starts and the last ends (UTC, widened for floating
    times); None for no date or no end. A task without dates is always listed."""
    starts: list[datetime] = []
    ends: list[datetime | None] = []
    recurring = False
    for component in components:
        start = _start(component)
        if start is None:
            return None, None, False
        end = _end(component, start)
        starts.append(start)
        if component.get("RRULE") or component.get("RDATE"):
            recurring = True
            ends.append(_last_end(calendar, component, end - start, kept))
        else:
            ends.append(end)
    last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return min(starts), last, recurring


def _is_floating(component: Any) -> bool:
    for key in ("DTSTART", "DTEND", "DUE"):
        value = component.get(key)
        if value is not None and not (isinstance(value.dt, datetime) and value.dt.tzinfo is not None):
            return True
    return False


def _start(component: Any) -> datetime | None:
    value = component.get("DTSTART") or (component.get("DUE") if component.name == "VTODO" else None)
    return _utc(value.dt, early=True) if value is not None else None


def _end(component: Any, start: datetime) -> datetime:
    if component.get("DTEND") is not None:
        return _utc(component["DTEND"].dt, early=False)
    if component.get("DUE") is not None:
        return _utc(component["DUE"].dt, early=False)
    if component.get("DURATION") is not None:
        return start + component["DURATION"].dt + 2 * FLOATING_MARGIN
    dtstart = component["DTSTART"].dt
    if not isinstance(dtstart, datetime):  # an all-day event without end lasts the day
        return start + timedelta(days=1) + 2 * FLOATING_MARGIN
    return _utc(dtstart, early=False)


def _last_end(
    calendar: icalendar.Calendar, component: Any, length: timedelta, kept: Timeline | None
) -> datetime | None:
    """Where a repeating component's last occurrence ends, or None when it never does
    (or would take too long to count: a query then treats it as endless). A COUNT is
    counted on the resource's occurrences when they are all known (``kept``)."""
    last: datetime | None = None
    for rule in as_list(component.get("RRULE")):
        until: datetime | None = None
        if rule.get("UNTIL"):
            until = _utc(rule["UNTIL"][0], early=False)
        elif rule.get("COUNT") and kept is not None and kept.until is None and kept.ends:
            until = max(kept.ends)
        elif rule.get("COUNT") and int(rule["COUNT"][0]) <= COUNT_EXPANSION_LIMIT:
            until = _counted_end(calendar, str(component["UID"]))
        if until is None:
            return None
        last = until if last is None else max(last, until)
    for rdate in _rdates(component):
        moment = _utc(rdate, early=False)
        last = moment if last is None else max(last, moment)
    return None if last is None else last + length + FLOATING_MARGIN


def _counted_end(calendar: icalendar.Calendar, uid: str) -> datetime | None:
    occurrences = recurring_ical_events.of(calendar).all()
    ends = [_utc(o.end if o.name == "VEVENT" else o.start, early=False) for o in occurrences if str(o["UID"]) == uid]
    return max(ends) if ends else None


def _rdates(component: Any) -> Iterator[date | datetime]:
    for value in as_list(component.get("RDATE")):
        for period in value.dts:
            moment = period.dt
            yield moment[0] if isinstance(moment, tuple) else moment


def _utc(moment: date | datetime, *, early: bool) -> datetime:
    """``moment`` in UTC; a date or a floating time widened by a zone's reach."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    shift = -FLOATING_MARGIN if early else FLOATING_MARGIN
    return moment.replace(tzinfo=UTC) + shift


def _addresses(component: Any) -> Iterator[str]:
    for attendee in as_list(component.get("ATTENDEE")):
        if address := mailto_address(attendee):
            yield address
    if address := mailto_address(component.get("ORGANIZER")):
        yield address


def mailto_address(value: Any) -> str:
    """The e-mail address of a ``mailto:`` calendar user address, lower-case; "" otherwise."""
    text = str(value or "")
    return text[7:].strip().lower() if text.lower().startswith("mailto:") else ""


def occurrences(text: str, start: datetime, end: datetime) -> list[Any]:
    """The occurrences of the resource's components that overlap [start, end)."""
    return list(_query(parse(text), start).between(start, end))


def _query(calendar: icalendar.Calendar, start: datetime) -> Any:
    for component in calendar.subcomponents:
        if component.name in SCHEDULED:
            _fast_forward(component, start)
    return recurring_ical_events.of(calendar)


def overlaps(text: str, start: datetime, end: datetime) -> bool:
    """Whether an occurrence of the resource overlaps [start, end). A rule with a COUNT
    too large to walk is answered yes: a time-range query may list an object it need
    not (RFC 4791 lets clients filter), never hang on one."""
    calendar = parse(text)
    if any(_huge_count(c) for c in calendar.subcomponents if c.name in SCHEDULED):
        return True
    first = next(iter(_query(calendar, start).after(start)), None)  # lazily: the first is enough
    return first is not None and _utc(first.start, early=True) < end


def _huge_count(component: Any) -> bool:
    rules = component.get("RRULE")
    return any(r.get("COUNT") and int(r["COUNT"][0]) > COUNT_EXPANSION_LIMIT for r in as_list(rules))


_STEPS = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
}


def _fast_forward(component: Any, start: datetime) -> None:
    """Move an endless rule's DTSTART (and DTEND) forward by whole periods to just before
    ``start``: the occurrences from there on are the same, and expanding no longer walks
    every occurrence since the first (an hourly rule queried 60 years later took 15 s).
    Only fixed-length periods (up to weekly) without COUNT, which counts from the first;
    the moved DTSTART stays a period and the event's length before ``start``, so the
    occurrence RFC 5545 gives DTSTART itself never falls in the range."""
    rules = as_list(component.get("RRULE"))
    if len(rules) != 1 or rules[0].get("COUNT") or "RECURRENCE-ID" in component or "DTSTART" not in component:
        return
    step = _STEPS.get(str(rules[0]["FREQ"][0]).upper())
    first = component["DTSTART"].dt
    if step is None or (not isinstance(first, datetime) and step < timedelta(days=1)):
        return
    period = step * int(rules[0].get("INTERVAL", [1])[0])
    length = _end(component, _utc(first, early=True)) - _utc(first, early=True)
    periods = (start - _utc(first, early=True) - length - period) // period
    if periods <= 0:
        return
    shift = period * periods
    ends = component.get("DTEND")
    component.start = first + shift
    if ends is not None:
        component.end = ends.dt + shift


def as_list(value: Any) -> list[Any]:
    """A property's values as a list: ``icalendar`` gives one value alone, several as a list."""
    return value if isinstance(value, list) else [] if value is None else [value]


def master(calendar: icalendar.Calendar) -> Any:
    """The component without RECURRENCE-ID (the first one when every one has it)."""
    parts = [c for c in calendar.subcomponents if c.name in SCHEDULED]
    return next((c for c in parts if "RECURRENCE-ID" not in c), parts[0])


def holds_time(occurrence: Any) -> bool:
    """Whether an occurrence makes its calendar's owner busy: not cancelled, not transparent."""
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return str(occurrence.get("TRANSP", "")).upper() != "TRANSPARENT"


# Occurrences one REPORT may expand (calendar-data expand, free/busy): beyond, the query
# is refused (RFC 4791 max-instances) instead of walking an endless rule for ever.
MAX_INSTANCES = 2000


class TooManyInstances(ValueError):
    """Expanding the resource over the range would give more than :data:`MAX_INSTANCES`."""


def instances(text: str, start: datetime, end: datetime, limit: int = MAX_INSTANCES) -> list[Any]:
    """The occurrences overlapping [start, end), walked lazily from ``start`` and refused
    past ``limit`` (TooManyInstances)."""
    # Windows that double in length: each asks the rule for its occurrences from DTSTART
    # (dateutil walks from there every time), so one window per occurrence, as ``after``
    # does, costs the square of their number; doubling costs about twice the last one.
    query = _query(parse(text), start)
    found: dict[tuple[str, str], Any] = {}
    lower, step = start, timedelta(days=1)
    while lower < end:
        upper = min(end, lower + step)
        for occurrence in query.between(lower, upper):
            key = (
                str(occurrence.get("UID", "")),
                str(occurrence.get("RECURRENCE-ID", occurrence.get("DTSTART")).to_ical()),
            )
            found[key] = occurrence
        if len(found) > limit:
            raise TooManyInstances
        lower, step = upper, step * 2
    return list(found.values())


def expand(text: str, start: datetime, end: datetime, limit: int = MAX_INSTANCES) -> str:
    """The resource as RFC 4791 9.6.5 returns it with ``expand``: every occurrence in the
    range as its own component with a RECURRENCE-ID, times in UTC, no rule, no VTIMEZONE."""
    return _utc_calendar(instances(text, start, end, limit))


def in_utc(text: str) -> str:
    """A resource that does not repeat as ``expand`` returns it: its times in UTC, without
    VTIMEZONE (unchanged when it names no zone). Line by line (:mod:`.utc_text`) when its
    zones are known ones, through the parser otherwise."""
    if "TZID" not in text:
        return text
    return utc_text.in_utc(text) or _utc_calendar([c for c in parse(text).subcomponents if c.name in SCHEDULED])


def _utc_calendar(components: list[Any]) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hexagone//CalDAV//FR")
    calendar.add("version", "2.0")
    for component in components:
        for key in ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID"):
            value = component.get(key)
            if value is not None and isinstance(value.dt, datetime) and value.dt.tzinfo is not None:
                component.pop(key)
                component.add(key, value.dt.astimezone(UTC))
        calendar.add_component(component)
    return calendar.to_ical().decode()


def busy(text: str, start: datetime, end: datetime, limit: int = MAX_INSTANCES) -> list[tuple[datetime, datetime, str]]:
    """The busy periods of the resource's events in [start, end), clipped to it, with their
    FBTYPE (RFC 4791 7.10): transparent and cancelled events are free, tentative ones
    BUSY-TENTATIVE."""
    periods: list[tuple[datetime, datetime, str]] = []
    for occurrence in instances(text, start, end, limit):
        if occurrence.name != "VEVENT":
            continue
        if str(occurrence.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        status = str(occurrence.get("STATUS", "CONFIRMED")).upper()
        if status == "CANCELLED":
            continue
        begins = max(_as_utc(occurrence.start), start)
        ends = min(_as_utc(occurrence.end), end)
        if begins < ends:
            periods.append((begins, ends, "BUSY-TENTATIVE" if status == "TENTATIVE" else "BUSY"))
    return periods


def _as_utc(moment: date | datetime) -> datetime:
    """``moment`` in UTC, a date or a floating time read as UTC (free/busy has no viewer zone)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Time-range queries: a per-process memory of each recurring resource's occurrences.
#
# Expanding a resource with recurring_ical_events costs a parse and a component per
# occurrence (about a millisecond each under load): a REPORT over a 10,000-event calendar
# has a few hundred recurring candidates. The occurrences of a resource depend on its text
# only, so they are computed once per ETag (the ETag is a digest of the text) with
# dateutil's rules, which yield bare datetimes, and kept as two sorted lists; a query is
# then a binary search. Rules dateutil cannot take as they are (a floating start with a
# UTC UNTIL, a task without DTSTART…) are left to the general path.

TIMELINE_INSTANCES = 3000  # occurrences kept per resource; beyond, queries take the general path
TIMELINE_YEARS = 20
TIMELINE_ENTRIES = 20_000  # resources remembered per process


@dataclass(frozen=True)
class Expansion:
    """What ``expand`` writes for a repeating event, kept as text to be copied: the
    calendar's own lines, the master's lines but its dates and rules (its instances get
    DTSTART, DTEND when it has one, and RECURRENCE-ID in UTC), and each moved instance
    (an override) with its dates in UTC."""

    head: str
    master: str
    dtend: bool
    overrides: list[str]

    def instance(self, start: datetime, end: datetime, source: int) -> str:
        if source >= 0:
            return self.overrides[source]
        begins = start.strftime(utc_text.UTC_FORMAT)
        ends = f"DTEND:{end.strftime(utc_text.UTC_FORMAT)}\r\n" if self.dtend else ""
        return f"BEGIN:VEVENT\r\nDTSTART:{begins}\r\n{ends}RECURRENCE-ID:{begins}\r\n{self.master}END:VEVENT\r\n"


@dataclass(frozen=True)
class Timeline:
    """A resource's occurrence spans in UTC, sorted by start, complete up to ``until``
    (None: all of them); for an event in known zones, where each comes from (``sources``:
    -1 the master, i the i-th override) and what ``expand`` writes for it."""

    starts: list[datetime]
    ends: list[datetime]
    longest: timedelta
    until: datetime | None
    sources: list[int]
    expansion: Expansion | None

    def _candidates(self, start: datetime, end: datetime) -> range | None:
        """The spans that may overlap [start, end); None when the range passes ``until``."""
        if self.until is not None and end > self.until:
            return None
        return range(bisect.bisect_left(self.starts, start - self.longest), bisect.bisect_left(self.starts, end))

    def overlaps(self, start: datetime, end: datetime) -> bool | None:
        """Whether an occurrence overlaps [start, end); None when the range passes ``until``."""
        found = self._candidates(start, end)
        return None if found is None else any(self.ends[i] > start for i in found)

    def expand(self, start: datetime, end: datetime, limit: int) -> str | None:
        """:func:`expand` from the kept text; None when it is not kept or the range passes
        ``until``."""
        candidates = self._candidates(start, end) if self.expansion is not None else None
        if self.expansion is None or candidates is None:
            return None
        found = [i for i in candidates if self.ends[i] > start]
        if len(found) > limit:
            raise TooManyInstances
        parts = [self.expansion.instance(self.starts[i], self.ends[i], self.sources[i]) for i in found]
        return f"{self.expansion.head}{''.join(parts)}END:VCALENDAR\r\n"


_timelines: OrderedDict[str, Timeline | None] = OrderedDict()


def remember_timeline(etag: str, text: str) -> Timeline | None:
    """The occurrences of the resource ``etag``, computed now if this process has not yet."""
    if etag in _timelines:
        _timelines.move_to_end(etag)
        return _timelines[etag]
    return keep_timeline(etag, _safe_timeline(text))


def keep_timeline(etag: str, found: Timeline | None) -> Timeline | None:
    """Remember the occurrences of the resource ``etag`` (a PUT gives those :func:`inspect`
    computed, so that the first query does not pay)."""
    _timelines[etag] = found
    _timelines.move_to_end(etag)
    if len(_timelines) > TIMELINE_ENTRIES:
        _timelines.popitem(last=False)
    return found


def _safe_timeline(text: str, calendar: icalendar.Calendar | None = None) -> Timeline | None:
    try:
        return timeline(text, calendar)
    except (ValueError, TypeError, KeyError, OverflowError, InvalidCalendarData):
        return None


def overlaps_by_etag(etag: str, text: str, start: datetime, end: datetime) -> bool:
    """:func:`overlaps`, answered from the remembered occurrences of the resource ``etag``."""
    found = remember_timeline(etag, text)
    answer = found.overlaps(start, end) if found is not None else None
    return overlaps(text, start, end) if answer is None else answer


def expand_by_etag(etag: str, text: str, start: datetime, end: datetime, limit: int = MAX_INSTANCES) -> str:
    """:func:`expand`, written from the remembered occurrences and text of the resource ``etag``."""
    found = remember_timeline(etag, text)
    answer = found.expand(start, end, limit) if found is not None else None
    return expand(text, start, end, limit) if answer is None else answer


def _wall(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _length(component: Any) -> timedelta:
    start = component["DTSTART"].dt
    if component.get("DTEND") is not None:
        return _wall(component["DTEND"].dt) - _wall(start)
    if component.get("DURATION") is not None:
        return component["DURATION"].dt
    return timedelta(days=1) if not isinstance(start, datetime) else timedelta(0)


def _span_utc(moment: datetime, length: timedelta) -> tuple[datetime, datetime]:
    if moment.tzinfo is not None:
        begins = moment.astimezone(UTC)
        return begins, (moment + length).astimezone(UTC)
    # Floating: read in any zone from UTC-12 to UTC+14, as the general path reads it.
    return moment.replace(tzinfo=UTC) - FLOATING_MARGIN, (moment + length).replace(tzinfo=UTC)


def timeline(text: str, calendar: icalendar.Calendar | None = None) -> Timeline | None:
    """The occurrences of ``text`` (``calendar``: the text already parsed, not changed
    here), or None when they are not for dateutil alone."""
    calendar = parse(text) if calendar is None else calendar
    components: list[Any] = [c for c in calendar.subcomponents if c.name in SCHEDULED]
    if not components or any("DTSTART" not in c for c in components):
        return None
    overrides = [c for c in components if "RECURRENCE-ID" in c]
    masters = [c for c in components if "RECURRENCE-ID" not in c]
    spans: list[tuple[datetime, datetime, int]] = []
    longest = timedelta(0)
    until: datetime | None = None
    for master in masters:
        length = _length(master)
        longest = max(longest, length)
        first = _wall(master["DTSTART"].dt)
        rules = dateutil.rrule.rruleset()
        for rule in as_list(master.get("RRULE")):
            rules.rrule(dateutil.rrule.rrulestr(rule.to_ical().decode(), dtstart=first))
        if not as_list(master.get("RRULE")):
            rules.rdate(first)
        for moment in _rdates(master):
            rules.rdate(_wall(moment))
        for value in as_list(master.get("EXDATE")):
            for moment in value.dts:
                rules.exdate(_wall(moment.dt))
        for override in overrides:
            rules.exdate(_wall(override["RECURRENCE-ID"].dt))
        horizon = first + timedelta(days=366 * TIMELINE_YEARS)
        for count, moment in enumerate(rules):
            if count >= TIMELINE_INSTANCES or moment > horizon:
                last = _span_utc(moment, timedelta(0))[0]
                until = last if until is None else min(until, last)
                break
            spans.append((*_span_utc(moment, length), -1))
    for index, override in enumerate(overrides):
        length = _length(override)
        longest = max(longest, length)
        spans.append((*_span_utc(_wall(override["DTSTART"].dt), length), index))
    spans.sort()
    return Timeline(
        starts=[s for s, _e, _i in spans],
        ends=[e for _s, e, _i in spans],
        longest=longest + 2 * FLOATING_MARGIN,
        until=until,
        sources=[i for _s, _e, i in spans],
        expansion=_expansion(text, components),
    )


_RULES = ("DTSTART", "DTEND", "RRULE", "RDATE", "EXDATE", "EXRULE")


def _zoned(component: Any, key: str) -> bool:
    value = component.get(key)
    return value is None or (isinstance(value.dt, datetime) and value.dt.tzinfo is not None)


def _expansion(text: str, components: list[Any]) -> Expansion | None:
    """The text ``expand`` copies for a repeating event whose dates are all in zones; None
    for anything else (tasks, dates, floating times, a RANGE, a zone not in the database),
    which the general path expands."""
    masters = [c for c in components if "RECURRENCE-ID" not in c]
    if (
        len(masters) != 1
        or any(c.name != "VEVENT" or not _zoned(c, "DTSTART") or not _zoned(c, "DTEND") for c in components)
        or any("RANGE" in c["RECURRENCE-ID"].params for c in components if "RECURRENCE-ID" in c)
    ):
        return None
    layout = utc_text.layout(text)
    if layout is None:
        return None
    events = [c for c in layout.components if utc_text.kind(c) == "VEVENT"]
    moved = [c for c in events if any(line.name == "RECURRENCE-ID" for _i, line in utc_text.own_lines(c))]
    plain = [c for c in events if c not in moved]
    if len(plain) != 1 or len(events) != len(components):
        return None
    master = plain[0]
    overrides = []
    for component in moved:
        converted = utc_text.utc_component(component)
        if converted is None:
            return None
        overrides.append("\r\n".join(converted) + "\r\n")
    skipped = {i for i, line in utc_text.own_lines(master) if line.name in _RULES}
    kept = [line.written for i, line in enumerate(master) if 0 < i < len(master) - 1 and i not in skipped]
    return Expansion(
        head="\r\n".join(["BEGIN:VCALENDAR", *(line.written for line in layout.head)]) + "\r\n",
        master="".join(f"{line}\r\n" for line in kept),
        dtend="DTEND" in masters[0],
        overrides=overrides,
    )
