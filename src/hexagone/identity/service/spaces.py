"""Collaborative spaces and their members: the unit of sharing and of pricing."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, policy
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import OrgRole, Space, SpaceMember, SpaceRole, User
from hexagone.identity.service.orgs import require_admin
from hexagone.identity.service.validation import clean_label, clean_text

MANAGING_ROLES = (SpaceRole.OWNER, SpaceRole.MANAGER)


async def create_space(
    db: AsyncSession, actor: Principal, *, name: str, description: str = "", owner_id: uuid.UUID | None = None
) -> Space:
    """A new space owned by the actor, or by ``owner_id`` when an admin creates it for
    someone else (the admin then does not become a member)."""
    if actor.is_guest:
        raise Invalid(_("Guests cannot create spaces."))
    name = clean_label(name, _("A space needs a name of at most 200 characters."))
    description = clean_text(description)
    owner = actor.user_id
    if owner_id is not None and owner_id != actor.user_id:
        require_admin(actor)
        user = await db.get(User, owner_id)
        if user is None:
            raise NotFound(_("No such user."))
        if user.is_guest or not user.is_active:
            raise Invalid(_("A space's owner must be an active member of the organisation."))
        owner = user.id
    if (await db.execute(select(Space.id).where(Space.name == name))).first():
        raise Conflict(_("A space named “%(name)s” already exists.", name=name))
    space = Space(org_id=actor.org_id, name=name, description=description)
    db.add(space)
    await db.flush()
    db.add(SpaceMember(org_id=actor.org_id, space_id=space.id, user_id=owner, role=SpaceRole.OWNER))
    audit.record(
        db,
        "space.created",
        org_id=actor.org_id,
        actor=actor,
        target_type="space",
        target_id=space.id,
        target_label=name,
        details={"owner": str(owner)},
    )
    return space


async def all_spaces(db: AsyncSession, actor: Principal) -> list[Space]:
    """Every space of the organisation, archived ones last: the admin console's view."""
    require_admin(actor)
    stmt = select(Space).order_by(Space.archived_at.is_not(None), Space.name)
    return list((await db.execute(stmt)).scalars())


async def member_counts(db: AsyncSession) -> dict[uuid.UUID, int]:
    rows = await db.execute(select(SpaceMember.space_id, func.count()).group_by(SpaceMember.space_id))
    return {space_id: int(count) for space_id, count in rows.all()}


async def set_archived(db: AsyncSession, actor: Principal, space_id: uuid.UUID, archived: bool) -> Space:
    """Archiving hides a space from everyone's lists and stops it counting as an active
    (billed) space; nothing in it is deleted, and restoring brings it back as it was."""
    space = await get_space(db, actor, space_id)
    policy.require(actor, space, "archive", _("Only the space's owners can archive it."))
    space.archived_at = utcnow() if archived else None
    audit.record(
        db,
        "space.archived" if archived else "space.restored",
        org_id=actor.org_id,
        actor=actor,
        target_type="space",
        target_id=space.id,
        target_label=space.name,
    )
    return space


def _check_changeable(actor: Principal, space: Space, roles: tuple[str | None, ...]) -> None:
    """Members of an archived space stay as they were; only owners (and admins) may give
    or take the owner role, so a manager cannot take a space over. The caller has checked
    that the actor manages the space's members."""
    if space.archived_at is not None:
        raise Conflict(_("This space is archived: restore it first."))
    if SpaceRole.OWNER in roles and not (actor.is_admin or actor.space_roles.get(space.id) == SpaceRole.OWNER):
        raise Forbidden(_("Only the space's owners can give or take the owner role."))


async def _keep_an_owner(db: AsyncSession, space: Space, leaving: SpaceMember) -> None:
    if leaving.role != SpaceRole.OWNER:
        return
    others = await db.execute(
        select(func.count())
        .select_from(SpaceMember)
        .where(SpaceMember.space_id == space.id, SpaceMember.role == SpaceRole.OWNER, SpaceMember.id != leaving.id)
    )
    if not others.scalar_one():
        raise Conflict(_("A space keeps at least one owner: make someone else owner first."))


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


async def add_member(
    db: AsyncSession, actor: Principal, space: Space, user_id: uuid.UUID, role: str = SpaceRole.MEMBER
) -> SpaceMember:
    policy.require(actor, space, "manage_members", _("You cannot manage this space's members."))
    if role not in tuple(SpaceRole):
        raise Invalid(_("Unknown space role."))
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.role == OrgRole.GUEST and role in MANAGING_ROLES:
        raise Invalid(_("A guest can be a member or a reader, not a manager."))
    if not user.is_active:
        raise Conflict(_("This account is disabled."))
    existing = (
        await db.execute(select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user.id))
    ).scalar_one_or_none()
    _check_changeable(actor, space, (role, existing.role if existing else None))
    if existing is not None:
        if role != SpaceRole.OWNER:
            await _keep_an_owner(db, space, existing)
        existing.role = role
        member = existing
    else:
        member = SpaceMember(org_id=space.org_id, space_id=space.id, user_id=user.id, role=role)
        db.add(member)
    audit.record(
        db,
        "space.member_set",
        org_id=actor.org_id,
        actor=actor,
        target_type="space",
        target_id=space.id,
        target_label=space.name,
        details={"user": user.email, "role": str(role)},
    )
    return member


async def remove_member(db: AsyncSession, actor: Principal, space: Space, user_id: uuid.UUID) -> None:
    policy.require(actor, space, "manage_members", _("You cannot manage this space's members."))
    member = (
        await db.execute(select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("This person is not a member of the space."))
    _check_changeable(actor, space, (member.role,))
    await _keep_an_owner(db, space, member)
    await db.delete(member)
    audit.record(
        db,
        "space.member_removed",
        org_id=actor.org_id,
        actor=actor,
        target_type="space",
        target_id=space.id,
        target_label=space.name,
        details={"user_id": str(user_id)},
    )
