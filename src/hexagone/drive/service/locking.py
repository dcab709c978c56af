"""Locks: WebDAV's LOCK/UNLOCK and the web's check-out/check-in, one table for both, so
that a document checked out on the web is locked for WebDAV clients and the other way
round.

A write to a node passes when no active lock covers it (a lock on the node, or a
depth-infinity lock on one of its folders), or when the writer satisfies one of the locks
that do: it sent the lock's token (WebDAV's ``If`` header), or it is the user who checked
the document out. A lock on a name that does not exist yet (WebDAV's lock on an unmapped
URL) is kept by its path of name keys (:func:`name_path`) and moves onto the node the
first write there creates.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, Locked, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Lock, LockKind, Node, NodeKind
from hexagone.drive.service import names
from hexagone.drive.service.access import Found, LockInfo, NodeInfo, active_lock, load, node_info, subtree_ids

MAX_TIMEOUT = timedelta(days=7)


def _locked() -> Locked:
    return Locked(_("This file is locked by someone else."))


def _lock_info(lock: Lock, principal: Principal) -> LockInfo:
    mine = lock.user_id == principal.user_id
    return LockInfo(
        kind=lock.kind,
        user_id=lock.user_id,
        expires_at=lock.expires_at,
        token=lock.token if mine else "",
        scope=lock.scope,
        depth=lock.depth,
        owner_xml=lock.owner_xml,
        node_id=lock.node_id,
    )


def name_path(folder: Found, name: str) -> str:
    """The key of the name ``name`` in ``folder`` for a lock taken before it exists: the
    names' keys from the root, so that a lock on "Docs/Plan.odt" covers the "docs/plan.ODT"
    a client then writes, as the names themselves would match."""
    return "/".join([*(names.key(n.name) for n in reversed(folder.chain[:-1])), names.key(name)])


async def covering(db: AsyncSession, chain: Sequence[Node], *, drive_id: uuid.UUID, path: str = "") -> list[Lock]:
    """The active locks that cover the node ``chain[0]`` (or, with ``path``, the unmapped
    name at that path under ``chain[0]``'s drive, ``chain`` being its folder's chain)."""
    ids = [n.id for n in chain]
    itself = Lock.node_id == ids[0] if not path else and_(Lock.node_id.is_(None), Lock.path == path)
    above = ids if path else ids[1:]
    conditions = [itself]
    if above:
        conditions.append(and_(Lock.node_id.in_(above), Lock.depth == "infinity"))
    query = select(Lock).where(Lock.drive_id == drive_id, active_lock(), or_(*conditions))
    return list((await db.execute(query)).scalars())


def _satisfied(lock: Lock, principal: Principal, tokens: Collection[str]) -> bool:
    return lock.token in tokens or (lock.kind == LockKind.CHECKOUT and lock.user_id == principal.user_id)


async def require_unlocked(
    db: AsyncSession, found: Found, tokens: Collection[str] = (), *, path: str = "", subtree: bool = False
) -> None:
    """:class:`Locked` unless the principal may write ``found``'s node (or the new name at
    ``path`` in that folder); ``subtree`` also checks locks inside a folder (a move or a
    trash takes everything under it along)."""
    locks = await covering(db, found.chain, drive_id=found.drive.id, path=path)
    if locks and not any(_satisfied(lock, found.principal, tokens) for lock in locks):
        raise _locked()
    if subtree and found.node.kind == NodeKind.FOLDER and not path:
        below = await _locks_below(db, found.node.id)
        if any(not _satisfied(lock, found.principal, tokens) for lock in below):
            raise _locked()


async def _locks_below(db: AsyncSession, folder_id: uuid.UUID) -> list[Lock]:
    ids = await subtree_ids(db, folder_id, include_self=False)
    if not ids:
        return []
    return list((await db.execute(select(Lock).where(Lock.node_id.in_(ids), active_lock()))).scalars())


async def locks(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[LockInfo]:
    """The active locks covering a node, its own and its folders' (depth infinity)."""
    found = await load(db, principal, node_id)
    return [_lock_info(lock, principal) for lock in await covering(db, found.chain, drive_id=found.drive.id)]


