"""Errors a service raises for a caller's mistake; pages and the API turn them into 4xx.

The message is already translated (services run inside a request's language), so the
page or JSON body can show it as it is.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    status = 400


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class PreconditionFailed(ServiceError):
    """The caller's If-Match / If-None-Match (an ETag it last saw) no longer holds."""

    status = 412


class Locked(ServiceError):
    """The object is locked by someone else (a WebDAV lock, a document checked out)."""

    status = 423


class RateLimited(ServiceError):
    status = 429


class InsufficientStorage(ServiceError):
    """What was sent does not fit in the room left (a quota): WebDAV's 507."""

    status = 507
