"""Files sent in conversations: uploaded to a conversation (then sent by naming them in a
post's ``attachments``), downloaded whole or by range, and their previews."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Header, UploadFile
from fastapi.responses import Response

from hexagone.chat import service
from hexagone.chat.api.common import AttachmentOut, errors
from hexagone.core import downloads
from hexagone.core.api import CurrentPrincipal, session
from hexagone.core.forms import pieces

router = APIRouter(tags=["chat"])


@router.post(
    "/channels/{channel_id}/files",
    status_code=201,
    response_model=AttachmentOut,
    responses=errors(400),
    summary="Upload a file to send in the conversation (within a day, by naming it in a post's attachments)",
)
async def upload(
    principal: CurrentPrincipal,
    channel_id: uuid.UUID,
    file: Annotated[UploadFile, File(description=f"At most {service.MAX_SIZE >> 20} MB.")],
) -> AttachmentOut:
    sent = await service.upload_file(principal, channel_id, file.filename or "", file.content_type, pieces(file))
    return AttachmentOut.model_validate(sent.as_json())


RangeHeader = Annotated[str | None, Header(alias="range", description="bytes=a-b, bytes=a- or bytes=-n")]


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
