"""The sample module's pages: the person's notes with a form to add one, and the tab it
adds to the admin console. Both are built with the core page kit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field, kept_values
from hexagone.core.i18n import N_
from hexagone.core.web import admin_required, allow_streamed_bodies, login_required
from tests.sample_module import notes

pages.notices({"sample_note_queued": N_("The note is on its way.")})
UPLOAD_PATH = "/sample/upload"


async def _notes_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        listed = await notes.list_notes(db, principal)
    typed = await kept_values(request, error, "text")
    return pages.render(request, "sample/notes.html", {"notes": listed, "typed": typed}, error)


async def _add_note(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    notes.queue_note(db, principal, field(form, "text"))
    return pages.done("/sample/", "sample_note_queued")


async def _admin_page(request: Request) -> Response:
    async with org_session(pages.me(request).org_id) as db:
        count = await notes.count_notes(db)
    return pages.render(request, "sample/admin.html", {"count": count})


@login_required
async def _count_upload(request: Request) -> Response:
    """How many bytes were posted, read as they arrive (a streamed body, § 12 of the kit)."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return JSONResponse({"bytes": size})


@login_required
async def _feed(request: Request) -> Response:
    """A page at a URL a protocol would fix outside /sample/ (one of the module's prefixes)."""
    return JSONResponse({"feed": request.path_params["name"], "user": pages.me(request).email})


allow_streamed_bodies(UPLOAD_PATH, 8 * 1024 * 1024)
# A route outside /sample/, under the prefix the descriptor declares: mounted at the root.
PREFIX_ROUTES = [Route("/sample-feeds/{name}", _feed)]

# Paths inside the module: the app mounts them under /sample/.
ROUTES = [
    Route("/upload", _count_upload, methods=["POST"]),
    Route("/", pages.page_or_submit(login_required, _add_note, _notes_page), methods=["GET", "POST"]),
    Route("/admin", admin_required(_admin_page)),
]
