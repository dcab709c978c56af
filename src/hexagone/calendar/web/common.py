"""What the agenda's pages share: the viewer (their calendars, which are shown, their time
zone), the range a view covers, dates and times in the page's language, and placing
timed events in a day's grid of half-hours."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from hexagone.calendar.service import agenda
from hexagone.calendar.service.collections import CollectionInfo
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import get_language
from hexagone.core.i18n import gettext as _

VIEWS = ("day", "week", "month", "list")
SLOT_MINUTES = 30
SLOTS = 24 * 60 // SLOT_MINUTES
MAX_LANES = 4
LIST_DAYS = 30
# Zones offered in the forms besides the viewer's own: metropolitan and overseas France,
# and the neighbours and partners an administration meets most.
ZONES = (
    "Europe/Paris",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Miquelon",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
    "America/New_York",
    "America/Montreal",
    "Asia/Tokyo",
)


@dataclass(frozen=True)
class Viewer:
    """Whose agenda a page shows and how: their calendars, the ones shown (all unless
    the page names some), and their zone."""

    principal: Principal
    calendars: list[CollectionInfo]
    shown: list[uuid.UUID]
    zone: ZoneInfo

    @property
    def writable(self) -> list[CollectionInfo]:
        return [c for c in self.calendars if c.abilities.get("write")]

    def css_class(self, calendar_id: uuid.UUID) -> str:
        return "c-" + calendar_id.hex

    def shown_query(self) -> list[tuple[str, str]]:
        """The ``cal`` parameters that keep the choice of calendars in a link (none: all)."""
        if len(self.shown) == len(self.calendars):
            return []
        return [("cal", "")] + [("cal", str(c)) for c in self.shown]


async def viewer(db: AsyncSession, principal: Principal, request: Request | None = None) -> Viewer:
    calendars = await agenda.calendars(db, principal)
    ids = [c.id for c in calendars]
    shown = ids
    if request is not None and "cal" in request.query_params:
        asked = set()
        for value in request.query_params.getlist("cal"):
            if not value:  # the form's empty marker: every box may be unticked
                continue
            try:
                asked.add(uuid.UUID(value))
            except ValueError:
                raise Invalid(_("Invalid identifier.")) from None
        shown = [i for i in ids if i in asked]
    return Viewer(principal, calendars, shown, await agenda.viewer_zone(db, principal))


def day_param(request: Request, zone: ZoneInfo) -> date:
    """The ``date`` parameter of a view (today in the viewer's zone when absent)."""
    value = request.query_params.get("date", "")
    if not value:
        return datetime.now(zone).date()
    return parse_date(value)


def parse_date(value: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(_("Give the date as YYYY-MM-DD.")) from None
    if not 1900 <= day.year <= 2200:
        raise Invalid(_("Give a date between the years 1900 and 2200."))
    return day


def parse_time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(_("Give the time as HH:MM.")) from None


@dataclass(frozen=True)
class Span:
    """The days a view covers: [first, last] and the dates of its previous and next page."""

    first: date
    last: date
    previous: date
    next: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return at_midnight(self.first, zone), at_midnight(self.last + timedelta(days=1), zone)


def span(view: str, day: date) -> Span:
    if view == "day":
        return Span(day, day, day - timedelta(days=1), day + timedelta(days=1))
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return Span(monday, monday + timedelta(days=6), monday - timedelta(days=7), monday + timedelta(days=7))
    if view == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        start = first - timedelta(days=first.weekday())
        end = following - timedelta(days=1)
        end += timedelta(days=6 - end.weekday())
        return Span(start, end, (first - timedelta(days=1)).replace(day=1), following)
    return Span(
        day, day + timedelta(days=LIST_DAYS - 1), day - timedelta(days=LIST_DAYS), day + timedelta(days=LIST_DAYS)
    )


def at_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def view_url(view: str, day: date, viewer: Viewer) -> str:
    return f"/calendar/{view}?" + urlencode([("date", day.isoformat()), *viewer.shown_query()])


# --- words -------------------------------------------------------------------------------------


def long_day(day: date) -> str:
    return format_date(day, "full", locale=get_language())


def short_day(day: date) -> str:
    return format_date(day, "EEE d MMM", locale=get_language())


def column_day(day: date) -> str:
    """A week column's heading: « lun. 1 »."""
    return format_date(day, "EEE d", locale=get_language())


def month_title(day: date) -> str:
    return format_date(day, "LLLL y", locale=get_language())


def clock(moment: datetime | time) -> str:
    return format_time(moment, "HH:mm", locale=get_language())


def weekday_names() -> list[str]:
    monday = date(2024, 1, 1)
    return [format_date(monday + timedelta(days=n), "EEEE", locale=get_language()) for n in range(7)]


def occurrence_when(o: agenda.Occurrence) -> str:
    """« lundi 1 mars 2027, 09:00 – 10:30 », or the days of an all-day event."""
    if o.all_day:
        last = (o.end - timedelta(days=1)).date()
        if last <= o.start.date():
            return long_day(o.start.date())
        return _("%(first)s to %(last)s", first=long_day(o.start.date()), last=long_day(last))
    if o.start.date() == o.end.date():
        return f"{long_day(o.start.date())}, {clock(o.start)} – {clock(o.end)}"
    return f"{long_day(o.start.date())} {clock(o.start)} – {long_day(o.end.date())} {clock(o.end)}"


# --- the day grid --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A timed occurrence's piece in one day's grid: its row (1-based half-hour), its
    height in half-hours, and its lane among those it overlaps."""

    occurrence: agenda.Occurrence
    row: int
    rows: int
    lane: int
    lanes: int
    starts_before: bool
    ends_after: bool


def place(day: date, occurrences: list[agenda.Occurrence], zone: ZoneInfo) -> list[Placed]:
    """The timed occurrences that fall in ``day``, each with its place in the grid."""
    start, end = at_midnight(day, zone), at_midnight(day + timedelta(days=1), zone)
    pieces = []
    for o in occurrences:
        if o.all_day or o.end <= start or o.start >= end or (o.start == o.end and o.start < start):
            continue
        first, last = max(o.start, start), min(max(o.end, o.start + timedelta(minutes=SLOT_MINUTES)), end)
        minutes = int((first - start).total_seconds() // 60)
        length = max(1, int((last - first).total_seconds() + SLOT_MINUTES * 60 - 1) // (SLOT_MINUTES * 60))
        row = min(SLOTS, minutes // SLOT_MINUTES + 1)
        pieces.append((o, row, min(length, SLOTS - row + 1), o.start < start, o.end > end))
    pieces.sort(key=lambda p: (p[1], -p[2]))
    placed: list[Placed] = []
    cluster: list[tuple[int, int, int]] = []  # (index in placed, lane, last row) of the open group
    cluster_end = 0
    for o, row, rows, before, after in pieces:
        if row >= cluster_end:
            cluster, cluster_end = [], 0
        used = {lane for _i, lane, last in cluster if last > row}
        lane = next(n for n in range(MAX_LANES + 1) if n not in used or n == MAX_LANES - 1)
        lane = min(lane, MAX_LANES - 1)
        placed.append(Placed(o, row, rows, lane, 1, before, after))
        cluster.append((len(placed) - 1, lane, row + rows))
        cluster_end = max(cluster_end, row + rows)
        lanes = min(MAX_LANES, max(lane for _i, lane, _l in cluster) + 1)
        for index, _lane, _last in cluster:
            p = placed[index]
            placed[index] = Placed(p.occurrence, p.row, p.rows, p.lane, lanes, p.starts_before, p.ends_after)
    return placed


def all_day_on(day: date, occurrences: list[agenda.Occurrence]) -> list[agenda.Occurrence]:
    return [o for o in occurrences if o.all_day and o.start.date() <= day < o.end.date()]


def on_day(day: date, occurrences: list[agenda.Occurrence]) -> list[agenda.Occurrence]:
    """Every occurrence that shows on ``day`` (all-day ones first)."""
    timed = [o for o in occurrences if not o.all_day and o.start.date() <= day <= o.end.date()]
    timed = [o for o in timed if not (o.end.date() == day and o.end.time() == time() and o.start.date() < day)]
    return all_day_on(day, occurrences) + timed
