"""A folder's page and what is done from it: the listing (breadcrumb, sort by name, date
or size, paged so that a folder of 10,000 files answers as fast as one of ten), uploads,
a new folder, and the whole folder as a zip.

Uploads from the page go through tus (``/api/v1/drive/uploads``, driven by
``frontend/drive/drive.js``: drag-and-drop or the file picker, a progress bar per file,
resumed after a cut). Without JavaScript the form posts to ``/drive/upload``, whose
multipart body Starlette spools to disk beyond a megabyte and which is handed to
:func:`~hexagone.drive.service.store` a megabyte at a time: never whole in memory. That
path is the only one with the larger body limit.

The zip is written as it is sent (``zipstream-ng``): the files are read from the blob
store one after the other and never held whole, nor is the archive.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from zipstream import ZIP_STORED, ZipStream

from hexagone.core import downloads, pages
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, parse_uuid, pieces, required_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import allow_streamed_bodies, login_required
from hexagone.drive import service
from hexagone.drive.api.downloads import send_file
from hexagone.drive.web.common import folder_url, render
from hexagone.identity.service import people_by_ids

UPLOAD_PATH = "/drive/upload"
PAGE_SIZE = 200
SORTS = ("name", "modified", "size")
# A zip lists its entries first: past this many, the archive is refused (use WebDAV).
MAX_ZIP_ENTRIES = 50_000

allow_streamed_bodies(UPLOAD_PATH, get_settings().drive_max_upload_bytes + (1 << 20))


def _sorting(request: Request) -> tuple[str, bool]:
    order = request.query_params.get("sort", "name")
    if order not in SORTS:
        raise Invalid(_("Unknown sort order."))
    return order, request.query_params.get("desc", "") == "1"


async def folder_page(request: Request, folder_id: uuid.UUID, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    number = pages.page_number(request)
    order, descending = _sorting(request)
    async with org_session(principal.org_id) as db:
        listing = await service.list_folder(
            db,
            principal,
            folder_id,
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            order=order,
            descending=descending,
        )
        holders = await people_by_ids(db, {e.lock.user_id for e in listing.entries if e.lock and e.lock.user_id})
        context = {
            "listing": listing,
            "holders": {k: p.display_name or p.email for k, p in holders.items()},
            "crumbs": await service.path_of(db, principal, folder_id),
            "pager": pages.pager(request, number, has_next=listing.has_more),
            "order": order,
            "descending": descending,
        }
        return await render(request, "drive/folder.html", db, listing.folder.drive_id, context, error)


@login_required
async def home(request: Request) -> Response:
    """The person's own drive; a guest, who has none, sees the list of their spaces' drives."""
    principal = pages.me(request)
    if principal.is_guest:
        async with org_session(principal.org_id) as db:
            return await render(request, "drive/drives.html", db, None, {})
    root = await _root_of(
        principal, lambda d: d.owner_id == principal.user_id, lambda db: service.drive_of_user(db, principal)
    )
    return await folder_page(request, root)


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
    return await folder_page(request, root)


@login_required
async def folder(request: Request) -> Response:
    return await folder_page(request, parse_uuid(request.path_params["folder_id"]))


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
            await service.store(principal, folder_id, chosen.filename, pieces(chosen), overwrite=False, rename=True)
        except ServiceError as error:
            if error.status == 404:
                raise
            return await folder_page(request, folder_id, error)
    return pages.done(folder_url(folder_id), "drive_uploaded")


async def make_folder(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    folder_id = parse_uuid(params["folder_id"])
    await service.create_folder(db, principal, folder_id, field(form, "name", 1000))
    return pages.done(folder_url(folder_id), "drive_folder_made")


async def make_folder_page(request: Request, error: ServiceError | None = None) -> Response:
    return await folder_page(request, parse_uuid(request.path_params["folder_id"]), error)


@login_required
async def download(request: Request) -> Response:
    principal = pages.me(request)
    return await send_file(principal, parse_uuid(request.path_params["node_id"]), request.headers.get("range"))


async def _entries(principal: Principal, folder_id: uuid.UUID) -> tuple[str, list[tuple[str, uuid.UUID | None, int]]]:
    """The folder's name and what its zip holds: ``(path, file id, size)``, a folder as
    ``(path/, None, 0)``, walked a page at a time."""
    found: list[tuple[str, uuid.UUID | None, int]] = []
    async with org_session(principal.org_id) as db:
        top = await service.node(db, principal, folder_id)
        waiting = [(folder_id, "")]
        while waiting:
            current, prefix = waiting.pop()
            offset = 0
            while True:
                listing = await service.list_folder(db, principal, current, offset=offset, limit=1000)
                for entry in listing.entries:
                    if entry.is_folder:
                        found.append((f"{prefix}{entry.name}/", None, 0))
                        waiting.append((entry.id, f"{prefix}{entry.name}/"))
                    elif entry.abilities.get("read"):
                        found.append((f"{prefix}{entry.name}", entry.id, entry.size))
                if len(found) > MAX_ZIP_ENTRIES:
                    raise Invalid(_("This folder holds too many files for a zip: use a sync client."))
                if not listing.has_more:
                    break
                offset += len(listing.entries)
        name = top.name or (await service.drive(db, principal, top.drive_id)).name
    return name, found


def _file_chunks(loop: asyncio.AbstractEventLoop, principal: Principal, node_id: uuid.UUID) -> Iterator[bytes]:
    """A file's bytes for the zip writer, which runs in a worker thread: each read is
    handed to the event loop, so only one chunk is in hand at a time."""

    async def opened() -> AsyncIterator[bytes]:
        async with org_session(principal.org_id) as db:
            _found, stream = await service.open(db, principal, node_id)
        return stream

    stream = asyncio.run_coroutine_threadsafe(opened(), loop).result()

    async def step() -> bytes | None:
        return await anext(stream, None)

    while (chunk := asyncio.run_coroutine_threadsafe(step(), loop).result()) is not None:
        yield chunk


@login_required
async def zip_folder(request: Request) -> Response:
    principal = pages.me(request)
    folder_id = parse_uuid(request.path_params["folder_id"])
    name, entries = await _entries(principal, folder_id)
    loop = asyncio.get_running_loop()
    # Stored, not deflated (the CPU is shared; office files and media are compressed
    # already), with every size known: the archive's length is known before it is sent.
    archive = ZipStream(compress_type=ZIP_STORED, sized=True)
    for path, node_id, size in entries:
        if node_id is None:
            archive.mkdir(path)
        else:
            archive.add(_file_chunks(loop, principal, node_id), path, size=size)
    headers = {
        "content-disposition": downloads.attachment(f"{name}.zip"),
        "content-length": str(len(archive)),
        "cache-control": "private, no-cache",
    }
    return StreamingResponse(iter(archive), media_type="application/zip", headers=headers)


@login_required
async def spaces_index(_request: Request) -> Response:
    return RedirectResponse("/drive/", status_code=303)
