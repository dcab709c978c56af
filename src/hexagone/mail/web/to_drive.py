"""Mail meets the drive (issue 18). An attachment received is saved into the reader's own
drive in one action, through the drive's public face like any upload (its quota, a taken
name numbered rather than replaced), and the reading page says so. A file of the drive,
however large (uploaded there first, resumably), is sent from the composer as a link:
a public link to view and download it, made for the occasion and valid for
:data:`LINK_DAYS` days, written into the message's text; its owner sees and revokes it
on the file's links page like any other. A file added in the composer above
``mail_link_attachments_over_bytes`` takes that way by itself (:func:`divert_large`), as
a large attachment does in Gmail or with Thunderbird's FileLink: recipients' servers
refuse large messages long before ours does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.config import get_settings
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.formatting import human_size
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done
from hexagone.core.policy import Principal
from hexagone.core.web import login_required, principal_of
from hexagone.drive.service import NodeInfo, create_link, drive_of_user, has_own_drive, link_path, node, recent, store
from hexagone.mail import mime
from hexagone.mail.web import body
from hexagone.mail.web.access import Caller, attachment_for, caller
from hexagone.mail.web.drafting import File

SAVED = "saved_to_drive"
LINK_DAYS = 30
MAX_LINKED_FILES = 20


async def linkable_files(c: Caller) -> list[NodeInfo]:
    """What the composer offers to send as links: the writer's recent files that they
    may share."""
    if not has_own_drive(c.principal):
        return []
    files = await recent(c.db, c.principal, limit=MAX_LINKED_FILES)
    return [f for f in files if f.kind == "file" and f.abilities.get("share")]


async def links_text(principal: Principal, node_ids: list[uuid.UUID]) -> str:
    """A link made to each of these files, as the lines the message's text ends with
    ("" for none). Run before the composer opens its own session: making a link writes."""
    if not node_ids:
        return ""
    if not has_own_drive(principal):
        raise NotFound(_("You have no drive to share files from."))
    if len(node_ids) > MAX_LINKED_FILES:
        raise Invalid(_("Send at most %(n)s files as links in one message.", n=MAX_LINKED_FILES))
    base = get_settings().resolved_base_url
    expires = utcnow() + timedelta(days=LINK_DAYS)
    lines = []
    async with org_session(principal.org_id, write=True) as db:
        for node_id in dict.fromkeys(node_ids):
            shared = await node(db, principal, node_id)
            made = await create_link(db, principal, node_id, expires_at=expires)
            lines.append(f"- {shared.name} ({human_size(shared.size or 0)}) : {base}{link_path(made.token)}")
        await db.commit()
    heading = _("Files shared from my drive (links valid for %(days)s days):", days=LINK_DAYS)
    return "\n\n" + heading + "\n" + "\n".join(lines) + "\n"


def link_threshold(principal: Principal) -> int | None:
    """The size above which a file added in the composer goes to the writer's drive as a
    link; None when it never does (no drive, or the setting is 0)."""
    over = get_settings().mail_link_attachments_over_bytes
    return over if over and has_own_drive(principal) else None


async def divert_large(principal: Principal, files: list[File]) -> tuple[list[File], list[uuid.UUID]]:
    """The files to attach, and those above :func:`link_threshold` stored in the writer's
    drive instead (a taken name numbered, the drive's quota applying), by their node."""
    threshold = link_threshold(principal)
    if threshold is None or all(len(f.data) <= threshold for f in files):
        return files, []
    async with org_session(principal.org_id, write=True) as db:
        root_id = (await drive_of_user(db, principal)).root_id
        await db.commit()
    attached, stored = [], []
    for file in files:
        if len(file.data) <= threshold:
            attached.append(file)
            continue
        saved = await store(
            principal,
            root_id,
            file.filename,
            _once(file.data),
            overwrite=False,
            rename=True,
            content_type=file.content_type,
        )
        stored.append(saved.id)
    return attached, stored


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@login_required
async def save_attachment(request: Request) -> Response:
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required"
    if not has_own_drive(principal):
        raise NotFound(_("You have no drive to save this attachment into."))
    form = await request.form()
    index: int = request.path_params["index"]
    async with caller(request) as c:
        message, leaf, raw = await attachment_for(c, request.path_params["message_id"], index)
        message_id = message.id
    async with org_session(principal.org_id, write=True) as db:
        root_id = (await drive_of_user(db, principal)).root_id
        await db.commit()
    await store(
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
