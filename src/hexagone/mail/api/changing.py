"""Changing routes: making and renaming folders, setting and clearing flags, moving a
message (to the Trash, too), and sending. Each goes through the same service as the
webmail's page, with its rules: a read-only grant changes nothing (403), a message is
sent only from an address the caller may send as, the copy is filed in Sent."""

from __future__ import annotations

import base64
import uuid

from fastapi import APIRouter

from hexagone.core import policy
from hexagone.core.api import CurrentPrincipal
from hexagone.core.config import get_settings
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Forbidden, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.web import allow_large_bodies
from hexagone.identity.service import Person
from hexagone.mail.api.common import errors, session
from hexagone.mail.api.models import FlagsIn, FolderName, FolderOut, MessageSummary, MoveIn, SendIn, SendResult
from hexagone.mail.models import SpecialUse
from hexagone.mail.service import addresses, mailboxes, outbound, reading, store, subscriptions
from hexagone.mail.web import drafting
from hexagone.mail.web.access import special_folder
from hexagone.mail.web.body import content_type_of

router = APIRouter(tags=["mail"])

SEND_PATH = "/api/v1/mail/send"
# A message at the size limit, its attachments in base64 (4/3) inside JSON.
allow_large_bodies(SEND_PATH, get_settings().mail_max_message_bytes * 4 // 3 + (1 << 20))
FLAG_FIELDS = {"seen": "\\Seen", "flagged": "\\Flagged", "answered": "\\Answered"}


@router.post(
    "/mailboxes/{mailbox_id}/folders",
    response_model=FolderOut,
    status_code=201,
    responses=errors(400, 409),
    summary="Create a folder (parents as needed)",
)
async def create_folder(principal: CurrentPrincipal, mailbox_id: uuid.UUID, body: FolderName) -> FolderOut:
    async with session(principal, write=True) as (db, user):
        access = await reading.mailbox_for(db, principal, user, mailbox_id, write=True)
        folder = await mailboxes.create_folder(db, access.mailbox, body.name)
        await subscriptions.follow_new(db, access, folder.name)
        await db.commit()
    return FolderOut.of(folder)


@router.patch(
    "/folders/{folder_id}",
    response_model=FolderOut,
    responses=errors(400, 403, 409),
    summary="Rename (or move) a folder with its subfolders; the standard folders stay",
)
async def rename_folder(principal: CurrentPrincipal, folder_id: uuid.UUID, body: FolderName) -> FolderOut:
    async with session(principal, write=True) as (db, user):
        folder, access = await reading.folder_for(db, principal, user, folder_id, write=True)
        if folder.name == mailboxes.INBOX or folder.special_use:
            raise Forbidden(_("The standard folders cannot be renamed or deleted."))
        old = folder.name
        await mailboxes.rename_folder(db, access.mailbox, old, body.name)
        await subscriptions.follow_rename(db, access, old, folder.name)
        await db.commit()
        counts = await store.counts(db, [folder.id])
    return FolderOut.of(folder, *counts.get(folder.id, (0, 0)))


@router.patch(
    "/messages/{message_id}",
    response_model=MessageSummary,
    responses=errors(400),
    summary="Set or clear a message's flags (seen, flagged, answered)",
)
async def set_flags(principal: CurrentPrincipal, message_id: uuid.UUID, body: FlagsIn) -> MessageSummary:
    async with session(principal, write=True) as (db, user):
        message, folder, _access = await reading.message_for(db, principal, user, message_id, write=True)
        for mode in ("add", "remove"):
            flags = [flag for name, flag in FLAG_FIELDS.items() if getattr(body, name) is (mode == "add")]
            if flags:
                await store.store_flags(db, folder, [message], flags, mode)
        await db.commit()
    return MessageSummary.of(message)


@router.post(
    "/messages/{message_id}/move",
    response_model=MessageSummary,
    responses=errors(400),
    summary="Move a message to another folder of its mailbox (its Trash to delete it); a new id",
)
async def move_message(principal: CurrentPrincipal, message_id: uuid.UUID, body: MoveIn) -> MessageSummary:
    async with session(principal, write=True) as (db, user):
        message, folder, _access = await reading.message_for(db, principal, user, message_id, write=True)
        target, _target_access = await reading.folder_for(db, principal, user, body.folder_id, write=True)
        if target.mailbox_id != folder.mailbox_id:
            raise NotFound(_("This folder does not exist, or you cannot see it."))
        if target.id == folder.id:
            return MessageSummary.of(message)
        moved = await store.move(db, folder, [message], target)
        await db.commit()
    if not moved:  # another client moved or expunged it first
        raise NotFound(_("This message does not exist, or you cannot see it."))
    return MessageSummary.of(moved[0][1])


def _files(body: SendIn) -> list[drafting.File]:
    files = []
    for file in body.attachments:
        data = base64.b64decode(file.data, validate=True)  # the schema's pattern let only base64 through
        maintype, _slash, subtype = file.content_type.partition("/")
        content_type = content_type_of({"type": maintype, "subtype": subtype})
        if content_type.startswith(("multipart/", "message/")):  # a structure of its own, not a file
            content_type = "application/octet-stream"
        files.append(drafting.File(file.filename, content_type, data))
    return files


@router.post(
    "/send",
    response_model=SendResult,
    responses=errors(400, 403, 413),
    summary="Send a message, filing a copy in the sender's Sent folder",
)
async def send(principal: CurrentPrincipal, body: SendIn) -> SendResult:
    user = Person.signed_in(principal)
    accesses, senders = await addresses.sending_rights(principal, user)
    sender = (body.sender or senders[0]).strip().lower()
    if sender not in senders:
        raise Forbidden(_("You may not send from this address."))
    # The copy goes to the Sent folder of the mailbox sent from when the caller may
    # write there, else to their own; the name is the shared mailbox's, as in the webmail.
    own = next(a.mailbox for a in accesses if a.own)
    writable = [a.mailbox for a in accesses if policy.abilities(principal, a).get("write")]
    home = next((mailbox for mailbox in writable if mailbox.address == sender), own)
    name = next((a.mailbox.display_name for a in accesses if a.mailbox.address == sender and not a.own), "")
    name = name or user.display_name
    draft = drafting.Draft(
        sender=sender,
        to=", ".join(body.to),
        cc=", ".join(body.cc),
        bcc=", ".join(body.bcc),
        subject=body.subject,
        body=body.text,
        message_id=drafting.new_message_id(sender),
    )
    moment = utcnow()
    files = _files(body)
    recipients = drafting.recipients(draft)
    outgoing = drafting.build(draft, files, display_name=name, date=moment, bcc=False)
    await outbound.submit(principal, user, outgoing, mail_from=sender, recipients=recipients, sendable=senders)
    copy = drafting.build(draft, files, display_name=name, date=moment, bcc=True)
    async with session(principal, write=True) as (db, user):
        sent = await special_folder(db, home, SpecialUse.SENT, "Sent")
        try:
            filed = await store.append(db, sent, copy, flags=["\\Seen"])
        except store.QuotaExceeded:  # raised before the row is added: nothing else to undo
            filed = None
        await db.commit()
    return SendResult(message_id=draft.message_id, sent_copy_id=filed.id if filed else None)
