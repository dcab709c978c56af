"""Mail meets the drive (issue 18): an attachment received is saved into the reader's own
drive in one action, through the drive's public face like any upload (its quota, a taken
name numbered rather than replaced), and the reading page says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done
from hexagone.core.policy import Principal
from hexagone.core.web import login_required, principal_of
from hexagone.drive import service as drive
from hexagone.mail import mime
from hexagone.mail.web import body
from hexagone.mail.web.access import attachment_for, caller

SAVED = "saved_to_drive"


def can_save(principal: Principal) -> bool:
    """Whether the reading page offers the action: the organisation has the drive and the
    reader a drive of their own (guests have none)."""
    return "drive" in principal.org_modules and not principal.is_guest


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@login_required
async def save_attachment(request: Request) -> Response:
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required"
    if not can_save(principal):
        raise NotFound(_("You have no drive to save this attachment into."))
    form = await request.form()
    index: int = request.path_params["index"]
    async with caller(request) as c:
        message, leaf, raw = await attachment_for(c, request.path_params["message_id"], index)
        message_id = message.id
    async with org_session(principal.org_id, write=True) as db:
        root_id = (await drive.drive_of_user(db, principal)).root_id
        await db.commit()
    await drive.store(
        principal,
        root_id,
        body.attachment_filename(leaf, index),
        _once(mime.decode_part(raw, leaf)),
        overwrite=False,
        rename=True,
        content_type=body.content_type_of(leaf),
    )
    return done(f"/mail/messages/{message_id}", SAVED, form)


ROUTES = [Route("/messages/{message_id:uuid}/parts/{index:int}/drive", save_attachment, methods=["POST"])]
