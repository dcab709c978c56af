"""The filters of calendar-query (RFC 4791 9.7) and addressbook-query (RFC 6352 10.5),
parsed from the request and applied to parsed resources.

A calendar-query's outer component filter (VCALENDAR > VEVENT with a time range) is
what the store's index answers (:func:`objects.overlapping`); only a filter that asks
more (properties, parameters, nested components) parses each candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from xml.etree.ElementTree import Element

from hexagone.calendar import ical
from hexagone.calendar.dav.namespaces import CALDAV, CARDDAV
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import tag
from hexagone.core.i18n import _

COLLATIONS = ("i;ascii-casemap", "i;octet", "i;unicode-casemap")


@dataclass
class TextMatch:
    text: str
    collation: str
    negate: bool
    match_type: str = "contains"

    def matches(self, value: str) -> bool:
        needle, hay = self.text, value
        if self.collation != "i;octet":
            needle, hay = needle.casefold(), hay.casefold()
        found = {
            "equals": hay == needle,
            "starts-with": hay.startswith(needle),
            "ends-with": hay.endswith(needle),
        }.get(self.match_type, needle in hay)
        return found != self.negate


@dataclass
class PropFilter:
    name: str
    undefined: bool = False
    text: TextMatch | None = None
    time_range: tuple[datetime | None, datetime | None] | None = None
    params: list[tuple[str, bool, TextMatch | None]] = field(default_factory=list)
    anyof: bool = False  # CardDAV: test="anyof" over the text-matches and param-filters


@dataclass
class CompFilter:
    name: str
    undefined: bool = False
    time_range: tuple[datetime | None, datetime | None] | None = None
    props: list[PropFilter] = field(default_factory=list)
    comps: list[CompFilter] = field(default_factory=list)


def _invalid(message: str) -> DavError:
    return DavError(403, message, tag(CALDAV, "valid-filter"))


def when(value: str | None) -> datetime | None:
    """A time-range bound, ``YYYYMMDDTHHMMSSZ`` in UTC."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise _invalid(_("A time range is written in UTC as 20270301T090000Z.")) from exc


def time_range(element: Element | None) -> tuple[datetime | None, datetime | None] | None:
    if element is None:
        return None
    start, end = when(element.get("start")), when(element.get("end"))
    if start is None and end is None:
        raise _invalid(_("A time range has a start, an end or both."))
    if start is not None and end is not None and end <= start:
        raise _invalid(_("A time range ends after it starts."))
    return start, end


def _text_match(element: Element | None, namespace: str) -> TextMatch | None:
    if element is None:
        return None
    default = "i;ascii-casemap" if namespace == CALDAV else "i;unicode-casemap"
    collation = element.get("collation", default)
    if collation not in COLLATIONS:
        raise DavError(
            403, _("Unsupported collation: {name}").format(name=collation), tag(namespace, "supported-collation")
        )
    return TextMatch(
        text=element.text or "",
        collation=collation,
        negate=element.get("negate-condition", "no") == "yes",
        match_type=element.get("match-type", "contains"),
    )


def _prop_filter(element: Element, namespace: str) -> PropFilter:
    name = element.get("name", "").upper()
    if not name:
        raise _invalid(_("A property filter names its property."))
    params = []
    for param in element.findall(tag(namespace, "param-filter")):
        params.append(
            (
                param.get("name", "").upper(),
                param.find(tag(namespace, "is-not-defined")) is not None,
                _text_match(param.find(tag(namespace, "text-match")), namespace),
            )
        )
    texts = element.findall(tag(namespace, "text-match"))
    return PropFilter(
        name=name,
        undefined=element.find(tag(namespace, "is-not-defined")) is not None,
        text=_text_match(texts[0] if texts else None, namespace),
        time_range=time_range(element.find(tag(CALDAV, "time-range"))) if namespace == CALDAV else None,
        params=params,
        anyof=element.get("test", "anyof") == "anyof",
    )


def comp_filter(element: Element) -> CompFilter:
    return CompFilter(
        name=element.get("name", "").upper(),
        undefined=element.find(tag(CALDAV, "is-not-defined")) is not None,
        time_range=time_range(element.find(tag(CALDAV, "time-range"))),
        props=[_prop_filter(p, CALDAV) for p in element.findall(tag(CALDAV, "prop-filter"))],
        comps=[comp_filter(c) for c in element.findall(tag(CALDAV, "comp-filter"))],
    )


@dataclass
class CalendarQuery:
    """What the index answers (component, range) and what, if anything, is left to check."""

    component: str | None
    start: datetime | None
    end: datetime | None
    rest: CompFilter | None  # the filter to apply to parsed candidates, None if the index sufficed
    ranges: bool = False  # whether the rest's component ranges were left to it (not the index's)


