"""Files sent in conversations: uploaded to a conversation (then sent by naming them in a
post's ``attachments``), downloaded whole or by range, their previews, and a copy saved
into the caller's drive."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from hexagone.chat import service
from hexagone.chat.api.common import AttachmentOut, errors
from hexagone.chat.service.limits import posting_allowed
from hexagone.core import downloads
from hexagone.core.api import CurrentPrincipal, RangeHeader, line, session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

router = APIRouter(tags=["chat"])


@router.post(
    "/channels/{channel_id}/files",
    status_code=201,
    response_model=AttachmentOut,
    responses=errors(400, 429),
    summary="Upload a file to send in the conversation (within a day, by naming it in a post's attachments)",
    description=f"The request's body is the file's bytes (at most {service.MAX_SIZE >> 20} MB); its "
    "Content-Type may name the file's own type (image/png…), application/octet-stream when unknown. The name is "
    "mended to one a drive can hold.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}},
        }
    },
)
async def upload(
    principal: CurrentPrincipal,
    channel_id: uuid.UUID,
    request: Request,
    name: line(1000),  # type: ignore[valid-type]
) -> AttachmentOut:
    content_type = request.headers.get("content-type")  # the body's, not a parameter of its own
    posting_allowed(principal)  # files count as posts: no flood of uploads either
    try:
        sent = await service.upload_file(principal, channel_id, name, content_type, request.stream())
    except (ClientDisconnect, ConnectionResetError):
        raise Invalid(_("The upload ended before the whole file came.")) from None
    return AttachmentOut.model_validate(sent.as_json())


async def send(principal: CurrentPrincipal, file_id: uuid.UUID, range_header: str | None, *, preview: bool) -> Response:
    """The file (a download, named) or its preview (shown inline), for whoever may read
    its conversation; the pages answer with it too."""
    async with session(principal) as db:
        opened = await service.open_file(db, principal, file_id, preview=preview)
    name = None if preview else opened.info.name
    return await downloads.answer(opened.size, opened.content_type, opened.read, range_header, name=name)


@router.get(
    "/files/{file_id}",
    response_class=Response,
    responses={
        **errors(416),
        200: {"content": {"application/octet-stream": {}}, "description": "The whole file."},
        206: {"content": {"application/octet-stream": {}}, "description": "The byte range asked for."},
    },
    summary="A file sent in a conversation, whole or the range asked for",
)
async def download(principal: CurrentPrincipal, file_id: uuid.UUID, range_: RangeHeader = None) -> Response:
    return await send(principal, file_id, range_, preview=False)


@router.get(
    "/files/{file_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "A PNG of at most 512 pixels a side."}},
    summary="A file's preview (pictures, PDFs)",
)
async def preview(principal: CurrentPrincipal, file_id: uuid.UUID, range_: RangeHeader = None) -> Response:
    return await send(principal, file_id, range_, preview=True)


class SavedOut(BaseModel):
    id: uuid.UUID = Field(description="The new file in the caller's drive.")
    name: str = Field(description="Its name there (numbered when the name was taken).")


@router.post(
    "/files/{file_id}/drive",
    status_code=201,
    response_model=SavedOut,
    responses=errors(507),
    summary="Save a file of a conversation into the caller's own drive",
)
async def save_to_drive(principal: CurrentPrincipal, file_id: uuid.UUID) -> SavedOut:
    saved = await service.save_to_drive(principal, file_id)
    return SavedOut(id=saved.id, name=saved.name)
