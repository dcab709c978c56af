"""What the mail admin pages share: run an action from a posted form in one transaction
then redirect with a notice, or show the page again with the service's message and its
status (Post/Redirect/Get), the same way the identity admin console does.

(The identity console's helpers live in ``identity.web``, which the layering rule keeps
other modules out of; this is the mail module's own small copy of that contract.)

A missing object (NotFound) is not caught: it becomes the 404 page, so that an id of
another organisation looks exactly like an id that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hexagone.core import templating
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, ServiceError
from hexagone.core.i18n import get_language
from hexagone.core.i18n import gettext as _
from hexagone.core.web import Endpoint, admin_required, principal_of

Action = Callable[[AsyncSession, Principal, FormData, Mapping[str, Any]], Awaitable[Response]]
Page = Callable[[Request, ServiceError | None], Awaitable[Response]]
FORM_ERRORS = (Invalid, Conflict, Forbidden)
KiB = 1024


def me(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None, "the route is behind admin_required"
    return principal


def field(form: FormData, name: str, max_length: int = 2000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise Invalid(_("The field %(name)s must be text.", name=name))
    if len(value) > max_length:
        raise Invalid(_("The field %(name)s is too long.", name=name))
    return value


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(_("Invalid identifier.")) from None


async def upload(form: FormData, name: str, limit: int) -> bytes | None:
    """The bytes of an uploaded file (None when no file was chosen)."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise Invalid(_("The file is too large."))
    return data


async def submit(request: Request, action: Action, page: Page) -> Response:
    principal = me(request)
    form = await request.form()
    try:
        async with org_session(principal.org_id, write=True) as db:
            response = await action(db, principal, form, request.path_params)
            await db.commit()
    except FORM_ERRORS as exc:
        return await page(request, exc)
    return response


def page_or_submit(action: Action, page: Page) -> Endpoint:
    """A page shown on GET that runs ``action`` on POST (a list with its create form)."""

    @admin_required
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            return await submit(request, action, page)
        return await page(request, None)

    return endpoint


def form_endpoint(action: Action, page: Page) -> Endpoint:
    """A POST-only admin route."""

    @admin_required
    async def endpoint(request: Request) -> Response:
        return await submit(request, action, page)

    return endpoint


def done(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': notice})}", status_code=303)


def _notices() -> dict[str, str]:
    return {
        "alias_added": _("The address is added."),
        "alias_removed": _("The address is removed."),
        "shared_created": _("The shared mailbox is created."),
        "member_set": _("The member's access is saved."),
        "member_removed": _("The member no longer has access."),
        "quota_saved": _("The quota is saved."),
        "import_queued": _("The import is queued: its progress shows below."),
    }


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


def render(request: Request, template: str, context: dict[str, Any], error: ServiceError | None = None) -> Response:
    values = {
        "error": error.message if error else None,
        "notice": None if error else _notices().get(request.query_params.get("done", "")),
        "human_size": human_size,
        **context,
    }
    return templating.render(request, template, values, status_code=error.status if error else 200)
