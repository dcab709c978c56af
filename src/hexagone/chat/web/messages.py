"""What is done to one message from the pages without JavaScript: react, pin, delete,
and edit on a page of its own. With JavaScript, the same controls call the JSON API and
the change comes back live."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hexagone.chat import service
from hexagone.chat.web.common import channel_url, message_controls, render
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound, ServiceError
from hexagone.core.forms import field, kept_values, parse_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required


def _message_id(params: Mapping[str, Any]) -> uuid.UUID:
    return parse_uuid(str(params["message_id"]))


def _back_to(message: service.MessageInfo) -> str:
    """The conversation at the message (in its thread, for a reply)."""
    where = channel_url(message.channel_id) + (f"?thread={message.thread_id}" if message.thread_id else "")
    return f"{where}#m-{message.id}"


async def message_page(request: Request, error: ServiceError | None = None) -> Response:
    """A message alone, with what may be done to it: the edit form, and where refusals
    of its other controls are shown."""
    principal = pages.me(request)
    message_id = _message_id(request.path_params)
    typed = await kept_values(request, error, "text")
    async with org_session(principal.org_id) as db:
        message = await service.one(db, principal, message_id)
        info = await service.info(db, principal, message.channel_id)
        controls = message_controls(principal, info, message)
        context = {
            "channel": info,
            "message": message,
            "allowed": controls,
            "text": typed["text"] if error is not None and request.method == "POST" else message.text,
            "back": _back_to(message),
        }
        return await render(request, "chat/message.html", db, context, error, current=info.id)


@login_required
async def show(request: Request) -> Response:
    return await message_page(request)


async def edit(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    edited = await service.edit(db, principal, _message_id(params), field(form, "text", service.MAX_TEXT + 100))
    return RedirectResponse(_back_to(edited), status_code=303)


async def delete(db: AsyncSession, principal: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    message = await service.one(db, principal, _message_id(params))
    await service.delete(db, principal, message.id)
    where = channel_url(message.channel_id) + (f"?thread={message.thread_id}" if message.thread_id else "")
    return pages.done(where, "chat_deleted")


async def react(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    on = field(form, "on", 10) != "0"
    changed = await service.react(db, principal, _message_id(params), field(form, "emoji", 64), on=on)
    return RedirectResponse(_back_to(changed), status_code=303)


async def pin(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    pinned = field(form, "pinned", 10) != "0"
    changed = await service.pin(db, principal, _message_id(params), pinned=pinned)
    if changed.deleted:
        raise NotFound(_("No such message."))
    return RedirectResponse(_back_to(changed), status_code=303)
