"""Loading a node as a principal reaches it, and the plain values the face hands out.

Every function of the face starts here: :func:`load` reads the node with its folders up
to the drive's root (one recursive query), the drive, and the shares on that chain that
apply to the principal, then asks the policy. A node of another organisation, one in the
trash, or one the principal may not see is :class:`NotFound`, whatever the reason, so
that an identifier's existence never leaks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import session_memo, utcnow
from hexagone.core.exceptions import Forbidden, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Drive, Lock, Node, NodeKind, Share
from hexagone.drive.policy import RANK, Reach, granted, role_name

MAX_DEPTH = 1000  # deeper than any real tree; a guard against a cycle that cannot happen


@dataclass(frozen=True)
class LockInfo:
    """A lock on a node as others see it: who holds it and how (``dav`` or ``checkout``)."""

    kind: str
    user_id: uuid.UUID | None
    expires_at: datetime | None
    token: str = ""  # given only to its holder
    # What WebDAV's lockdiscovery shows (filled by the lock functions, not in listings):
    scope: str = "exclusive"  # or shared
    depth: str = "0"  # or infinity
    owner_xml: str = ""  # the DAV:owner element as the client sent it
    node_id: uuid.UUID | None = None  # the node locked (its lock root)


@dataclass(frozen=True)
class NodeInfo:
    """A folder or a file (the public face's shape; never a row). In a folder's listing
    (:func:`~hexagone.drive.service.list_folder`) ``version_id`` and ``created_by`` are
    None: no listing shows them, and reading them cost a third of a large listing's time;
    :func:`~hexagone.drive.service.node` gives them."""

    id: uuid.UUID
    drive_id: uuid.UUID
    parent_id: uuid.UUID | None
    kind: str
    name: str
    size: int
    etag: str
    content_type: str
    description: str
    version_id: uuid.UUID | None
    created_at: datetime
    created_by: uuid.UUID | None
    modified_at: datetime
    modified_by: uuid.UUID | None
    trashed_at: datetime | None = None
    has_preview: bool = False  # its current version's preview is ready (/drive/previews/<id>)
    lock: LockInfo | None = None
    # What the principal may do with it ("read", "write", "manage", "share"); filled when
    # the node was loaded for them (a listing gives its entries the folder's).
    abilities: dict[str, bool] = field(default_factory=dict)

    @property
    def is_folder(self) -> bool:
        return self.kind == NodeKind.FOLDER

    @property
    def is_root(self) -> bool:
        return self.parent_id is None


def not_found() -> str:
    return _("No such file or folder.")


def active_lock() -> ColumnElement[bool]:
    now = utcnow()
    return or_(Lock.expires_at.is_(None), Lock.expires_at > now)


NODE_COLUMNS = (  # in the order of NodeInfo's fields
    "id",
    "drive_id",
    "parent_id",
    "kind",
    "name",
    "size",
    "etag",
    "content_type",
    "description",
    "current_version_id",
    "created_at",
    "created_by",
    "modified_at",
    "modified_by",
    "trashed_at",
    "has_preview",
)


# Left out of a listing's rows: the drive, the parent and the trash date, which the caller
# knows, and the version and creator, which no listing shows (identifiers are most of the
# cost of 10,000 rows).
LISTING_SKIPS = frozenset({"drive_id", "parent_id", "trashed_at", "current_version_id", "created_by"})


def node_rows(*, listing: bool = False) -> Select[Any]:
    """The columns a :class:`NodeInfo` is made of, with the node's active locks joined:
    one statement however many nodes it reads, giving plain rows, which cost several
    times less to build than objects. ``listing``: the entries of one folder outside the
    trash: :data:`LISTING_SKIPS` are not read."""
    known = LISTING_SKIPS if listing else set()
    columns = [null().label(name) if name in known else getattr(Node, name) for name in NODE_COLUMNS]
    return select(*columns, Lock.kind, Lock.user_id, Lock.expires_at).outerjoin(
        Lock, and_(Lock.node_id == Node.id, active_lock())
    )


def infos(rows: Iterable[Any], abilities: dict[str, bool], folder: Node | None = None) -> list[NodeInfo]:
    """The :class:`NodeInfo` of each node among rows of :func:`node_rows`, in order (a
    node with two shared locks comes twice: kept once); ``folder``, for a listing's rows,
    gives their drive and parent. Positional, as fast as Python builds them."""
    seen: set[uuid.UUID] = set()
    found = []
    for row in rows:
        *columns, lock_kind, lock_user, lock_until = row
        if columns[0] in seen:
            continue
        seen.add(columns[0])
        if folder is not None:
            columns[1], columns[2] = folder.drive_id, folder.id
        lock = LockInfo(lock_kind, lock_user, lock_until) if lock_kind is not None else None
        found.append(NodeInfo(*columns, lock, abilities))  # type: ignore[call-arg]
    return found


def info(node: Node, abilities: dict[str, bool] | None = None) -> NodeInfo:
    """A :class:`NodeInfo` of a loaded node, without its lock (:func:`node_info` reads it)."""
    return NodeInfo(*(getattr(node, name) for name in NODE_COLUMNS), None, abilities or {})  # type: ignore[call-arg]


@dataclass(frozen=True)
class Found:
    """A node as the principal reaches it: the node and its folders up to the root
    (``chain[0]`` is the node, ``chain[-1]`` the root), the drive, and the best role a
    share gives on each node of the chain."""

    principal: Principal
    drive: Drive
    chain: Sequence[Node]
    shares: dict[uuid.UUID, str]

    @property
    def node(self) -> Node:
        return self.chain[0]

    @property
    def reach(self) -> Reach:
        return self.reach_at(0)

    def reach_at(self, index: int) -> Reach:
        """The reach of the node ``index`` steps up the chain (1: the parent)."""
        best = max((RANK[self.shares[n.id]] for n in self.chain[index:] if n.id in self.shares), default=0)
        return Reach(self.drive, self.chain[index], role_name(best) or None)

    @property
    def parent(self) -> Reach | None:
        return self.reach_at(1) if len(self.chain) > 1 else None

    @property
    def in_trash(self) -> bool:
        return any(n.trashed_at is not None for n in self.chain)

    def abilities(self, index: int = 0) -> dict[str, bool]:
        return policy.abilities(self.principal, self.reach_at(index))

    def rank(self) -> int:
        return granted(self.principal, self.reach)


def grantee(principal: Principal) -> ColumnElement[bool]:
    """The shares that give something to the principal: their own, their groups', their
    spaces'. A guest reaches files only through their spaces."""
    spaces = Share.space_id.in_(list(principal.space_ids)) if principal.space_ids else false()
    if principal.is_guest:
        return spaces
    groups = Share.group_id.in_(list(principal.group_ids)) if principal.group_ids else false()
    return or_(Share.user_id == principal.user_id, groups, spaces)


async def shares_on(db: AsyncSession, principal: Principal, node_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The best role the principal's shares give on each of ``node_ids`` (only those with one)."""
    ids = list(node_ids)
    if not ids:
        return {}
    rows = await db.execute(select(Share.node_id, Share.role).where(Share.node_id.in_(ids), grantee(principal)))
    best: dict[uuid.UUID, str] = {}
    for node_id, role in rows:
        if RANK[role] > RANK.get(best.get(node_id), 0):
            best[node_id] = role
    return best


async def chain_of(db: AsyncSession, node_id: uuid.UUID, *, for_update: bool = False) -> list[Node]:
    """The node and its folders up to the root, node first; [] when there is no such node
    (in the session's organisation)."""
    up = select(Node.id, Node.parent_id, literal(0).label("depth")).where(Node.id == node_id).cte(recursive=True)
    step = select(Node.id, Node.parent_id, (up.c.depth + 1).label("depth")).join(up, Node.id == up.c.parent_id)
    up = up.union_all(step.where(up.c.depth < MAX_DEPTH))
    query = select(Node).join(up, Node.id == up.c.id).order_by(up.c.depth)
    if for_update:
        query = query.with_for_update(of=Node)
    return list((await db.execute(query)).scalars())


async def found_from_chain(db: AsyncSession, principal: Principal, chain: list[Node]) -> Found | None:
    drive = await db.get(Drive, chain[0].drive_id) if chain else None
    if drive is None:
        return None
    return Found(principal, drive, chain, await shares_on(db, principal, [n.id for n in chain]))


async def load(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    ability: str = "view",
    *,
    trashed: bool = False,
    for_update: bool = False,
) -> Found:
    """The node, if the principal may do ``ability`` on it: :class:`NotFound` when they may
    not see it (or it is in the trash, unless ``trashed``), Forbidden when they see it but
    may not do that. ``for_update`` locks its rows (PostgreSQL) for a write that follows.

    What the session found is remembered until it writes (:func:`remember`): a request
    asks for the same node several times (reached by path, then opened, then its
    properties)."""
    found = None if for_update else recalled(db, principal, node_id)
    if found is None:
        found = await found_from_chain(db, principal, await chain_of(db, node_id, for_update=for_update))
        if found is not None:
            remember(db, found)
    if found is None or found.drive.org_id != principal.org_id or (found.in_trash and not trashed):
        raise NotFound(not_found())
    require(found, ability)
    return found


def remember(db: AsyncSession, found: Found) -> None:
    session_memo(db, "drive.found")[found.node.id] = found


def recalled(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> Found | None:
    """The node as this session found it for this principal, while the session has not
    written since."""
    found: Found | None = session_memo(db, "drive.found").get(node_id)
    return found if found is not None and found.principal is principal else None


def require(found: Found, ability: str, index: int = 0) -> None:
    """:class:`NotFound` unless the principal sees the node ``index`` steps up the chain,
    :class:`Forbidden` unless they may also do ``ability`` there."""
    abilities = found.abilities(index)
    if not abilities.get("view"):
        raise NotFound(not_found())
    if not abilities.get(ability):
        raise Forbidden(_("You are not allowed to do this with this file or folder."))


async def load_folder(db: AsyncSession, principal: Principal, folder_id: uuid.UUID, ability: str = "view") -> Found:
    found = await load(db, principal, folder_id, ability)
    if found.node.kind != NodeKind.FOLDER:
        raise NotFound(_("No such folder."))
    return found


async def node_info(db: AsyncSession, found: Found) -> NodeInfo:
    """The node of ``found`` as the face hands it out, with its lock and abilities."""
    [one] = infos(await db.execute(node_rows().where(Node.id == found.node.id)), found.abilities())
    return one


async def subtree_ids(db: AsyncSession, folder_id: uuid.UUID, *, include_self: bool = True) -> list[uuid.UUID]:
    """Every node under a folder, trashed or not (they go where it goes), one query."""
    down = select(Node.id, literal(0).label("depth")).where(Node.id == folder_id).cte(recursive=True)
    step = select(Node.id, (down.c.depth + 1).label("depth")).join(down, Node.parent_id == down.c.id)
    down = down.union_all(step.where(down.c.depth < MAX_DEPTH))
    query = select(down.c.id)
    if not include_self:
        query = query.where(down.c.depth > 0)
    return list((await db.execute(query)).scalars())
