"""What every HTML page of every module shares: the page rendered in the shell with the
standard feedback, the forms that change things, and the pages of a long list.

Feedback: a page shows either the message of the action that failed (a
:class:`ServiceError`, with its status) or the *notice* of the change that led to it
(``?done=<key>``, Post/Redirect/Get). Each module registers the texts of its notices
with :func:`notices` when it is imported, so the core never knows any module's words.

Forms: :func:`submit` runs a service action from a posted form in one transaction, then
redirects with a notice, or shows the page again with the error a person can correct. A
missing object (NotFound) is not caught: it becomes the 404 page, so that an id of
another organisation looks exactly like an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hexagone.core import templating
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, ServiceError
from hexagone.core.formatting import human_size, when
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.web import Endpoint, principal_of, safe_next

# (session, acting principal, posted form, the route's path parameters) -> the redirect.
Action = Callable[[AsyncSession, Principal, FormData, Mapping[str, Any]], Awaitable[Response]]
Page = Callable[[Request, ServiceError | None], Awaitable[Response]]
Guard = Callable[[Endpoint], Endpoint]
# Errors a person can correct on the same page; the others have their own error page.
FORM_ERRORS = (Invalid, Conflict, Forbidden)
MAX_PAGE = 10_000

_notices: dict[str, str] = {}


def notices(texts: Mapping[str, str]) -> None:
    """Register notices: ``{"alias_added": N_("The address is added.")}``, translated
    when a page shows them. A key already registered with another text is a mistake of
    the module that registers it second (it would change the other module's notice)."""
    for key, text in texts.items():
        if _notices.setdefault(key, text) != text:
            raise ValueError(f"the notice {key!r} is already registered with another text")


def notice_for(request: Request) -> str | None:
    """The translated notice named by the request's ``done`` parameter, if any."""
    text = _notices.get(request.query_params.get("done", ""))
    return _(text) if text else None


def render(request: Request, template: str, context: dict[str, Any], error: ServiceError | None = None) -> Response:
    """A page in the shell with the standard feedback: the error of a failed action (its
    message, with its status) or the notice of the change that led here."""
    values = {
        "error": error.message if error else None,
        "notice": None if error else notice_for(request),
        "human_size": human_size,
        "when": when,
        **context,
    }
    return templating.render(request, template, values, status_code=error.status if error else 200)


def me(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required or admin_required"
    return principal


async def submit(request: Request, action: Action, page: Page) -> Response:
    """Run ``action`` on the posted form in one transaction. ``write=True``: the action
    reads then writes, so on SQLite it takes the write lock first and waits for other
    writers instead of failing; on PostgreSQL it changes nothing."""
    principal = me(request)
    form = await request.form()
    try:
        async with org_session(principal.org_id, write=True) as db:
            response = await action(db, principal, form, request.path_params)
            await db.commit()
    except FORM_ERRORS as exc:
        return await page(request, exc)
    return response


def page_or_submit(guard: Guard, action: Action, page: Page) -> Endpoint:
    """A route that shows ``page`` on GET and runs ``action`` on POST (a list with its
    create form), behind ``guard`` (``login_required``, ``admin_required``)."""

    @guard
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            return await submit(request, action, page)
        return await page(request, None)

    return endpoint


def form_endpoint(guard: Guard, action: Action, page: Page) -> Endpoint:
    """A POST-only route: ``guard`` then :func:`submit`."""

    @guard
    async def endpoint(request: Request) -> Response:
        return await submit(request, action, page)

    return endpoint


def done(path: str, notice: str, form: FormData | None = None) -> RedirectResponse:
    """Redirect after a change to ``path`` (or to the form's same-site ``next``), naming
    the notice to show there."""
    target = safe_next(field(form, "next", 1000), path) if form is not None else path
    target, hash_mark, fragment = target.partition("#")  # the notice goes in the query, before a fragment
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode({'done': notice})}{hash_mark}{fragment}", status_code=303)


def page_number(request: Request) -> int:
    """The ``page`` parameter of a list: 1 when absent, refused outside 1..MAX_PAGE (no
    one pages that far, and a huge offset would make the database scan for nothing)."""
    value = request.query_params.get("page", "")
    if not value:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise Invalid(_("The page number must be between 1 and %(n)s.", n=MAX_PAGE))
    return int(value)


@dataclass(frozen=True)
class Pager:
    """The page of a list a template shows: its number and the links to its neighbours
    ('' when there is none), which keep the list's other parameters (filters, search)."""

    number: int
    previous: str
    next: str


def pager(request: Request, number: int, *, has_next: bool) -> Pager:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "done")]

    def link(n: int) -> str:
        return f"{request.url.path}?{urlencode([*kept, ('page', str(n))])}"

    return Pager(number, link(number - 1) if number > 1 else "", link(number + 1) if has_next else "")
