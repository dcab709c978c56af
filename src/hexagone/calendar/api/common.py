"""What the calendar API's routes share: the error responses they declare, and the
caller's session."""

from __future__ import annotations

from hexagone.core.api import error_responses

DESCRIBED = {
    400: "A value is refused (a range too long, an end before the start, an unknown time zone, "
    "an address that is not one, an occurrence the event does not have); the message says why.",
    403: "The calendar may be read but not changed (a read share, a subscription, the directory).",
    409: "Another event of this calendar has the same UID.",
    412: "The event changed since the caller read it (its ETag, sent as If-Match, is stale): read it again.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The error responses of a calendar route, beside the 401/403/404 every route declares."""
    return error_responses(DESCRIBED, *statuses)
