"""tus 1.0 resumable uploads at ``/api/v1/drive/uploads`` (https://tus.io/protocols/resumable-upload):
the core protocol and its creation, termination and expiration extensions.

``POST`` with ``Upload-Length`` and ``Upload-Metadata`` (``filename``, ``folder`` — the
folder's id — and optionally ``onconflict``: error, rename (the default) or replace)
checks the folder, the name, the locks and the room left, and answers the upload's
address; ``HEAD`` there gives the offset reached; ``PATCH`` with
``application/offset+octet-stream`` adds the bytes at ``Upload-Offset``; ``DELETE``
gives up. The last ``PATCH`` stores the file through the service (versions, quota,
locks and ETags as for any upload) and names it in ``Hexagone-Node-Id``. The bodies are
streamed (:func:`hexagone.core.web.allow_streamed_bodies`), never held whole.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from starlette.requests import ClientDisconnect

from hexagone.core.api import CurrentPrincipal
from hexagone.core.config import get_settings
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import allow_streamed_bodies
from hexagone.drive import service
from hexagone.drive.api.common import errors

PREFIX = "/api/v1/drive/uploads"
VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
CONTENT_TYPE = "application/offset+octet-stream"

router = APIRouter(tags=["drive uploads (tus)"])
allow_streamed_bodies(PREFIX, get_settings().drive_max_upload_bytes + (1 << 20))


def _tus(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **(extra or {})}


def _expires(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def _resumable(value: str | None) -> None:
    if value != VERSION:
        raise HTTPException(412, _("This server speaks tus 1.0.0."), headers={"Tus-Version": VERSION})


def metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (a key alone has an empty value)."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _sep, value = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Invalid(_("Upload-Metadata: the value of “%(key)s” is not base64 of UTF-8 text.", key=key)) from None
    return found


@router.options("/uploads", status_code=204, summary="What this tus server supports")
async def discover() -> Response:
    return Response(
        status_code=204,
        headers=_tus(
            {
                "Tus-Version": VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(get_settings().drive_max_upload_bytes),
            }
        ),
    )


@router.post(
    "/uploads",
    status_code=201,
    responses=errors(400, 409, 412, 413, 423, 507),
    summary="Begin an upload (tus creation): Upload-Length and Upload-Metadata (filename, folder)",
)
async def create(
    principal: CurrentPrincipal,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_length: Annotated[int | None, Header(ge=0)] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
) -> Response:
    _resumable(tus_resumable)
    if upload_length is None:
        raise Invalid(_("Upload-Length is required (deferred lengths are not supported)."))
    if upload_length > get_settings().drive_max_upload_bytes:
        raise HTTPException(413, _("The file is larger than the largest file the drive takes."), headers=_tus())
    meta = metadata(upload_metadata)
    name = meta.get("filename") or meta.get("name") or ""
    try:
        folder_id = uuid.UUID(meta.get("folder", ""))
    except ValueError:
        raise Invalid(_("Upload-Metadata must name the folder (its id) the file goes to.")) from None
    started = await service.start_upload(
        principal, folder_id, name, upload_length, on_conflict=meta.get("onconflict", "rename")
    )
    headers = _tus({"Location": f"{PREFIX}/{started.id}", "Upload-Expires": _expires(started.expires_at)})
    if started.node is not None:
        headers["Hexagone-Node-Id"] = str(started.node.id)
    return Response(status_code=201, headers=headers)


@router.head("/uploads/{upload_id}", summary="How far an upload has come (Upload-Offset)")
async def offset(principal: CurrentPrincipal, upload_id: uuid.UUID) -> Response:
    found = await service.upload_state(principal, upload_id)
    return Response(
        status_code=200,
        headers=_tus(
            {
                "Upload-Offset": str(found.offset),
                "Upload-Length": str(found.length),
                "Upload-Expires": _expires(found.expires_at),
            }
        ),
    )


@router.patch(
    "/uploads/{upload_id}",
    status_code=204,
    responses=errors(400, 409, 411, 412, 413, 415, 423, 507),
    summary="Add bytes at Upload-Offset (application/offset+octet-stream)",
    openapi_extra={
        "requestBody": {"required": True, "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def append(
    principal: CurrentPrincipal,
    upload_id: uuid.UUID,
    request: Request,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_offset: Annotated[int | None, Header(ge=0)] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> Response:
    _resumable(tus_resumable)
    if (content_type or "").split(";")[0].strip().lower() != CONTENT_TYPE:
        raise HTTPException(415, _("A tus PATCH sends application/offset+octet-stream."), headers=_tus())
    if upload_offset is None:
        raise Invalid(_("Upload-Offset is required."))
    if content_length is None:
        raise HTTPException(411, _("Content-Length is required."), headers=_tus())
    try:
        found = await service.append_upload(principal, upload_id, upload_offset, content_length, request.stream())
    except (ClientDisconnect, ConnectionResetError):
        raise Invalid(_("The request ended before its Content-Length: ask for the offset and send the rest.")) from None
    headers = _tus({"Upload-Offset": str(found.offset), "Upload-Expires": _expires(found.expires_at)})
    if found.node is not None:
        headers["Hexagone-Node-Id"] = str(found.node.id)
    return Response(status_code=204, headers=headers)


@router.delete(
    "/uploads/{upload_id}", status_code=204, responses=errors(409, 412), summary="Give up an upload (tus termination)"
)
async def terminate(
    principal: CurrentPrincipal, upload_id: uuid.UUID, tus_resumable: Annotated[str | None, Header()] = None
) -> Response:
    _resumable(tus_resumable)
    await service.cancel_upload(principal, upload_id)
    return Response(status_code=204, headers=_tus())
