"""Resumable uploads (the tus protocol of the JSON API, and any client that sends a file in
pieces over several requests): the upload is planned and its quota checked when it
begins, its bytes go to the blob store's multipart API as they arrive, and its completion
goes through :func:`~hexagone.drive.service.content.store_uploaded`, so that names,
versions, quotas, locks and ETags apply as for any store.

The blob store wants every part but the last to be exactly its part size, and a request
may bring any number of bytes. So a request's bytes are cut at part boundaries: a whole
part goes straight to :meth:`~hexagone.core.blobs.BlobStore.put_part`; what is left past
the last whole part (less than a part) is kept in a blob of its own, the *tail*, which
the next request streams back in front of its own bytes. Nothing is held in memory but
the chunk being passed on. The row is updated after each part and tail, so a request cut
half-way keeps what was stored before the cut; the client asks for the offset (HEAD) and
sends the rest.

An upload belongs to the user who began it; anyone else (another user, another
organisation) gets :class:`NotFound`. It expires a day after it began: a job then drops
its parts, its tail and its row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.auth import Principal
from hexagone.core.blobs import BlobRef, PartRef
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.jobs import Claimed, PermanentFailure
from hexagone.drive.models import Upload
from hexagone.drive.service.access import NodeInfo
from hexagone.drive.service.content import UploadPlan, blob_key, plan_upload, store_uploaded

EXPIRE_JOB = "drive.expire_upload"
LIFETIME = timedelta(days=1)
CONFLICTS = ("error", "rename", "replace")
# Requests of one upload in this process take turns (another process is kept out by the
# offset check when the row is written).
_busy: set[uuid.UUID] = set()


@dataclass(frozen=True)
class UploadInfo:
    id: uuid.UUID
    folder_id: uuid.UUID
    name: str
    length: int
    offset: int
    expires_at: datetime
    node: NodeInfo | None = None  # the file, once the last byte has arrived


def _info(row: Upload, node: NodeInfo | None = None) -> UploadInfo:
    return UploadInfo(row.id, row.folder_id, row.name, row.length, row.offset, row.expires_at, node)


def _overwrite_rename(on_conflict: str) -> tuple[bool, bool]:
    """What :func:`~hexagone.drive.service.store` is told for a name already taken."""
    return on_conflict == "replace", on_conflict == "rename"


def _tail_key(row: Upload, offset: int) -> str:
    return f"{_plan(row).blob_key}.tail{offset}"


def _plan(row: Upload) -> UploadPlan:
    return UploadPlan(row.name, row.version_id, blob_key(row.org_id, row.version_id))


def _json(parts: list[PartRef]) -> str:
    return json.dumps([[p.number, p.size, p.etag] for p in parts])


def _parts(row: Upload) -> list[PartRef]:
    return [PartRef(number, size, etag) for number, size, etag in json.loads(row.parts)]


async def start_upload(
    principal: Principal, folder_id: uuid.UUID, name: str, length: int, *, on_conflict: str = "rename"
) -> UploadInfo:
    """Begin an upload of ``length`` bytes into a folder, once the folder, the name, the
    locks and the room left in the drive allow it (the refusals of
    :func:`~hexagone.drive.service.store`). An empty file is stored at once."""
    if on_conflict not in CONFLICTS:
        raise Invalid(_("Unknown choice for a name already taken."))
    if length < 0:
        raise Invalid(_("The length of an upload cannot be negative."))
    overwrite, rename = _overwrite_rename(on_conflict)
    plan = await plan_upload(principal, folder_id, name, length, overwrite=overwrite, rename=rename)
    if length == 0:
        ref = await blobs.get_store().put(b"", key=plan.blob_key)
        node = await store_uploaded(principal, folder_id, plan, ref, overwrite=overwrite, rename=rename)
        return UploadInfo(plan.version_id, folder_id, plan.name, 0, 0, utcnow(), node)
    blob_upload = await blobs.get_store().start(plan.blob_key)
    now = utcnow()
    row = Upload(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        user_id=principal.user_id,
        folder_id=folder_id,
        name=plan.name,
        on_conflict=on_conflict,
        version_id=plan.version_id,
        blob_upload=blob_upload,
        length=length,
        offset=0,
        parts="[]",
        expires_at=now + LIFETIME,
        created_at=now,
    )
    async with org_session(principal.org_id, write=True) as db:
        db.add(row)
        jobs.enqueue(db, EXPIRE_JOB, {"upload_id": row.id}, org_id=principal.org_id, run_at=row.expires_at)
        await db.commit()
    return _info(row)


async def _row(db: AsyncSession, principal: Principal, upload_id: uuid.UUID) -> Upload:
    row = await db.get(Upload, upload_id)
    if row is None or row.user_id != principal.user_id or row.expires_at <= utcnow():
        raise NotFound(_("No such upload."))
    return row


async def upload_state(principal: Principal, upload_id: uuid.UUID) -> UploadInfo:
    """How far an upload of the principal's has come (the offset to send from)."""
    async with org_session(principal.org_id) as db:
        return _info(await _row(db, principal, upload_id))