def calendar_query(root: Element) -> CalendarQuery:
    outer = root.find(tag(CALDAV, "filter"))
    top = outer.find(tag(CALDAV, "comp-filter")) if outer is not None else None
    if top is None or top.get("name", "").upper() != "VCALENDAR":
        raise _invalid(_("A calendar query filters on a VCALENDAR component."))
    parsed = comp_filter(top)
    if parsed.undefined or parsed.props or parsed.time_range:
        return CalendarQuery(None, None, None, parsed, ranges=True)
    if not parsed.comps:
        return CalendarQuery(None, None, None, None)
    if len(parsed.comps) > 1 or parsed.comps[0].undefined:
        return CalendarQuery(None, None, None, parsed, ranges=True)
    inner = parsed.comps[0]
    start, end = inner.time_range or (None, None)
    simple = not inner.props and not inner.comps
    return CalendarQuery(inner.name, start, end, None if simple else parsed)


def matches(calendar: Any, query: CalendarQuery) -> bool:
    """Whether the parsed VCALENDAR passes the rest of the query. The range of the
    component the index answered is not checked again; another component's range is
    checked on its DTSTART (a repeating one always passes: RFC 4791 lets a client get
    more than it asked, never less)."""
    assert query.rest is not None
    return _comp_matches(calendar, query.rest, depth=0, ranges=query.ranges)


def _comp_matches(component: Any, wanted: CompFilter, depth: int, ranges: bool) -> bool:
    checked = depth >= 2 or (depth == 1 and ranges)
    if checked and wanted.time_range is not None and not _in_range(component, wanted.time_range):
        return False
    if not all(_prop_matches(component, p) for p in wanted.props):
        return False
    for inner in wanted.comps:
        children = [c for c in component.subcomponents if c.name == inner.name]
        if inner.undefined:
            if children:
                return False
        elif not any(_comp_matches(c, inner, depth + 1, ranges) for c in children):
            return False
    return True


def _in_range(component: Any, bounds: tuple[datetime | None, datetime | None]) -> bool:
    start_value = component.get("DTSTART") or component.get("TRIGGER")
    if component.get("RRULE") is not None or component.get("RDATE") is not None:
        return True
    if start_value is None or not isinstance(start_value.dt, (date, datetime)):
        return True
    return _within(start_value.dt, bounds)


def _within(moment: date | datetime, bounds: tuple[datetime | None, datetime | None]) -> bool:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    start, end = bounds
    return (start is None or moment >= start) and (end is None or moment < end)


def _prop_matches(component: Any, wanted: PropFilter) -> bool:
    values = ical.as_list(component.get(wanted.name))
    if wanted.undefined:
        return not values
    if not values:
        return False
    for value in values:
        if wanted.text is not None and not wanted.text.matches(str(value)):
            continue
        if wanted.time_range is not None:
            moment = getattr(value, "dt", None)
            if not isinstance(moment, (date, datetime)) or not _within(moment, wanted.time_range):
                continue
        if all(_param_matches(value, p) for p in wanted.params):
            return True
    return False


def _param_matches(value: Any, wanted: tuple[str, bool, TextMatch | None]) -> bool:
    name, undefined, text = wanted
    params = getattr(value, "params", {})
    if undefined:
        return name not in params
    if name not in params:
        return False
    return text is None or text.matches(str(params[name]))


# CardDAV


@dataclass
class CardQuery:
    props: list[PropFilter]
    anyof: bool
    limit: int | None


def card_query(root: Element) -> CardQuery:
    outer = root.find(tag(CARDDAV, "filter"))
    props = [_prop_filter(p, CARDDAV) for p in outer.findall(tag(CARDDAV, "prop-filter"))] if outer is not None else []
    limit = None
    found = root.find(f"{tag(CARDDAV, 'limit')}/{tag(CARDDAV, 'nresults')}")
    if found is not None and (found.text or "").strip().isdigit():
        limit = int((found.text or "").strip())
    anyof = outer is None or outer.get("test", "anyof") == "anyof"
    return CardQuery(props=props, anyof=anyof, limit=limit)


def card_matches(card: Any, query: CardQuery) -> bool:
    if not query.props:
        return True
    results = (_card_prop_matches(card, p) for p in query.props)
    return any(results) if query.anyof else all(results)


def _card_prop_matches(card: Any, wanted: PropFilter) -> bool:
    values = card.contents.get(wanted.name.lower(), [])
    if wanted.undefined:
        return not values
    if not values:
        return False
    tests: list[bool] = []
    if wanted.text is not None:
        text = wanted.text
        tests.append(any(text.matches(_card_text(v.value)) for v in values))
    for name, undefined, param_text in wanted.params:
        found = [p for v in values for p in v.params.get(name, [])] if not undefined else []
        if undefined:
            tests.append(all(name not in v.params for v in values))
        else:
            tests.append(bool(found) and (param_text is None or any(param_text.matches(str(p)) for p in found)))
    if not tests:
        return True
    return any(tests) if wanted.anyof else all(tests)


def _card_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
