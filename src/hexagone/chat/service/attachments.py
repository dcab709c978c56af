"""Files sent in a conversation. A file is uploaded first (:func:`upload_file`, by whoever may
post in the conversation), then sent with a message (``post(..., attachments=[...])``),
which claims it: an upload not sent within a day is deleted by the purge job.

The bytes go to the core's blob store under the organisation (``org/<org>/chat/<id>``:
counted in its storage, sealed under its key when encryption at rest is on), streamed,
never held whole, at most :data:`MAX_SIZE`. A preview of at most 512 pixels (pictures,
PDFs, office documents when LibreOffice is installed) is made at upload by the drive's
previewer (``drive.service.preview_of_blob``, in its sandbox), so that the message shows
it as soon as it is sent. Names follow the drive's rules, so that a file can be saved to
a drive as it is called (:func:`save_to_drive`); a name a drive could not hold is mended
rather than refused (:func:`file_name`).

Whoever may read the conversation reads its files; a file of a deleted message is gone
for everyone (its bytes are removed after the commit, unless the organisation keeps
deleted messages for the audit). Files are always served as downloads
(``Content-Disposition: attachment``, ``nosniff``): a file someone sent never runs as a
page of this site; the previews, PNGs made here, are shown inline.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Attachment, Message
from hexagone.chat.service import channels
from hexagone.core import blobs, jobs
from hexagone.core.auth import Principal
from hexagone.core.blobs import BlobNotFound, BlobTooLarge
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.jobs import Claimed, JobSpec, PermanentFailure
from hexagone.drive.service import NodeInfo, clean_name, drive_of_user, has_own_drive, preview_of_blob, store

MAX_SIZE = 100 << 20  # bytes per file (Slack: 1 GB; Mattermost's default: 100 MB)
MAX_PER_MESSAGE = 10
PREVIEW_INPUT = 30 << 20  # larger files get no preview at upload (it would hold the request)
PREVIEW_TYPE = "image/png"
DEFAULT_TYPE = "application/octet-stream"
MAX_NAME_BYTES = 255
COLLECT_JOB = "chat.collect"
_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")


@dataclass(frozen=True)
class AttachmentInfo:
    id: uuid.UUID
    channel_id: uuid.UUID
    name: str
    content_type: str
    size: int
    preview: bool  # a PNG preview exists

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "preview": self.preview,
        }


def no_such_file() -> str:
    return _("No such file.")


def blob_key(org_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    return f"org/{org_id}/chat/{attachment_id}"


def preview_key(key: str) -> str:
    return f"{key}.preview"


def _type(name: str, given: str | None) -> str:
    """The type the client said, if it has the shape of one, else the name's."""
    said = (given or "").split(";", 1)[0].strip().lower()
    if _TYPE.fullmatch(said) and said != DEFAULT_TYPE:
        return said
    return mimetypes.guess_type(name, strict=False)[0] or DEFAULT_TYPE


def file_name(given: str) -> str:
    """The name a file is sent under: as the person's system called it, made fit for a
    drive (``/``, ``\\`` and control characters become ``_``, trailing dots and spaces go,
    at most 255 bytes keeping the extension, a name Windows reserves gets a ``_`` first):
    a chat refuses no file for its name. An empty name is refused."""
    name = unicodedata.normalize("NFC", given.encode("utf-8", "replace").decode("utf-8"))
    name = "".join("_" if c in "/\\" or unicodedata.category(c) == "Cc" else c for c in name).strip().rstrip(". ")
    if not name:
        raise Invalid(_("A file needs a name."))
    stem, dot, extension = name.rpartition(".") if "." in name[1:] else (name, "", "")
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
        name = f"{stem}{dot}{extension}" if stem else name[: len(name) - 1]
    try:
        return clean_name(name)
    except Invalid:  # "." alone, or CON, NUL, COM1…
        return clean_name(f"_{name}")


def _info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(row.id, row.channel_id, row.name, row.content_type, row.size, row.has_preview)


async def upload_file(
    principal: Principal, channel_id: uuid.UUID, name: str, content_type: str | None, data: AsyncIterable[bytes]
) -> AttachmentInfo:
    """Store a file to be sent in the conversation (whoever may post in it). It opens its
    own short sessions: no transaction is held open while the bytes arrive."""
    name = file_name(name)
    async with org_session(principal.org_id) as db:
        await channels.require(db, principal, channel_id, "post")
    attachment_id = uuid.uuid4()
    key = blob_key(principal.org_id, attachment_id)
    store = blobs.get_store()
    try:
        ref = await store.put(data, key=key, max_size=MAX_SIZE)
    except BlobTooLarge:
        raise Invalid(_("A file sent in a conversation is at most %(n)s MB.", n=MAX_SIZE >> 20)) from None
    if ref.size == 0:  # nothing to send (and what a request without a body uploads)
        await store.delete(key)
        raise Invalid(_("The file is empty."))
    kind = _type(name, content_type)
    try:
        has_preview = await _make_preview(key, name, kind, ref.size)
        async with org_session(principal.org_id, write=True) as db:
            row = Attachment(
                id=attachment_id,
                org_id=principal.org_id,
                channel_id=channel_id,
                uploaded_by=principal.user_id,
                name=name,
                content_type=kind,
                size=ref.size,
                blob_key=key,
                has_preview=has_preview,
            )
            db.add(row)
            await db.commit()
    except BaseException:
        await asyncio.shield(_delete_blobs([key]))
        raise
    return _info(row)


