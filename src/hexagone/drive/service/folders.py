"""A folder's entries by name: finding one, the next free "name (n).ext", and a folder's
new ETag when its entries change. Shared by the tree, the content and the trash."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.drive.models import Node
from hexagone.drive.service import names


def new_etag() -> str:
    return uuid.uuid4().hex


async def child(db: AsyncSession, folder_id: uuid.UUID, name: str, *, for_update: bool = False) -> Node | None:
    """The entry of a folder called ``name`` (compared by key), not in the trash."""
    query = select(Node).where(Node.parent_id == folder_id, Node.name_key == names.key(name), Node.trashed_at.is_(None))
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


async def free_name(db: AsyncSession, folder_id: uuid.UUID, name: str, *, folder: bool) -> str:
    """``name``, or the first "name (n).ext" not taken in the folder."""
    if await child(db, folder_id, name) is None:
        return name
    stem = names.numbered(name, 2, folder=folder).rsplit(" (2)", 1)[0]
    pattern = names.key(stem).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " (%"
    taken = set(
        (
            await db.execute(
                select(Node.name_key).where(
                    Node.parent_id == folder_id, Node.trashed_at.is_(None), Node.name_key.like(pattern, escape="\\")
                )
            )
        ).scalars()
    )
    n = 2
    while names.key(candidate := names.numbered(name, n, folder=folder)) in taken:
        n += 1
    return candidate


async def touch_folder(db: AsyncSession, folder: Node, principal: Principal) -> None:
    """A folder's entries changed: a new ETag, so that a client syncing it looks again."""
    folder.etag = new_etag()
    folder.modified_at = utcnow()
    folder.modified_by = principal.user_id
