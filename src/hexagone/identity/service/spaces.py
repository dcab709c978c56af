"""Collaborative spaces and their members: the unit of sharing and of pricing."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, policy
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import OrgRole, Space, SpaceMember, SpaceRole, User

MANAGING_ROLES = (SpaceRole.OWNER, SpaceRole.MANAGER)


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid(_("A space needs a name of at most 200 characters."))
    return name


async def create_space(db: AsyncSession, actor: Principal, *, name: str, description: str = "") -> Space:
    if actor.is_guest:
        raise Invalid(_("Guests cannot create spaces."))
    name = _clean_name(name)
    if (await db.execute(select(Space.id).where(Space.name == name))).first():
        raise Conflict(_("A space named “%(name)s” already exists.", name=name))
    space = Space(org_id=actor.org_id, name=name, description=description.strip()[:2000])
    db.add(space)
    await db.flush()
    db.add(SpaceMember(org_id=actor.org_id, space_id=space.id, user_id=actor.user_id, role=SpaceRole.OWNER))
    audit.record(db, "space.created", org_id=actor.org_id, actor=actor, target_type="space",
                 target_id=space.id, target_label=name)
    return space


async def visible_spaces(db: AsyncSession, principal: Principal) -> list[Space]:
    """Admins see every space of the organisation; others the spaces they belong to."""
    stmt = select(Space).where(Space.archived_at.is_(None)).order_by(Space.name)
    if not principal.is_admin:
        stmt = stmt.where(Space.id.in_(principal.space_ids or {uuid.UUID(int=0)}))
    return list((await db.execute(stmt)).scalars())


async def get_space(db: AsyncSession, principal: Principal, space_id: uuid.UUID) -> Space:
    space = await db.get(Space, space_id)
    if space is None or not policy.abilities(principal, space).get("view"):
        raise NotFound(_("No such space."))
    return space


async def members(db: AsyncSession, space_id: uuid.UUID) -> list[tuple[SpaceMember, User]]:
    stmt = (
        select(SpaceMember, User)
        .join(User, User.id == SpaceMember.user_id)
        .where(SpaceMember.space_id == space_id)
        .order_by(User.display_name)
    )
    return [(m, u) for m, u in (await db.execute(stmt)).all()]


async def add_member(db: AsyncSession, actor: Principal, space: Space, user_id: uuid.UUID,
                     role: str = SpaceRole.MEMBER) -> SpaceMember:
    policy.require(actor, space, "manage_members", _("You cannot manage this space's members."))
    if role not in tuple(SpaceRole):
        raise Invalid(_("Unknown space role."))
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.role == OrgRole.GUEST and role in MANAGING_ROLES:
        raise Invalid(_("A guest can be a member or a reader, not a manager."))
    existing = (
        await db.execute(select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user.id))
    ).scalar_one_or_none()
    if existing is not None:
        existing.role = role
        member = existing
    else:
        member = SpaceMember(org_id=space.org_id, space_id=space.id, user_id=user.id, role=role)
        db.add(member)
    audit.record(db, "space.member_set", org_id=actor.org_id, actor=actor, target_type="space",
                 target_id=space.id, target_label=space.name, details={"user": user.email, "role": str(role)})
    return member


async def remove_member(db: AsyncSession, actor: Principal, space: Space, user_id: uuid.UUID) -> None:
    policy.require(actor, space, "manage_members", _("You cannot manage this space's members."))
    member = (
        await db.execute(select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("This person is not a member of the space."))
    await db.delete(member)
    audit.record(db, "space.member_removed", org_id=actor.org_id, actor=actor, target_type="space",
                 target_id=space.id, target_label=space.name, details={"user_id": str(user_id)})