async def _make_preview(key: str, name: str, content_type: str, size: int) -> bool:
    if size > PREVIEW_INPUT:
        return False
    image = await preview_of_blob(key, name, content_type, size)
    if not image:
        return False
    await blobs.get_store().put(image, key=preview_key(key))
    return True


async def claim(
    db: AsyncSession, principal: Principal, channel_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Attachment]:
    """The uploads a post sends: the author's own, for this conversation, not sent yet,
    in the order given."""
    if len(ids) > MAX_PER_MESSAGE:
        raise Invalid(_("A message holds at most %(n)s files.", n=MAX_PER_MESSAGE))
    if len(set(ids)) != len(ids):
        raise Invalid(_("The same file is sent twice."))
    if not ids:
        return []
    stmt = select(Attachment).where(
        Attachment.id.in_(ids),
        Attachment.channel_id == channel_id,
        Attachment.uploaded_by == principal.user_id,
        Attachment.message_id.is_(None),
    )
    found = {row.id: row for row in (await db.execute(stmt.with_for_update())).scalars()}
    if len(found) != len(ids):
        raise NotFound(_("A file to send was not uploaded to this conversation, or was already sent."))
    return [found[i] for i in ids]


def attach(rows: Sequence[Attachment], message_id: uuid.UUID) -> list[AttachmentInfo]:
    for position, row in enumerate(rows):
        row.message_id, row.position = message_id, position
    return [_info(row) for row in rows]


async def of_messages(db: AsyncSession, message_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[AttachmentInfo]]:
    """The files of each message, in their order: one statement for a page."""
    if not message_ids:
        return {}
    stmt = (
        select(Attachment)
        .where(Attachment.message_id.in_(message_ids))
        .order_by(Attachment.message_id, Attachment.position)
    )
    found: dict[uuid.UUID, list[AttachmentInfo]] = {}
    for row in (await db.execute(stmt)).scalars():
        assert row.message_id is not None
        found.setdefault(row.message_id, []).append(_info(row))
    return found


@dataclass(frozen=True)
class Opened:
    """A file someone may read (or its preview): what it is, and its bytes to stream."""

    info: AttachmentInfo
    size: int
    content_type: str
    key: str

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start`` to ``end`` (excluded); NotFound if the store lost them."""
        try:
            return await blobs.get_store().get(self.key, start=start, end=end)
        except BlobNotFound:
            raise NotFound(no_such_file()) from None


async def open_file(
    db: AsyncSession, principal: Principal, attachment_id: uuid.UUID, *, preview: bool = False
) -> Opened:
    """A sent file (or its preview) for whoever may read its conversation; the uploader
    also reads their own upload before sending it."""
    row = await db.get(Attachment, attachment_id)
    if row is None or row.org_id != principal.org_id:
        raise NotFound(no_such_file())
    if row.message_id is None:
        if row.uploaded_by != principal.user_id:
            raise NotFound(no_such_file())
    else:
        deleted = (await db.execute(select(Message.deleted_at).where(Message.id == row.message_id))).scalar()
        if deleted is not None:
            raise NotFound(no_such_file())
    try:
        await channels.require(db, principal, row.channel_id, "view")
    except NotFound:
        raise NotFound(no_such_file()) from None
    if not preview:
        return Opened(_info(row), row.size, row.content_type, row.blob_key)
    if not row.has_preview:
        raise NotFound(_("This file has no preview."))
    key = preview_key(row.blob_key)
    try:
        size = await blobs.get_store().size(key)
    except BlobNotFound:
        raise NotFound(_("This file has no preview.")) from None
    return Opened(_info(row), size, PREVIEW_TYPE, key)


async def forget(db: AsyncSession, org_id: uuid.UUID, message_ids: Collection[uuid.UUID] | Select[uuid.UUID]) -> None:
    """The files of deleted messages (their ids, or a query of them): their rows now,
    their bytes after the commit."""
    keys = list((await db.execute(select(Attachment.blob_key).where(Attachment.message_id.in_(message_ids)))).scalars())
    await db.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
    collect_later(db, org_id, keys)


async def save_to_drive(principal: Principal, attachment_id: uuid.UUID) -> NodeInfo:
    """A file someone may read, saved into their own drive's top folder through the
    drive's face like any upload (their quota; a taken name numbered, never replaced)."""
    if not has_own_drive(principal):
        raise NotFound(_("You have no drive to save this file into."))
    async with org_session(principal.org_id, write=True) as db:
        opened = await open_file(db, principal, attachment_id)
        root_id = (await drive_of_user(db, principal)).root_id
        await db.commit()
    chunks = await opened.read()
    return await store(
        principal, root_id, opened.info.name, chunks, overwrite=False, rename=True, content_type=opened.content_type
    )


def collect_later(db: AsyncSession, org_id: uuid.UUID, keys: Collection[str]) -> None:
    """Have these files' bytes and previews removed once this transaction commits."""
    if keys:
        jobs.enqueue(db, COLLECT_JOB, {"keys": sorted(keys)}, org_id=org_id)


async def _delete_blobs(keys: Collection[str]) -> None:
    store = blobs.get_store()
    for key in keys:
        await store.delete(key)
        await store.delete(preview_key(key))


async def collect(job: Claimed) -> None:
    keys = job.payload.get("keys")
    if job.org_id is None or not isinstance(keys, list):
        raise PermanentFailure("chat.collect names its organisation and a list of keys")
    prefix = f"org/{job.org_id}/chat/"
    await _delete_blobs([k for k in keys if isinstance(k, str) and k.startswith(prefix)])


JOBS = [JobSpec(COLLECT_JOB, collect)]
