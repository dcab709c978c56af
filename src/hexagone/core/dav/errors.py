"""Errors of a DAV layer: an HTTP status, and for preconditions the element that names
the condition (RFC 4918 16, RFC 4791 1.3), written into a ``DAV:error`` body with a
translated explanation for people reading logs."""

from __future__ import annotations

from starlette.responses import Response

from hexagone.core.dav import xml


class DavError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        condition: str | None = None,
        inner: str = "",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.condition = condition  # Clark name of the precondition element
        self.inner = inner  # what goes inside the condition element (e.g. an href)
        self.headers = headers or {}

    def response(self) -> Response:
        if self.condition is None:
            return Response(
                self.message + "\n",
                status_code=self.status,
                media_type="text/plain; charset=utf-8",
                headers=self.headers,
            )
        body = xml.element(self.condition, self.inner) + xml.element(
            xml.tag(xml.HEXAGONE, "message"), xml.text(self.message)
        )
        return Response(
            xml.document(xml.element(xml.tag(xml.DAV, "error"), body)),
            status_code=self.status,
            media_type=xml.XML_TYPE,
            headers=self.headers,
        )
