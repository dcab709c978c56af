"""The folder tree: listing a folder, finding a path, making folders, renaming, moving
and copying, with what to do when the name is taken (``on_conflict``): refuse
(:class:`Conflict`), take the next free "name (2).ext", or replace what is there (it goes
to the trash, from where it can come back).

A listing is one statement however large the folder, sorted and paged by the database
on the index of names; a path is found one segment at a time from the root, never
through a folder in the trash.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.extraction import jobs as extraction
from hexagone.drive.models import Drive, FieldValue, Lock, Node, NodeKind, Property, Tag, Version
from hexagone.drive.service import locking, names, quotas, storage, trashing
from hexagone.drive.service.access import (
    Found,
    LockInfo,
    NodeInfo,
    found_from_chain,
    info,
    infos,
    load,
    load_folder,
    node_info,
    node_rows,
    not_found,
    remember,
    require,
    subtree_ids,
)
from hexagone.drive.service.folders import child, free_name, new_etag, touch_folder

OnConflict = Literal["error", "rename", "replace"]
SORTS = {
    "name": (Node.name_key,),
    "modified": (Node.modified_at, Node.name_key),
    "size": (Node.size, Node.name_key),
}
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Listing:
    """A page of a folder: the folder, its entries (folders first), and whether more follow."""

    folder: NodeInfo
    entries: list[NodeInfo]
    has_more: bool


async def node(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> NodeInfo:
    """A node the principal may see (not in the trash)."""
    return await node_info(db, await load(db, principal, node_id))


async def list_folder(
    db: AsyncSession,
    principal: Principal,
    folder_id: uuid.UUID,
    *,
    offset: int = 0,
    limit: int | None = 1000,
    order: str = "name",
    descending: bool = False,
) -> Listing:
    """A folder's entries, folders first, sorted by ``order`` (name, modified, size)."""
    if order not in SORTS:
        raise Invalid(_("Unknown sort order."))
    if offset < 0 or (limit is not None and not 1 <= limit <= MAX_PAGE):
        raise Invalid(_("A page holds 1 to %(n)s entries.", n=MAX_PAGE))
    found = await load_folder(db, principal, folder_id)
    abilities = found.abilities()
    columns = [c.desc() if descending else c.asc() for c in SORTS[order]]
    query = (
        node_rows(listing=True)
        .where(Node.parent_id == folder_id, Node.trashed_at.is_(None))
        .order_by((Node.kind == NodeKind.FILE).asc(), *columns, Node.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit + 1)
    entries = infos(await db.execute(query), abilities, found.node)
    has_more = limit is not None and len(entries) > limit
    entries = entries[:limit]
    return Listing(await node_info(db, found), entries, has_more)


def _segments(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise Invalid(_("A path cannot contain “.” or “..”."))
    return parts


async def resolve_path(db: AsyncSession, principal: Principal, drive_id: uuid.UUID, path: str) -> NodeInfo:
    """The node at ``path`` ("a/b/c", "" for the root) in a drive."""
    return await node_info(db, await find_path(db, principal, drive_id, path))


async def find_path(
    db: AsyncSession, principal: Principal, drive_id: uuid.UUID, path: str, ability: str = "view"
) -> Found:
    """:func:`resolve_path` as a :class:`Found`, for the service's own writes (and WebDAV's)."""
    parts = _segments(path)
    root = await storage.root_found(db, principal, drive_id, "view" if parts else ability)
    chain = [root.node]
    for part in parts:
        if chain[0].kind != NodeKind.FOLDER:
            raise NotFound(not_found())
        found_child = await child(db, chain[0].id, part)
        if found_child is None:
            raise NotFound(not_found())
        chain.insert(0, found_child)
    if not parts:
        remember(db, root)
        return root
    found = await found_from_chain(db, principal, chain)
    assert found is not None
    remember(db, found)
    require(found, ability)
    return found


async def path_of(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[NodeInfo]:
    """The folders from the root down to the node, the node last: a breadcrumb. Folders
    above what the principal reaches (a folder shared with them) are left out."""
    found = await load(db, principal, node_id)
    shown = []
    for index, item in enumerate(found.chain):
        abilities = found.abilities(index)
        if not abilities.get("view"):
            break
        shown.append(info(item, abilities))
    return list(reversed(shown))


async def place(
    db: AsyncSession,
    principal: Principal,
    folder: Found,
    name: str,
    *,
    on_conflict: OnConflict,
    moving: uuid.UUID | None = None,
    folder_kind: bool,
    tokens: Collection[str] = (),
) -> str:
    """The name to use for an entry going into ``folder`` (``moving``: the node that goes
    there, which may keep its own name), after dealing with an entry already there."""
    name = names.clean(name)
    existing = await child(db, folder.node.id, name, for_update=True)
    if existing is None or existing.id == moving:
        return name
    if on_conflict == "rename":
        return await free_name(db, folder.node.id, name, folder=folder_kind)
    if on_conflict == "replace":
        await trashing.trash(db, principal, existing.id, lock_tokens=tokens)
        return name
    raise Conflict(_("“%(name)s” already exists in this folder.", name=existing.name))


async def create_folder(
    db: AsyncSession,
    principal: Principal,
    parent_id: uuid.UUID,
    name: str,
    *,
    rename: bool = False,
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """A new folder; a taken name is a :class:`Conflict`, or with ``rename`` "name (2)"."""
    parent = await load_folder(db, principal, parent_id, "write")
    await locking.require_unlocked(db, parent, lock_tokens)
    name = await place(db, principal, parent, name, on_conflict="rename" if rename else "error", folder_kind=True)
    await locking.require_unlocked(db, parent, lock_tokens, path=locking.name_path(parent, name))
    now = utcnow()
    folder = Node(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        drive_id=parent.drive.id,
        parent_id=parent.node.id,
        kind=NodeKind.FOLDER,
        name=name,
        name_key=names.key(name),
        etag=new_etag(),
        created_by=principal.user_id,
        created_at=now,
        modified_by=principal.user_id,
        modified_at=now,
    )
    db.add(folder)
    try:
        await db.flush()
    except IntegrityError:  # another request made that name meanwhile (PostgreSQL)
        raise Conflict(_("“%(name)s” already exists in this folder.", name=name)) from None
    await touch_folder(db, parent.node, principal)
    await locking.adopt(db, parent.drive.id, locking.name_path(parent, name), folder.id)
    await db.flush()
    return await node_info(db, await load(db, principal, folder.id))


async def rename(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    name: str,
    *,
    on_conflict: OnConflict = "error",
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Give a node a new name in its folder."""
    found = await load(db, principal, node_id, "write", for_update=True)
    if found.node.parent_id is None:
        raise Invalid(_("A drive's root has no name to change."))
    await locking.require_unlocked(db, found, lock_tokens)
    folder = await load(db, principal, found.node.parent_id)
    node_row = found.node
    name = await place(
        db,
        principal,
        folder,
        name,
        on_conflict=on_conflict,
        moving=node_row.id,
        folder_kind=node_row.kind == NodeKind.FOLDER,
        tokens=lock_tokens,
    )
    node_row.name, node_row.name_key = name, names.key(name)
    node_row.modified_at, node_row.modified_by = utcnow(), principal.user_id
    await touch_folder(db, folder.node, principal)
    await db.flush()
    return await node_info(db, found)


async def _subtree_bytes(db: AsyncSession, ids: list[uuid.UUID]) -> int:
    if not ids:
        return 0
    total = await db.scalar(select(func.coalesce(func.sum(Version.size), 0)).where(Version.node_id.in_(ids)))
    return int(total or 0)


async def _target(
    db: AsyncSession, principal: Principal, found: Found, folder_id: uuid.UUID, lock_tokens: Collection[str]
) -> Found:
    """The folder a node goes into (loaded with "write"), never inside the node itself."""
    target = await load_folder(db, principal, folder_id, "write")
    if any(n.id == found.node.id for n in target.chain):
        raise Invalid(_("A folder cannot go inside itself."))
    await locking.require_unlocked(db, target, lock_tokens)
    return target


async def _place_in(
    db: AsyncSession,
    principal: Principal,
    target: Found,
    node: Node,
    name: str | None,
    on_conflict: OnConflict,
    tokens: Collection[str],
    *,
    moving: bool,
) -> str:
    """The name ``node`` (moved, or copied) takes in ``target``: its own unless ``name``."""
    return await place(
        db,
        principal,
        target,
        name if name is not None else node.name,
        on_conflict=on_conflict,
        moving=node.id if moving else None,
        folder_kind=node.kind == NodeKind.FOLDER,
        tokens=tokens,
    )


async def move(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    folder_id: uuid.UUID,
    *,
    name: str | None = None,
    on_conflict: OnConflict = "error",
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Move a node (and what is under it) into another folder, of this drive or another
    the principal writes in, under its name or ``name``. Its versions, properties, tags
    and shares go with it; the bytes change drive (the target's quota is checked)."""
    found = await load(db, principal, node_id, "write", for_update=True)
    if found.node.parent_id is None:
        raise Invalid(_("A drive's root cannot be moved."))
    require(found, "write", 1)
    await locking.require_unlocked(db, found, lock_tokens, subtree=True)
    target = await _target(db, principal, found, folder_id, lock_tokens)
    node_row = found.node
    old_parent = found.chain[1]
    name = await _place_in(db, principal, target, found.node, name, on_conflict, lock_tokens, moving=True)
    if target.drive.id != found.drive.id:
        ids = await subtree_ids(db, node_row.id)
        size = await _subtree_bytes(db, ids)
        await quotas.charge(db, found.drive.id, -size)
        await quotas.charge(db, target.drive.id, size)
        await _change_drive(db, ids, target.drive)
    node_row.parent_id = target.node.id
    node_row.name, node_row.name_key = name, names.key(name)
    node_row.modified_at, node_row.modified_by = utcnow(), principal.user_id
    await touch_folder(db, old_parent, principal)
    await touch_folder(db, target.node, principal)
    await db.flush()
    return await node_info(db, await load(db, principal, node_row.id))


async def _change_drive(db: AsyncSession, ids: list[uuid.UUID], drive: Drive) -> None:
    """Nodes moved to another drive: their drive changes, and the custom fields of the
    drive they left no longer apply."""
    await db.execute(update(Node).where(Node.id.in_(ids)).values(drive_id=drive.id))
    await db.execute(update(Lock).where(Lock.node_id.in_(ids)).values(drive_id=drive.id))
    await db.execute(delete(FieldValue).where(FieldValue.node_id.in_(ids)))


async def copy(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    folder_id: uuid.UUID,
    *,
    name: str | None = None,
    on_conflict: OnConflict = "error",
    lock_tokens: Collection[str] = (),
) -> NodeInfo:
    """Copy a file (its current version) or a folder and everything in it (not what is
    in the trash) into a folder. The copies share the blobs of the originals; their bytes
    count in the target drive's quota. Descriptions, tags and properties are copied."""
    found = await load(db, principal, node_id, "read")
    target = await _target(db, principal, found, folder_id, lock_tokens)
    source = found.node
    name = await _place_in(db, principal, target, source, name, on_conflict, lock_tokens, moving=False)
    originals = await _live_subtree(db, source)
    mapping: dict[uuid.UUID, uuid.UUID] = {}
    now = utcnow()
    versions = {
        v.node_id: v
        for v in (
            await db.execute(
                select(Version)
                .where(Version.id.in_([n.current_version_id for n in originals if n.current_version_id]))
                .with_for_update(read=True)
            )
        ).scalars()
    }
    total = 0
    for original in originals:  # parents before children
        new_id = uuid.uuid4()
        mapping[original.id] = new_id
        version = versions.get(original.id)
        version_id = uuid.uuid4() if version is not None else None
        is_top = original.id == source.id
        db.add(
            Node(
                id=new_id,
                org_id=principal.org_id,
                drive_id=target.drive.id,
                parent_id=target.node.id if is_top else mapping[original.parent_id],  # type: ignore[index]
                kind=original.kind,
                name=name if is_top else original.name,
                name_key=names.key(name) if is_top else original.name_key,
                current_version_id=version_id,
                size=version.size if version is not None else 0,
                etag=new_etag(),
                content_type=original.content_type,
                description=original.description,
                created_by=principal.user_id,
                created_at=now,
                modified_by=principal.user_id,
                modified_at=now,
            )
        )
        if version is not None and version_id is not None:
            total += version.size
            db.add(
                Version(
                    id=version_id,
                    org_id=principal.org_id,
                    node_id=new_id,
                    number=1,
                    blob_key=version.blob_key,
                    size=version.size,
                    sha256=version.sha256,
                    content_type=version.content_type,
                    created_by=principal.user_id,
                    created_at=now,
                )
            )
            # the text; the preview is the blob's already
            extraction.plan(db, principal.org_id, version_id, original.name, version.content_type, version.size)
    await db.flush()
    await _copy_metadata(db, mapping)
    await quotas.charge(db, target.drive.id, total)
    await touch_folder(db, target.node, principal)
    await db.flush()
    return await node_info(db, await load(db, principal, mapping[source.id]))


async def _live_subtree(db: AsyncSession, top: Node) -> list[Node]:
    """``top`` and what is under it outside the trash, parents before their children."""
    if top.kind == NodeKind.FILE:
        return [top]
    ordered, level = [top], [top.id]
    while level:
        rows = list(
            (
                await db.execute(
                    select(Node).where(Node.parent_id.in_(level), Node.trashed_at.is_(None)).order_by(Node.name_key)
                )
            ).scalars()
        )
        ordered.extend(rows)
        level = [n.id for n in rows if n.kind == NodeKind.FOLDER]
    return ordered


async def _copy_metadata(db: AsyncSession, mapping: dict[uuid.UUID, uuid.UUID]) -> None:
    ids = list(mapping)
    for tag in (await db.execute(select(Tag).where(Tag.node_id.in_(ids)))).scalars().all():
        db.add(Tag(org_id=tag.org_id, node_id=mapping[tag.node_id], label=tag.label, key=tag.key))
    for prop in (await db.execute(select(Property).where(Property.node_id.in_(ids)))).scalars().all():
        db.add(
            Property(
                org_id=prop.org_id,
                node_id=mapping[prop.node_id],
                namespace=prop.namespace,
                name=prop.name,
                value=prop.value,
            )
        )
    await db.flush()


async def lock(
    db: AsyncSession,
    principal: Principal,
    drive_id: uuid.UUID,
    path: str,
    *,
    exclusive: bool = True,
    depth_infinity: bool = False,
    owner_xml: str = "",
    duration: timedelta = timedelta(hours=1),
) -> LockInfo:
    """A WebDAV lock on the node at ``path`` in a drive, or on that name before it exists
    (its folder must exist): the first write there creates the node under the lock."""
    parts = _segments(path)
    if not parts:
        raise Invalid(_("A drive's root cannot be locked."))
    folder = await find_path(db, principal, drive_id, "/".join(parts[:-1]), "write")
    name = names.clean(parts[-1])
    existing = await child(db, folder.node.id, name)
    options = {"exclusive": exclusive, "depth_infinity": depth_infinity, "owner_xml": owner_xml, "duration": duration}
    if existing is not None:
        found = await load(db, principal, existing.id, "write")
        return await locking.lock(db, principal, found, **options)  # type: ignore[arg-type]
    return await locking.lock(db, principal, folder, path=locking.name_path(folder, name), **options)  # type: ignore[arg-type]
