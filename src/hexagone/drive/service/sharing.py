"""Shares: a node and everything under it given to a user, a group or a space, as
reader, editor or manager. Whoever manages a node shares it; the grantee must be of the
same organisation; external guests are reached through a space, never one by one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Share
from hexagone.drive.policy import ROLES
from hexagone.drive.service.access import NodeInfo, grantee, load, node_info
from hexagone.identity.service import ROLE_GUEST, group, person, space_names


@dataclass(frozen=True)
class ShareInfo:
    id: uuid.UUID
    node_id: uuid.UUID
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    space_id: uuid.UUID | None
    role: str
    created_at: datetime
    created_by: uuid.UUID | None


def _share_info(row: Share) -> ShareInfo:
    return ShareInfo(
        row.id, row.node_id, row.user_id, row.group_id, row.space_id, row.role, row.created_at, row.created_by
    )


async def share(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    role: str,
    *,
    user_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
    space_id: uuid.UUID | None = None,
) -> ShareInfo:
    """Share a node with exactly one grantee; sharing again with them changes the role."""
    found = await load(db, principal, node_id, "share")
    if role not in ROLES:
        raise Invalid(_("A share gives the role reader, editor or manager."))
    if sum(x is not None for x in (user_id, group_id, space_id)) != 1:
        raise Invalid(_("A share has one grantee: a user, a group or a space."))
    if user_id is not None:
        grantee_person = await person(db, user_id)
        if grantee_person is None or grantee_person.org_id != principal.org_id or not grantee_person.is_active:
            raise NotFound(_("No such user."))
        if grantee_person.role == ROLE_GUEST:
            raise Invalid(_("Guests reach files through their spaces: share with the space instead."))
    elif group_id is not None:
        await group(db, group_id)  # NotFound across organisations
    elif space_id is not None and not await space_names(db, [space_id]):
        raise NotFound(_("No such space."))
    row = await db.scalar(
        select(Share).where(
            Share.node_id == found.node.id,
            Share.user_id == user_id if user_id else Share.user_id.is_(None),
            Share.group_id == group_id if group_id else Share.group_id.is_(None),
            Share.space_id == space_id if space_id else Share.space_id.is_(None),
        )
    )
    if row is None:
        row = Share(
            org_id=principal.org_id,
            node_id=found.node.id,
            user_id=user_id,
            group_id=group_id,
            space_id=space_id,
            role=role,
            created_by=principal.user_id,
        )
        db.add(row)
    else:
        row.role = role
    await db.flush()
    return _share_info(row)


async def shares(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[ShareInfo]:
    """The shares made on the node itself (for whoever may share it)."""
    found = await load(db, principal, node_id, "share")
    rows = await db.execute(select(Share).where(Share.node_id == found.node.id).order_by(Share.created_at))
    return [_share_info(row) for row in rows.scalars()]


async def unshare(db: AsyncSession, principal: Principal, share_id: uuid.UUID) -> None:
    row = await db.get(Share, share_id)
    if row is None or row.org_id != principal.org_id:
        raise NotFound(_("No such share."))
    await load(db, principal, row.node_id, "share")
    await db.delete(row)
    await db.flush()


async def shared_with_me(db: AsyncSession, principal: Principal) -> list[NodeInfo]:
    """The nodes shared with the principal (themselves, their groups, their spaces), not in
    the trash, that they do not already reach through a share above them."""
    ids = list(
        dict.fromkeys(
            (
                await db.execute(select(Share.node_id).where(grantee(principal)).order_by(Share.created_at.desc()))
            ).scalars()
        )
    )
    found = []
    for node_id in ids:
        try:
            reached = await load(db, principal, node_id)
        except NotFound:
            continue
        if any(n.id in reached.shares for n in reached.chain[1:]):
            continue  # inside something else shared with them: listed there
        found.append(await node_info(db, reached))
    return found
