"""Errors as pages or JSON, in the user's language, never with a stack trace."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hexagone.core import i18n, templating
from hexagone.core.exceptions import ServiceError
from hexagone.core.failures import log_failure
from hexagone.core.tenancy import CrossOrganisationWrite
from hexagone.core.web import wants_json

log = logging.getLogger("hexagone.errors")


def _titles() -> dict[int, str]:
    _ = i18n.gettext
    return {
        400: _("The request could not be understood."),
        401: _("You need to sign in."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist, or you cannot see it."),
        405: _("This action is not available here."),
        413: _("What you sent is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Wait a few minutes and try again."),
        500: _("Something went wrong on our side. The team has been told."),
    }


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    message = detail or _titles().get(status) or _titles()[400]
    if wants_json(request.scope):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return templating.render(request, "core/error.html", {"status": status, "message": message}, status_code=status)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.detail and exc.detail not in _STARLETTE_DEFAULTS else None
    )
    response = error_page(request, exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, CrossOrganisationWrite):
        log.warning("cross-organisation write refused on %s: %s", request.url.path, exc)
        return error_page(request, 404)
    log_failure(log, f"{request.method} {request.url.path}", exc)  # never the text: SQL and its values
    return error_page(request, 500)


_STARLETTE_DEFAULTS = {"Not Found", "Method Not Allowed", "Bad Request", "Forbidden", "Unauthorized"}


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_page(request, exc.status, exc.message)


def install_error_handlers(app: Starlette) -> None:
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(Exception, _unexpected)
