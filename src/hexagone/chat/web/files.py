"""Files in the pages: sending them from the composer without JavaScript (the form's
files are uploaded before the message is posted, outside its transaction), and reading
a file or its preview (``/chat/files/<id>``, ``/chat/files/<id>/preview``) or saving it
into one's drive (``/chat/files/<id>/drive``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from hexagone.chat import service
from hexagone.chat.api.files import send
from hexagone.chat.service.limits import posting_allowed
from hexagone.chat.web import conversations
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid, RateLimited
from hexagone.core.forms import parse_uuid, pieces
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required


@login_required
async def post_message(request: Request) -> Response:
    """The composer's form: its files, then its message naming them."""
    principal = pages.me(request)
    channel_id = parse_uuid(str(request.path_params["channel_id"]))
    form = await request.form()
    chosen = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    try:
        if len(chosen) > service.MAX_PER_MESSAGE:
            raise Invalid(_("A message holds at most %(n)s files.", n=service.MAX_PER_MESSAGE))
        sent = []
        for chosen_file in chosen:
            posting_allowed(principal)  # files count as posts, as through the API
            uploaded = await service.upload_file(
                principal, channel_id, chosen_file.filename or "", chosen_file.content_type, pieces(chosen_file)
            )
            sent.append(uploaded.id)
    except (*pages.FORM_ERRORS, RateLimited) as error:
        return await conversations.post_page(request, error)

    async def with_files(db: AsyncSession, who: Principal, posted: FormData, params: Mapping[str, Any]) -> Response:
        return await conversations.post_message(db, who, posted, params, files=sent)

    return await pages.submit(request, with_files, conversations.post_page)


def _file_id(request: Request) -> uuid.UUID:
    return parse_uuid(str(request.path_params["file_id"]))


@login_required
async def download(request: Request) -> Response:
    return await send(pages.me(request), _file_id(request), request.headers.get("range"), preview=False)


@login_required
async def preview(request: Request) -> Response:
    return await send(pages.me(request), _file_id(request), request.headers.get("range"), preview=True)


@login_required
async def save_to_drive(request: Request) -> Response:
    """The reader's own copy in their drive, back to the conversation (or the form's
    ``next``) with a notice."""
    principal = pages.me(request)
    form = await request.form()
    await service.save_to_drive(principal, _file_id(request))
    return pages.done("/chat/", "chat_saved_to_drive", form)
