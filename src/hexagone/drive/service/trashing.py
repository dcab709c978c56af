"""The trash: a trashed node leaves its folder's listing with everything under it, can be
restored (to where it was, or to the drive's root when that folder is gone or in the
trash itself, under a free name), and is purged for good by hand or by a job once the
organisation's trash period has passed.

Purging deletes the rows (the subtree goes by the foreign keys' cascade), gives the bytes
back to the drive's quota in the same transaction, and hands the blob keys to a job that
deletes each blob no version names any more (a copy shares its original's blobs): the
blobs go only once the rows are gone for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import jobs
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Node, NodeKind, Version
from hexagone.drive.service import locking, names, quotas, storage
from hexagone.drive.service.access import (
    Found,
    NodeInfo,
    info,
    infos,
    load,
    node_info,
    node_rows,
    require,
    subtree_ids,
)
from hexagone.drive.service.folders import child, free_name, touch_folder

PURGE_JOB = "drive.purge"
COLLECT_JOB = "drive.collect"


async def trash(
    db: AsyncSession, principal: Principal, node_id: uuid.UUID, *, lock_tokens: Collection[str] = ()
) -> NodeInfo:
    """Put a node (and what is under it) in the trash; whoever writes in its folder may."""
    found = await load(db, principal, node_id, "view", for_update=True)
    if found.parent is None:
        raise Invalid(_("A drive's root cannot go to the trash."))
    require(found, "write", 1)
    await locking.require_unlocked(db, found, lock_tokens, subtree=True)
    now = utcnow()
    row = found.node
    row.trashed_at, row.trashed_by, row.original_parent_id = now, principal.user_id, row.parent_id
    await touch_folder(db, found.chain[1], principal)
    rules = await quotas.settings(db)
    jobs.enqueue(
        db, PURGE_JOB, {"node_id": row.id}, org_id=principal.org_id, run_at=now + timedelta(days=rules.trash_days)
    )
    await db.flush()
    return info(row, found.abilities(1))


async def in_trash(db: AsyncSession, principal: Principal, drive_id: uuid.UUID) -> list[NodeInfo]:
    """What was put in a drive's trash, latest first, for whoever writes at its root."""
    root = await storage.root_found(db, principal, drive_id, "write")
    rows = await db.execute(
        node_rows()
        .where(Node.drive_id == drive_id, Node.trashed_at.is_not(None))
        .order_by(Node.trashed_at.desc(), Node.name_key)
    )
    abilities = root.abilities()
    return infos(rows, abilities)


async def _trashed(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> Found:
    """A node put in the trash itself, loaded with "write" on where it was."""
    found = await load(db, principal, node_id, "view", trashed=True, for_update=True)
    if found.node.trashed_at is None:
        raise Conflict(_("This is not in the trash."))
    require(found, "write", 1)
    return found


async def restore(db: AsyncSession, principal: Principal, node_id: uuid.UUID, *, rename: bool = True) -> NodeInfo:
    """Take a node out of the trash, back where it was: to the drive's root when that
    folder is gone or in the trash too. A taken name gets the next free "name (n)", or
    without ``rename`` is a :class:`Conflict`."""
    found = await _trashed(db, principal, node_id)
    row = found.node
    folder_row = found.chain[1]
    if any(n.trashed_at is not None for n in found.chain[1:]):  # its folder is gone: to the root
        assert found.drive.root_id is not None
        folder_row = (await load(db, principal, found.drive.root_id, "write")).node
    if await child(db, folder_row.id, row.name) is not None:
        if not rename:
            raise Conflict(_("“%(name)s” already exists in this folder.", name=row.name))
        row.name = await free_name(db, folder_row.id, row.name, folder=row.kind == NodeKind.FOLDER)
        row.name_key = names.key(row.name)
    row.parent_id = folder_row.id
    row.trashed_at = row.trashed_by = row.original_parent_id = None
    await touch_folder(db, folder_row, principal)
    await db.flush()
    return await node_info(db, await load(db, principal, row.id))


async def remove(db: AsyncSession, org_id: uuid.UUID, node: Node) -> int:
    """Delete a node and everything under it for good, in the caller's transaction: the
    drive is credited and the blobs are handed to the collecting job. The bytes freed."""
    ids = await subtree_ids(db, node.id)
    keys_and_sizes = (await db.execute(select(Version.blob_key, Version.size).where(Version.node_id.in_(ids)))).all()
    freed = sum(size for _key, size in keys_and_sizes)
    await db.execute(delete(Node).where(Node.id == node.id))
    await quotas.charge(db, node.drive_id, -freed)
    collect_later(db, org_id, {key for key, _size in keys_and_sizes})
    return freed


def collect_later(db: AsyncSession, org_id: uuid.UUID, keys: Collection[str]) -> None:
    """Have the blobs of deleted versions removed once this transaction commits."""
    if keys:
        jobs.enqueue(db, COLLECT_JOB, {"keys": sorted(keys)}, org_id=org_id)


async def purge(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> int:
    """Delete for good a node that is in the trash; the bytes freed."""
    found = await _trashed(db, principal, node_id)
    return await remove(db, principal.org_id, found.node)


async def empty(db: AsyncSession, principal: Principal, drive_id: uuid.UUID) -> int:
    """Purge everything in a drive's trash; the bytes freed."""
    await storage.root_found(db, principal, drive_id, "write")
    rows = list(
        (await db.execute(select(Node).where(Node.drive_id == drive_id, Node.trashed_at.is_not(None)))).scalars()
    )
    freed = 0
    for row in rows:  # a node under another trashed one may already be gone with it
        if await db.scalar(select(func.count()).select_from(Node).where(Node.id == row.id)):
            freed += await remove(db, principal.org_id, row)
    return freed