async def checkout(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> NodeInfo:
    """Check a file out: until check-in, only the principal writes it, and everyone sees
    who has it. Refused (:class:`Locked`) when someone else holds a lock on it."""
    found = await load(db, principal, node_id, "write", for_update=True)
    if found.node.kind != NodeKind.FILE:
        raise Invalid(_("Only a file can be checked out."))
    existing = await covering(db, found.chain, drive_id=found.drive.id)
    if any(lock.kind == LockKind.CHECKOUT and lock.user_id == principal.user_id for lock in existing):
        raise Conflict(_("You have already checked this file out."))
    if existing:
        raise _locked()
    db.add(
        Lock(
            org_id=principal.org_id,
            drive_id=found.drive.id,
            node_id=found.node.id,
            token=f"urn:uuid:{uuid.uuid4()}",
            kind=LockKind.CHECKOUT,
            user_id=principal.user_id,
        )
    )
    await db.flush()
    return await node_info(db, found)


async def checkin(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> NodeInfo:
    """Release a check-out: its holder, or a manager of the file (someone left on holiday)."""
    found = await load(db, principal, node_id, "write")
    held = [lock for lock in await covering(db, found.chain, drive_id=found.drive.id) if lock.kind == LockKind.CHECKOUT]
    if not held:
        raise Conflict(_("This file is not checked out."))
    if any(lock.user_id != principal.user_id for lock in held) and not found.abilities().get("manage"):
        raise _locked()
    await db.execute(delete(Lock).where(Lock.id.in_([lock.id for lock in held])))
    return await node_info(db, found)


async def lock(
    db: AsyncSession,
    principal: Principal,
    found: Found,
    *,
    path: str = "",
    exclusive: bool = True,
    depth_infinity: bool = False,
    owner_xml: str = "",
    duration: timedelta = timedelta(hours=1),
) -> LockInfo:
    """A WebDAV lock on ``found``'s node (or, with ``path``, on the unmapped name at that
    path, ``found`` being its folder), loaded with "write". Refused (:class:`Locked`) when
    it conflicts: any lock against an exclusive one, an exclusive one against a shared one."""
    existing = await covering(db, found.chain, drive_id=found.drive.id, path=path)
    if depth_infinity and not path and found.node.kind == NodeKind.FOLDER:
        existing += await _locks_below(db, found.node.id)
    if any(exclusive or other.scope == "exclusive" for other in existing):
        raise _locked()
    row = Lock(
        org_id=principal.org_id,
        drive_id=found.drive.id,
        node_id=None if path else found.node.id,
        path=path,
        token=f"urn:uuid:{uuid.uuid4()}",
        kind=LockKind.DAV,
        scope="exclusive" if exclusive else "shared",
        depth="infinity" if depth_infinity else "0",
        owner_xml=owner_xml,
        user_id=principal.user_id,
        expires_at=utcnow() + min(duration, MAX_TIMEOUT),
    )
    db.add(row)
    await db.flush()
    return _lock_info(row, principal)


async def refresh(db: AsyncSession, principal: Principal, token: str, duration: timedelta) -> LockInfo:
    """Extend a WebDAV lock the principal holds."""
    row = await db.scalar(select(Lock).where(Lock.token == token, active_lock()))
    if row is None or row.user_id != principal.user_id:
        raise NotFound(_("No such lock."))
    row.expires_at = utcnow() + min(duration, MAX_TIMEOUT)
    await db.flush()
    return _lock_info(row, principal)


async def unlock(db: AsyncSession, principal: Principal, token: str) -> None:
    """Release a lock by its token: its holder only (a manager uses check-in)."""
    row = await db.scalar(select(Lock).where(Lock.token == token))
    if row is None or row.user_id != principal.user_id:
        raise NotFound(_("No such lock."))
    await db.delete(row)
    await db.flush()


async def adopt(db: AsyncSession, drive_id: uuid.UUID, path: str, node_id: uuid.UUID) -> None:
    """A node was just made at ``path`` (:func:`name_path`): the locks taken on that name
    now lock it."""
    await db.execute(
        update(Lock)
        .where(Lock.drive_id == drive_id, Lock.node_id.is_(None), Lock.path == path)
        .values(node_id=node_id, path="")
    )
