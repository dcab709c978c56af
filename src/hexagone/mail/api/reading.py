"""Reading routes: the caller's mailboxes, a mailbox's folders with their counts, a
folder's messages a page at a time, one message (its body sanitised exactly as the
webmail shows it), and an attachment. Reading never changes a message: unlike the
reading page, GET of a message does not mark it seen (a client says so with PATCH)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from hexagone.core import policy
from hexagone.core.api import CurrentPrincipal
from hexagone.core.i18n import gettext as _
from hexagone.mail import mime
from hexagone.mail.api.common import CURSOR_PATTERN, cursor_of, errors, parse_cursor, session
from hexagone.mail.api.models import AttachmentOut, FolderOut, MailboxOut, MessageOut, MessagePage, MessageSummary
from hexagone.mail.service import mailboxes, reading, store
from hexagone.mail.web import body
from hexagone.mail.web.reading import PART_POLICY

router = APIRouter(tags=["mail"])

PageSize = Annotated[int, Query(ge=1, le=reading.MAX_PAGE_SIZE, description="Messages per page.")]
Cursor = Annotated[str, Query(pattern=CURSOR_PATTERN, description="The ``next_cursor`` of the previous page.")]
PartIndex = Annotated[int, Path(ge=0, le=10_000, description="An attachment's ``index``.")]


@router.get(
    "/mailboxes",
    response_model=list[MailboxOut],
    responses=errors(),
    summary="The caller's mailbox, then the shared mailboxes granted to them",
)
async def list_mailboxes(principal: CurrentPrincipal) -> list[MailboxOut]:
    async with session(principal, write=True) as (db, user):  # a first use creates the mailbox
        found = await mailboxes.accessible(db, user)
        await db.commit()
    judged = [(access, policy.abilities(principal, access)) for access in found]
    return [MailboxOut.of(access, abilities) for access, abilities in judged if abilities.get("view")]


@router.get(
    "/mailboxes/{mailbox_id}/folders",
    response_model=list[FolderOut],
    responses=errors(),
    summary="A mailbox's folders, INBOX first, with their message and unseen counts",
)
async def list_folders(principal: CurrentPrincipal, mailbox_id: uuid.UUID) -> list[FolderOut]:
    async with session(principal) as (db, user):
        access = await reading.mailbox_for(db, principal, user, mailbox_id)
        folders = await mailboxes.folders(db, access.mailbox.id)
        counts = await store.counts(db, [f.id for f in folders])
    return [FolderOut.of(f, *counts.get(f.id, (0, 0))) for f in folders]


@router.get(
    "/folders/{folder_id}/messages",
    response_model=MessagePage,
    responses=errors(),
    summary="A folder's messages, newest first, a page at a time",
)
async def list_messages(
    principal: CurrentPrincipal, folder_id: uuid.UUID, limit: PageSize = 50, cursor: Cursor = ""
) -> MessagePage:
    async with session(principal) as (db, user):
        after = parse_cursor(cursor)
        folder, _access = await reading.folder_for(db, principal, user, folder_id)
        found, more = await reading.page(db, folder, after=after, size=limit)
    return MessagePage(
        messages=[MessageSummary.of(m) for m in found], next_cursor=cursor_of(found[-1]) if more else None
    )


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    responses=errors(),
    summary="One message: headers, sanitised body, attachments",
)
async def get_message(principal: CurrentPrincipal, message_id: uuid.UUID) -> MessageOut:
    async with session(principal) as (db, user):
        message, _folder, _access = await reading.message_for(db, principal, user, message_id)
    raw = await reading.beginning(message, body.needed_bytes(message.structure))
    shown = await run_in_threadpool(
        body.render, raw, message.structure, cid_url=f"/mail/messages/{message.id}/cid/", allow_remote=False
    )
    return MessageOut.model_validate(
        {
            **MessageSummary.fields_of(message),
            "cc": message.cc_addrs,
            "message_id": message.message_id,
            "html": str(shown.html if shown.html is not None else shown.text or ""),
            "text": message.text,
            "clipped": shown.clipped_part is not None,
            "attachments": [
                AttachmentOut(index=a.index, filename=a.filename, content_type=a.content_type, size=a.size)
                for a in shown.attachments
            ],
        }
    )


@router.get(
    "/messages/{message_id}/attachments/{index}",
    response_class=Response,
    responses={
        **errors(),
        200: {"content": {"application/octet-stream": {}}, "description": "The part, transfer-decoded, as a file."},
    },
    summary="Download one part of a message (an attachment's index)",
)
async def download(principal: CurrentPrincipal, message_id: uuid.UUID, index: PartIndex) -> Response:
    async with session(principal) as (db, user):
        message, _folder, _access = await reading.message_for(db, principal, user, message_id)
    leaves = mime.leaves(message.structure)
    if index >= len(leaves) or "parts" in leaves[index]:
        raise HTTPException(404, _("This attachment does not exist."))
    data = mime.decode_part(await store.read(message), leaves[index])
    # Always as a download of opaque bytes: the part's own type (in the message's
    # attachment list) is what the sender claimed, and nothing here should render it.
    name = quote(body.attachment_filename(leaves[index], index))
    headers = {"content-disposition": f"attachment; filename*=UTF-8''{name}", "content-security-policy": PART_POLICY}
    return Response(data, media_type="application/octet-stream", headers=headers)
