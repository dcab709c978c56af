"""The drive's pages, just enough to use the service from a browser: a folder's listing
with its breadcrumb, a form to upload a file and one to make a folder, and a download
link. ``/drive/`` is the person's own drive, ``/drive/spaces/<space id>/`` a space's,
``/drive/folders/<id>`` any folder they reach, ``/drive/files/<id>`` a file's content.

An upload is read from the multipart body, which Starlette spools to disk beyond a
megabyte, and handed to :func:`~hexagone.drive.service.store` a megabyte at a time: the
file is never held whole in memory. Uploads go to one path, ``/drive/upload``, so that
the larger body limit they need applies there and nowhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, parse_uuid, required_uuid
from hexagone.core.i18n import N_
from hexagone.core.i18n import gettext as _
from hexagone.core.web import allow_streamed_bodies, login_required
from hexagone.drive import service

UPLOAD_PATH = "/drive/upload"
PAGE_SIZE = 200
PIECE = 1 << 20

allow_streamed_bodies(UPLOAD_PATH, get_settings().drive_max_upload_bytes + (1 << 20))
pages.notices(
    {
        "drive_uploaded": N_("The file is uploaded."),
        "drive_folder_made": N_("The folder is made."),
    }
)


async def _folder_page(request: Request, folder_id: uuid.UUID, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    number = pages.page_number(request)
    async with org_session(principal.org_id) as db:
        drives = await service.drives(db, principal)
        listing = await service.list_folder(db, principal, folder_id, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        crumbs = await service.path_of(db, principal, folder_id)
    drive = next((d for d in drives if d.id == listing.folder.drive_id), None)
    context = {
        "drives": drives,
        "drive": drive,
        "listing": listing,
        "crumbs": crumbs,
        "pager": pages.pager(request, number, has_next=listing.has_more),
    }
    return pages.render(request, "drive/folder.html", context, error)


@login_required
async def home(request: Request) -> Response:
    """The person's own drive; a guest, who has none, sees the list of their spaces' drives."""
    principal = pages.me(request)
    if principal.is_guest:
        async with org_session(principal.org_id) as db:
            drives = await service.drives(db, principal)
        return pages.render(request, "drive/drives.html", {"drives": drives})
    root = await _root_of(
        principal, lambda d: d.owner_id == principal.user_id, lambda db: service.drive_of_user(db, principal)
    )
    return await _folder_page(request, root)


async def _root_of(
    principal: Principal,
    pick: Callable[[service.DriveInfo], bool],
    make: Callable[[AsyncSession], Awaitable[service.DriveInfo]],
) -> uuid.UUID:
    """The root of the drive ``pick`` chooses among the principal's, made by ``make`` in a
    write transaction the first time only: a page view otherwise only reads (on SQLite a
    write transaction would make every other writer wait)."""
    async with org_session(principal.org_id) as db:
        found = next((d for d in await service.drives(db, principal) if pick(d)), None)
    if found is None:
        async with org_session(principal.org_id, write=True) as db:
            found = await make(db)
            await db.commit()
    return found.root_id


@login_required
async def space_home(request: Request) -> Response:
    principal = pages.me(request)
    space_id = parse_uuid(request.path_params["space_id"])
    root = await _root_of(
        principal, lambda d: d.space_id == space_id, lambda db: service.drive_of_space(db, principal, space_id)
    )
    return await _folder_page(request, root)


@login_required
async def folder(request: Request) -> Response:
    return await _folder_page(request, parse_uuid(request.path_params["folder_id"]))


def _folder_url(folder_id: uuid.UUID) -> str:
    return f"/drive/folders/{folder_id}"


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(PIECE):
        yield chunk


@login_required
async def upload(request: Request) -> Response:
    """Store the chosen file in the folder the form names, renaming it "name (2).ext" when
    the name is taken; the folder's page shows the service's refusal otherwise."""
    principal = pages.me(request)
    async with request.form(max_files=1) as form:
        folder_id = required_uuid(form, "folder_id")
        chosen = form.get("file")
        try:
            if not isinstance(chosen, UploadFile) or not chosen.filename:
                raise Invalid(_("Choose a file to upload."))
            await service.store(principal, folder_id, chosen.filename, _chunks(chosen), overwrite=False, rename=True)
        except ServiceError as error:
            if error.status == 404:
                raise
            return await _folder_page(request, folder_id, error)
    return pages.done(_folder_url(folder_id), "drive_uploaded")


async def _make_folder(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    folder_id = parse_uuid(params["folder_id"])
    await service.create_folder(db, principal, folder_id, field(form, "name", 1000))
    return pages.done(_folder_url(folder_id), "drive_folder_made")


async def _make_folder_page(request: Request, error: ServiceError | None = None) -> Response:
    return await _folder_page(request, parse_uuid(request.path_params["folder_id"]), error)


def _disposition(name: str) -> str:
    """``attachment`` with the name for every browser: an ASCII fallback and RFC 6266's UTF-8 form."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@login_required
async def download(request: Request) -> Response:
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    async with org_session(principal.org_id, write=True) as db:
        found, stream = await service.open(db, principal, node_id)
        await service.mark_recent(db, principal, node_id)
        await db.commit()
    headers = {
        "content-disposition": _disposition(found.name),
        "content-length": str(found.size),
        "etag": f'"{found.etag}"',
        "cache-control": "private, no-cache",
        "x-content-type-options": "nosniff",
    }
    return StreamingResponse(stream, media_type=found.content_type or "application/octet-stream", headers=headers)


@login_required
async def spaces_index(_request: Request) -> Response:
    return RedirectResponse("/drive/", status_code=303)


# Paths inside the module: the app mounts them under /drive/.
ROUTES = [
    Route("/", home),
    Route("/spaces/", spaces_index),
    Route("/spaces/{space_id}/", space_home),
    Route("/folders/{folder_id}", folder),
    Route(
        "/folders/{folder_id}/folders",
        pages.form_endpoint(login_required, _make_folder, _make_folder_page),
        methods=["POST"],
    ),
    Route("/upload", upload, methods=["POST"]),
    Route("/files/{node_id}", download),
]
