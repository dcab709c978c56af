"""What an organisation uses, counted the way Hexagone prices it.

The billed unit is the active collaborative space, with the storage it holds; people are
counted so that an admin sees who really uses the suite, and guests are counted but free,
so that inviting partners never costs anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.identity.models import Invitation, OrgRole, Space, User
from hexagone.identity.service.orgs import require_admin

ACTIVE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Usage:
    active_spaces: int
    archived_spaces: int
    storage_bytes: int
    members: int  # enabled admin and user accounts
    active_members: int  # of those, signed in within ACTIVE_WINDOW
    guests: int  # enabled guest accounts: free
    pending_invitations: int


async def storage_used_bytes(org_id: uuid.UUID) -> int:
    """Bytes the organisation keeps in the blob store: modules store under ``org/<id>/…``
    (see :mod:`hexagone.core.blobs`), so the prefix is exactly what it is billed for."""
    return (await blobs.get_store().usage(f"org/{org_id}")).bytes


async def _count(db: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    return int((await db.execute(select(func.count()).select_from(User).where(*conditions))).scalar_one())


async def org_usage(db: AsyncSession, actor: Principal) -> Usage:
    """The usage of the actor's organisation (the session is scoped to it)."""
    require_admin(actor)
    spaces = dict(
        (
            await db.execute(select(Space.archived_at.is_(None), func.count()).group_by(Space.archived_at.is_(None)))
        ).all()
    )
    now = utcnow()
    invitations = await db.execute(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.expires_at > now)
    )
    member = (User.is_active.is_(True), User.role != OrgRole.GUEST)
    return Usage(
        active_spaces=int(spaces.get(True, 0)),
        archived_spaces=int(spaces.get(False, 0)),
        storage_bytes=await storage_used_bytes(actor.org_id),
        members=await _count(db, *member),
        active_members=await _count(db, *member, User.last_login_at >= now - ACTIVE_WINDOW),
        guests=await _count(db, User.is_active.is_(True), User.role == OrgRole.GUEST),
        pending_invitations=int(invitations.scalar_one()),
    )
