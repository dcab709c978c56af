"""What the pages that change things (the admin console, spaces) share: run a service
action from a posted form in one transaction, then redirect with a notice — or show the
page again with the service's message and its status (Post/Redirect/Get).

A missing object (NotFound) is not caught: it becomes the 404 page, so that an id of
another organisation looks exactly like an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hexagone.core import templating
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.core.web import Endpoint, principal_of, safe_next
from hexagone.identity.models import OrgRole, SpaceRole
from hexagone.identity.web.forms import field

# (session, acting principal, posted form, the route's path parameters) -> the redirect.
Action = Callable[[AsyncSession, Principal, FormData, Mapping[str, Any]], Awaitable[Response]]
Page = Callable[[Request, ServiceError | None], Awaitable[Response]]
Guard = Callable[[Endpoint], Endpoint]
# Errors a person can correct on the same page; the others have their own error page.
FORM_ERRORS = (Invalid, Conflict, Forbidden)


def me(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required or admin_required"
    return principal


async def submit(request: Request, action: Action, page: Page) -> Response:
    principal = me(request)
    form = await request.form()
    try:
        async with org_session(principal.org_id) as db:
            response = await action(db, principal, form, request.path_params)
            await db.commit()
    except FORM_ERRORS as exc:
        return await page(request, exc)
    return response


async def page_or_submit(request: Request, action: Action, page: Page) -> Response:
    """A page that shows on GET and runs ``action`` on POST (a list with its create form)."""
    if request.method == "POST":
        return await submit(request, action, page)
    return await page(request, None)


def form_endpoint(guard: Guard, action: Action, page: Page) -> Endpoint:
    """A POST-only route: ``guard`` (login_required, admin_required) then :func:`submit`."""

    @guard
    async def endpoint(request: Request) -> Response:
        return await submit(request, action, page)

    return endpoint


def done(path: str, notice: str, form: FormData | None = None) -> RedirectResponse:
    """Redirect after a change to ``path`` (or to the form's same-site ``next``), naming
    the notice to show there."""
    target = safe_next(field(form, "next", 500), path) if form is not None else path
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode({'done': notice})}", status_code=303)


def _notices() -> dict[str, str]:
    return {
        "saved": _("Saved."),
        "created": _("Created."),
        "added": _("Added."),
        "removed": _("Removed."),
        "enabled": _("The account is enabled."),
        "disabled": _("The account is disabled: its sessions are closed."),
        "mfa_reset": _("Two-step verification is reset: the person will set it up again."),
        "role_changed": _("The role is changed."),
        "link_sent": _("A link to choose a password has been sent."),
        "invited": _("The invitation has been sent."),
        "revoked": _("The invitation is revoked: its link no longer works."),
        "archived": _("The space is archived."),
        "restored": _("The space is restored."),
    }


def render(request: Request, template: str, context: dict[str, Any], error: ServiceError | None = None) -> Response:
    """A page with the standard feedback: the error of a failed action (with its status),
    or the notice of the change that led here."""
    values = {
        "error": error.message if error else None,
        "notice": None if error else _notices().get(request.query_params.get("done", "")),
        "space_roles": space_role_labels(),
        "org_roles": org_role_labels(),
        **context,
    }
    return templating.render(request, template, values, status_code=error.status if error else 200)


def space_role_labels() -> dict[str, str]:
    return {
        SpaceRole.OWNER: _("Owner"),
        SpaceRole.MANAGER: _("Manager"),
        SpaceRole.MEMBER: _("Member"),
        SpaceRole.READER: _("Reader"),
    }


def org_role_labels() -> dict[str, str]:
    return {OrgRole.ADMIN: _("Administrator"), OrgRole.USER: _("User"), OrgRole.GUEST: _("Guest")}


async def kept_values(request: Request, error: ServiceError | None, *names: str) -> dict[str, str]:
    """What the person typed, to fill the form again after an error (empty otherwise)."""
    if error is None or request.method != "POST":
        return dict.fromkeys(names, "")
    form = await request.form()
    return {name: value[:2000] if isinstance(value := form.get(name, ""), str) else "" for name in names}


async def upload(form: FormData, name: str) -> bytes | None:
    """The bytes of an uploaded file, or None when the person chose no file."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return await value.read()
