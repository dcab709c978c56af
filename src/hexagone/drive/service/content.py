"""A file's content: storing it (a new file, or a new version of one), reading it (whole
or a range), its versions and restoring one.

:func:`store` streams: the bytes go to the blob store as they come, cut at the room left
in the drive (:class:`InsufficientStorage`), before any row is written. Only once the
blob is durable does one transaction check again what it checked before (the folder,
the name, the ETag the client expects, the locks, the quota), add the version and charge
the drive. An upload that breaks, is refused or loses a race leaves no row and no blob:
the store discards its partial file, and a blob written for a transaction that failed is
deleted. The transaction is short, so on SQLite a 1 GB upload never holds the write lock.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.auth import Principal
from hexagone.core.blobs import BlobRef, BlobTooLarge
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound, PreconditionFailed
from hexagone.core.i18n import gettext as _
from hexagone.drive.extraction import jobs as extraction
from hexagone.drive.models import Node, NodeKind, Recent, Version
from hexagone.drive.service import locking, names, quotas
from hexagone.drive.service.access import Found, NodeInfo, load, load_folder, node_info
from hexagone.drive.service.folders import child, free_name, new_etag, touch_folder

PRUNE_JOB = "drive.prune"
DEFAULT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class VersionInfo:
    """One version of a file (the public face's shape)."""

    id: uuid.UUID
    node_id: uuid.UUID
    number: int
    size: int
    sha256: str
    content_type: str
    created_at: datetime
    created_by: uuid.UUID | None
    current: bool


def blob_key(org_id: uuid.UUID, version_id: uuid.UUID) -> str:
    return f"org/{org_id}/drive/{version_id}"


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or DEFAULT_TYPE


@dataclass(frozen=True)
class _Target:
    """Where a store goes: the folder, the final name, and the file it replaces (if any)."""

    folder: Found
    name: str
    existing: Node | None


def _etag_matches(expected: str, node: Node | None) -> bool:
    if expected == "*":
        return node is not None
    return node is not None and node.etag == expected.strip('"').removeprefix("W/").strip('"')


async def _target(
    db: AsyncSession,
    principal: Principal,
    folder_id: uuid.UUID,
    name: str,
    *,
    overwrite: bool,
    rename: bool,
    if_match: str | None,
    lock_tokens: Collection[str],
    for_update: bool = False,
) -> _Target:
    folder = await load_folder(db, principal, folder_id, "write")
    existing = await child(db, folder.node.id, name, for_update=for_update)
    if if_match is not None and not _etag_matches(if_match, existing):
        raise PreconditionFailed(_("The file changed since you last read it."))
    if existing is not None and existing.kind == NodeKind.FOLDER:
        if not rename:
            raise Conflict(_("A folder called “%(name)s” is already there.", name=existing.name))
        return _Target(folder, await free_name(db, folder.node.id, name, folder=False), None)
    if existing is not None and not overwrite:
        if not rename:
            raise Conflict(_("“%(name)s” already exists in this folder.", name=existing.name))
        return _Target(folder, await free_name(db, folder.node.id, name, folder=False), None)
    if existing is not None:
        chained = await load(db, principal, existing.id, "write")
        await locking.require_unlocked(db, chained, lock_tokens)
    else:
        await locking.require_unlocked(db, folder, lock_tokens, path=locking.name_path(folder, name))
        await locking.require_unlocked(db, folder, lock_tokens)
    return _Target(folder, name, existing)


@dataclass(frozen=True)
class UploadPlan:
    """Where a resumable upload (tus) assembles its bytes before :func:`store_uploaded`
    makes them a file: the cleaned name and the blob key of the version to come."""

    name: str
    version_id: uuid.UUID
    blob_key: str


async def plan_upload(
    principal: Principal,
    folder_id: uuid.UUID,
    name: str,
    size: int,
    *,
    overwrite: bool = True,
    rename: bool = False,
    lock_tokens: Collection[str] = (),
) -> UploadPlan:
    """Check, before a resumable upload of ``size`` bytes begins, what :func:`store`
    checks before it streams (the folder, the name, the locks) and that the drive has
    room for all of it (:class:`InsufficientStorage` otherwise): a client learns at once,
    not after sending gigabytes. Everything is checked again when the upload completes."""
    name = names.clean(name)
    options = {"overwrite": overwrite, "rename": rename, "if_match": None, "lock_tokens": lock_tokens}
    async with org_session(principal.org_id) as db:
        target = await _target(db, principal, folder_id, name, **options)  # type: ignore[arg-type]
        room = await quotas.room(db, target.folder.drive)
    if room is not None and size > room:
        raise quotas.too_large()
    version_id = uuid.uuid4()
    return UploadPlan(name, version_id, blob_key(principal.org_id, version_id))


async def store(
    principal: Principal,
    folder_id: uuid.UUID,
    name: str,
    chunks: AsyncIterable[bytes],
    *,
    overwrite: bool = True,
    rename: bool = False,
    if_match: str | None = None,
    content_type: str | None = None,
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Store ``chunks`` as the file ``name`` in a folder: a new file, or a new version of
    the file already there (``overwrite``; otherwise :class:`Conflict`, or with ``rename``
    the next free "name (n).ext"). ``if_match``: the ETag the caller last saw, or "*"
    for "it must exist" (:class:`PreconditionFailed` otherwise). Opens its own sessions:
    the upload must not hold a transaction open."""
    name = names.clean(name)
    options = {"overwrite": overwrite, "rename": rename, "if_match": if_match, "lock_tokens": lock_tokens}
    async with org_session(principal.org_id) as db:
        target = await _target(db, principal, folder_id, name, **options)  # type: ignore[arg-type]
        room = await quotas.room(db, target.folder.drive)
    version_id = uuid.uuid4()
    key = blob_key(principal.org_id, version_id)
    try:
        ref = await blobs.get_store().put(chunks, key=key, max_size=room)
    except BlobTooLarge:
        raise quotas.too_large() from None
    plan = UploadPlan(name, version_id, key)
    return await store_uploaded(principal, folder_id, plan, ref, content_type, **options)  # type: ignore[arg-type]


async def store_uploaded(
    principal: Principal,
    folder_id: uuid.UUID,
    plan: UploadPlan,
    ref: BlobRef,
    content_type: str | None = None,
    *,
    overwrite: bool = True,
    rename: bool = False,
    if_match: str | None = None,
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Make the blob ``ref``, stored at ``plan``'s key (by :func:`store`, or assembled
    by the blob store's multipart API for a resumable upload), the file's new content, in
    one short transaction that checks everything again (folder, name, ETag, locks, quota).
    A refusal deletes the blob: nothing is left behind."""
    options = {"overwrite": overwrite, "rename": rename, "if_match": if_match, "lock_tokens": lock_tokens}
    name = plan.name
    try:
        async with org_session(principal.org_id, write=True) as db:
            target = await _target(db, principal, folder_id, name, for_update=True, **options)  # type: ignore[arg-type]
            node_id = await _add_version(db, principal, target, plan.version_id, ref, content_type or guess_type(name))
            await db.commit()
    except BaseException:
        await blobs.get_store().delete(ref.key)
        raise
    async with org_session(principal.org_id) as db:
        return await node_info(db, await load(db, principal, node_id))


async def _add_version(
    db: AsyncSession, principal: Principal, target: _Target, version_id: uuid.UUID, ref: BlobRef, content_type: str
) -> uuid.UUID:
    now = utcnow()
    node = target.existing
    if node is None:
        node = Node(
            id=uuid.uuid4(),
            org_id=principal.org_id,
            drive_id=target.folder.drive.id,
            parent_id=target.folder.node.id,
            kind=NodeKind.FILE,
            name=target.name,
            name_key=names.key(target.name),
            etag=new_etag(),
            created_by=principal.user_id,
            created_at=now,
        )
        db.add(node)
        number = 1
        await locking.adopt(db, target.folder.drive.id, locking.name_path(target.folder, target.name), node.id)
    else:
        last = await db.scalar(select(func.max(Version.number)).where(Version.node_id == node.id))
        number = (last or 0) + 1
    db.add(
        Version(
            id=version_id,
            org_id=principal.org_id,
            node_id=node.id,
            number=number,
            blob_key=ref.key,
            size=ref.size,
            sha256=ref.sha256,
            content_type=content_type,
            created_by=principal.user_id,
            created_at=now,
        )
    )
    _make_current(node, principal, version_id, ref.size, content_type, now)
    await touch_folder(db, target.folder.node, principal)
    try:
        await db.flush()
    except IntegrityError:  # another upload made that name meanwhile (PostgreSQL)
        raise Conflict(_("“%(name)s” already exists in this folder.", name=target.name)) from None
    await quotas.charge(db, target.folder.drive.id, ref.size)
    await note_recent(db, principal, node.id, new=target.existing is None)
    if number > 1:
        jobs.enqueue(db, PRUNE_JOB, {"node_id": node.id}, org_id=principal.org_id)
    extraction.plan(db, principal.org_id, version_id, target.name, content_type, ref.size)
    return node.id


def _make_current(
    node: Node, principal: Principal, version_id: uuid.UUID, size: int, content_type: str, now: datetime
) -> None:
    node.current_version_id = version_id
    node.size = size
    node.content_type = content_type
    node.etag = new_etag()
    node.modified_at = now
    node.modified_by = principal.user_id
    node.has_preview = False  # the extraction job makes the new content's


async def note_recent(db: AsyncSession, principal: Principal, node_id: uuid.UUID, *, new: bool = False) -> None:
    """Remember that the principal opened or wrote the file, for their recent files
    (``new``: the file was made in this transaction, so nobody has it among theirs yet)."""
    query = select(Recent).where(Recent.user_id == principal.user_id, Recent.node_id == node_id)
    row = None if new else await db.scalar(query)
    if row is None:
        db.add(Recent(org_id=principal.org_id, user_id=principal.user_id, node_id=node_id, at=utcnow()))
    else:
        row.at = utcnow()
    await db.flush()


async def open(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    *,
    start: int = 0,
    end: int | None = None,
    version_id: uuid.UUID | None = None,
) -> tuple[NodeInfo, AsyncIterator[bytes]]:
    """A file's content, the current version's or ``version_id``'s, whole or the bytes
    ``start`` to ``end`` (excluded): for an HTTP Range. The iterator reads the blob store
    after the session is gone, so the caller may close it before streaming."""
    found = await load(db, principal, node_id, "read")
    if found.node.kind != NodeKind.FILE:
        raise Invalid(_("A folder has no content to read."))
    wanted = version_id or found.node.current_version_id
    version = await db.get(Version, wanted) if wanted is not None else None
    if version is None or version.node_id != found.node.id:
        raise NotFound(_("No such version."))
    if start < 0 or start > version.size or (end is not None and end < start):
        raise Invalid(_("The range asked for is not in the file."))
    end = version.size if end is None else min(end, version.size)
    stream = await blobs.get_store().get(version.blob_key, start=start, end=end)
    return await node_info(db, found), stream


def _version_info(version: Version, current: uuid.UUID | None) -> VersionInfo:
    return VersionInfo(
        id=version.id,
        node_id=version.node_id,
        number=version.number,
        size=version.size,
        sha256=version.sha256,
        content_type=version.content_type,
        created_at=version.created_at,
        created_by=version.created_by,
        current=version.id == current,
    )


async def versions(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[VersionInfo]:
    """A file's versions, newest first."""
    found = await load(db, principal, node_id, "read")
    rows = await db.execute(select(Version).where(Version.node_id == found.node.id).order_by(Version.number.desc()))
    return [_version_info(v, found.node.current_version_id) for v in rows.scalars()]


async def restore_version(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    version_id: uuid.UUID,
    *,
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Make an old version's content current again, as a new version (history is never
    rewritten); it shares the old version's blob and counts in the quota again."""
    found = await load(db, principal, node_id, "write", for_update=True)
    await locking.require_unlocked(db, found, lock_tokens)
    old = await db.get(Version, version_id)
    if old is None or old.node_id != found.node.id:
        raise NotFound(_("No such version."))
    last = await db.scalar(select(func.max(Version.number)).where(Version.node_id == found.node.id))
    now = utcnow()
    new_id = uuid.uuid4()
    db.add(
        Version(
            id=new_id,
            org_id=principal.org_id,
            node_id=found.node.id,
            number=(last or 0) + 1,
            blob_key=old.blob_key,
            size=old.size,
            sha256=old.sha256,
            content_type=old.content_type,
            created_by=principal.user_id,
            created_at=now,
        )
    )
    _make_current(found.node, principal, new_id, old.size, old.content_type, now)
    await touch_folder(db, found.chain[1], principal)
    await db.flush()
    await quotas.charge(db, found.drive.id, old.size)
    jobs.enqueue(db, PRUNE_JOB, {"node_id": found.node.id}, org_id=principal.org_id)
    extraction.plan(db, principal.org_id, new_id, found.node.name, old.content_type, old.size)
    return await node_info(db, found)
