"""Numbers and dates as people read them, in the page's language; every page's
templates receive these under the same names (see :func:`hexagone.core.pages.render`)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

from hexagone.core.db import utcnow
from hexagone.core.i18n import get_language
from hexagone.core.i18n import gettext as _

KiB = 1024


def human_size(size: int) -> str:
    """Bytes for people, in the page's language (« 1,5 Mo », "1.5 MB")."""
    units = [_("%(n)s bytes"), _("%(n)s KB"), _("%(n)s MB"), _("%(n)s GB"), _("%(n)s TB")]
    value = float(size)
    for unit in units[:-1]:  # noqa: B007 - the unit the loop stops at is used below
        if value < KiB:
            break
        value /= KiB
    else:
        unit = units[-1]
    return unit % {"n": format_decimal(value, format="#,##0.#", locale=get_language())}


def when(moment: datetime | None, *, full: bool = False) -> str:
    """A date as people read it: the time for today, the date otherwise (UTC; the page's
    script shows it in the reader's own time zone)."""
    if moment is None:
        return ""
    lang = get_language()
    if full:
        return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=lang) + " UTC"
    if moment.date() == utcnow().date():
        return _time_label(moment.replace(second=0, microsecond=0), lang)
    return _date_label(moment.date(), lang)


# A list page formats the same few dates row after row, and babel takes 20-25 µs a date:
# the labels are kept (a short time depends on the minute alone, a date on the day).
@lru_cache(maxsize=4096)
def _time_label(minute: datetime, lang: str) -> str:
    return format_time(minute, "short", tzinfo=minute.tzinfo, locale=lang)


@lru_cache(maxsize=4096)
def _date_label(day: date, lang: str) -> str:
    return format_date(day, "medium", locale=lang)


def exact_size(size: int) -> str:
    """Bytes in the largest unit that keeps them exact (« 10 Go », "1536 MB"), for a
    form field a person may send back unchanged (:func:`hexagone.core.forms.size`)."""
    units = [_("%(n)s TB"), _("%(n)s GB"), _("%(n)s MB"), _("%(n)s KB")]
    for power, unit in zip(range(4, 0, -1), units, strict=True):
        if size and size % KiB**power == 0:
            return unit % {"n": size // KiB**power}
    return _("%(n)s bytes") % {"n": size}
