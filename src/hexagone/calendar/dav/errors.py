"""Errors of the DAV layer: an HTTP status, and for CalDAV/CardDAV/WebDAV preconditions
the element that names the condition (RFC 4918 16, RFC 4791 1.3), written into a
``DAV:error`` body with a translated explanation for people reading logs."""

from __future__ import annotations

from starlette.responses import Response

from hexagone.calendar import ical
from hexagone.calendar.dav import xml
from hexagone.core.i18n import _


class DavError(Exception):
    def __init__(self, status: int, message: str, condition: str | None = None, inner: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.condition = condition  # Clark name of the precondition element
        self.inner = inner  # what goes inside the condition element (e.g. an href)

    def response(self) -> Response:
        if self.condition is None:
            return Response(self.message + "\n", status_code=self.status, media_type="text/plain; charset=utf-8")
        body = xml.element(self.condition, self.inner) + xml.element(
            xml.tag(xml.HEXAGONE, "message"), xml.text(self.message)
        )
        return Response(
            xml.document(xml.element(xml.tag(xml.DAV, "error"), body)), status_code=self.status, media_type=xml.XML_TYPE
        )


def too_many_instances() -> DavError:
    """Expanding a recurrence over the asked range would exceed the server's cap."""
    return DavError(
        403,
        _("The range holds more than {count} occurrences: ask for a shorter one.").format(count=ical.MAX_INSTANCES),
        xml.tag(xml.CALDAV, "max-instances"),
    )
