"""Moments of occurrences compared across zones: an iCalendar date or time as UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def as_utc(moment: date | datetime) -> datetime:
    """An occurrence's bound in UTC: a date is the start of that day in UTC, a floating
    time is read as UTC (the server has no viewer's zone to read it in)."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), tzinfo=UTC)
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