class _Source:
    """The bytes of one request, the tail's first, read a part at a time: :meth:`take`
    yields exactly ``count`` bytes (a chunk that crosses the end is split and its rest
    kept for the next part), and raises when the stream ends before."""

    def __init__(self, chunks: AsyncIterator[bytes]):
        self._chunks = chunks
        self._left = b""

    async def take(self, count: int) -> AsyncIterator[bytes]:
        while count > 0:
            chunk = self._left or await anext(self._chunks, b"")
            self._left = b""
            if not chunk:
                raise ConnectionResetError("the request ended before the length it announced")
            if len(chunk) > count:
                chunk, self._left = chunk[:count], chunk[count:]
            count -= len(chunk)
            yield chunk

    async def exhausted(self) -> bool:
        if self._left:
            return False
        self._left = await anext(self._chunks, b"")
        return not self._left


async def _joined(tail: AsyncIterator[bytes] | None, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if tail is not None:
        async for chunk in tail:
            yield chunk
    async for chunk in body:
        if chunk:
            yield chunk


async def _save(org_id: uuid.UUID, row: Upload, offset: int, parts: list[PartRef]) -> None:
    """Record progress, provided nobody else moved the upload meanwhile."""
    async with org_session(org_id, write=True) as db:
        changed = await db.execute(
            update(Upload)
            .where(Upload.id == row.id, Upload.offset == row.offset)
            .values(offset=offset, parts=_json(parts))
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(_("Another request is sending this upload."))
        await db.commit()
    row.offset = offset
    row.parts = _json(parts)


async def append_upload(
    principal: Principal, upload_id: uuid.UUID, offset: int, size: int, chunks: AsyncIterable[bytes]
) -> UploadInfo:
    """Add the ``size`` bytes of ``chunks`` at ``offset`` (which must be the upload's
    offset: :class:`Conflict` otherwise); once the last byte is in, the file is stored and
    the answer's ``node`` is set. A stream that ends early keeps what reached whole parts
    or the tail before the cut, and raises."""
    async with org_session(principal.org_id) as db:
        row = await _row(db, principal, upload_id)
    if offset != row.offset:
        raise Conflict(_("The upload is at byte %(n)s, not at the offset sent.", n=row.offset))
    if size < 0 or row.offset + size > row.length:
        raise Invalid(_("These bytes would pass the length announced for the upload."))
    if row.id in _busy:
        raise Conflict(_("Another request is sending this upload."))
    _busy.add(row.id)
    try:
        return await _append(principal, row, size, chunks)
    finally:
        _busy.discard(row.id)


async def _append(principal: Principal, row: Upload, size: int, body: AsyncIterable[bytes]) -> UploadInfo:
    store = blobs.get_store()
    parts = _parts(row)
    done = len(parts) * store.part_size
    old_tail = row.offset - done
    old_tail_key = _tail_key(row, row.offset) if old_tail else None
    tail = await store.get(old_tail_key) if old_tail_key else None
    source = _Source(_joined(tail, body))
    available, end = old_tail + size, row.offset + size
    while available >= store.part_size or (end == row.length and available > 0):
        count = min(available, store.part_size)
        parts.append(await store.put_part(row.blob_upload, len(parts) + 1, source.take(count)))
        available -= count
        await _save(principal.org_id, row, end - available, parts)
        if old_tail_key is not None:  # its bytes are in the part now
            await store.delete(old_tail_key)
            old_tail_key = None
    if available:
        await store.put(source.take(available), key=_tail_key(row, end))
        await _save(principal.org_id, row, end, parts)
        if old_tail_key is not None:
            await store.delete(old_tail_key)
    if not await source.exhausted():
        raise Invalid(_("The request carried more bytes than it announced."))
    if row.offset < row.length:
        return _info(row)
    return _info(row, await _finish(principal, row, parts))


async def _finish(principal: Principal, row: Upload, parts: list[PartRef]) -> NodeInfo:
    """Assemble the parts and store the file; the upload is over either way."""
    try:
        ref: BlobRef = await blobs.get_store().complete(row.blob_upload, parts)
        overwrite, rename = _overwrite_rename(row.on_conflict)
        return await store_uploaded(principal, row.folder_id, _plan(row), ref, overwrite=overwrite, rename=rename)
    finally:
        await _drop(principal.org_id, row)


async def cancel_upload(principal: Principal, upload_id: uuid.UUID) -> None:
    """Give up an upload of the principal's: its parts, tail and row go."""
    async with org_session(principal.org_id) as db:
        row = await _row(db, principal, upload_id)
    if row.id in _busy:
        raise Conflict(_("Another request is sending this upload."))
    await _drop(principal.org_id, row)


async def _drop(org_id: uuid.UUID, row: Upload) -> None:
    store = blobs.get_store()
    await store.abort(row.blob_upload)
    if row.offset > len(_parts(row)) * store.part_size:
        await store.delete(_tail_key(row, row.offset))
    async with org_session(org_id, write=True) as db:
        await db.execute(delete(Upload).where(Upload.id == row.id))
        await db.commit()


async def expire(job: Claimed) -> None:
    """Drop an upload its client left unfinished past its lifetime."""
    if job.org_id is None:
        raise PermanentFailure("an upload's expiry names its organisation")
    async with org_session(job.org_id) as db:
        row = await db.scalar(select(Upload).where(Upload.id == uuid.UUID(str(job.payload.get("upload_id")))))
    if row is not None:
        await _drop(job.org_id, row)
