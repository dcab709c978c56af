"""A form that changes the caller's own mail settings (the settings and rules pages):
the change runs in one write transaction, then the browser goes back to the page with
the change's notice; a change refused (:class:`~hexagone.core.exceptions.Invalid`)
writes nothing and shows the page again with the reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.pages import done
from hexagone.mail.web.access import Caller, caller

Change = Callable[[Caller, FormData], Awaitable[str]]
"""Makes the change (not committed) and names the notice to show after it."""


class Page(Protocol):
    """The page the form belongs to, shown again with an error."""

    async def __call__(self, request: Request, c: Caller, *, error: ServiceError | None = None) -> Response: ...


async def apply(request: Request, path: str, change: Change, page: Page) -> Response:
    """Apply ``change`` to the posted form and redirect to ``path`` with its notice, or
    show ``page`` again with the reason it was refused."""
    form = await request.form()
    try:
        async with caller(request, write=True) as c:
            notice = await change(c, form)
            await c.db.commit()
    except Invalid as exc:
        async with caller(request) as c:
            return await page(request, c, error=exc)
    return done(path, notice)
