"""Groups of users: distribution lists for mail, audiences for sharing."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import Group, GroupMember, User
from hexagone.identity.service.orgs import require_admin
from hexagone.identity.service.validation import clean_label, clean_text


async def create_group(db: AsyncSession, actor: Principal, *, name: str, description: str = "") -> Group:
    require_admin(actor)
    name = clean_label(name, _("A group needs a name of at most 200 characters."))
    if (await db.execute(select(Group.id).where(Group.name == name))).first():
        raise Conflict(_("A group named “%(name)s” already exists.", name=name))
    group = Group(org_id=actor.org_id, name=name, description=clean_text(description))
    db.add(group)
    await db.flush()
    audit.record(
        db,
        "group.created",
        org_id=actor.org_id,
        actor=actor,
        target_type="group",
        target_id=group.id,
        target_label=name,
    )
    return group


async def list_groups(db: AsyncSession) -> list[Group]:
    return list((await db.execute(select(Group).order_by(Group.name))).scalars())


async def group_sizes(db: AsyncSession) -> dict[uuid.UUID, int]:
    """Number of members of each group of the session's organisation."""
    rows = await db.execute(select(GroupMember.group_id, func.count()).group_by(GroupMember.group_id))
    return {group_id: int(count) for group_id, count in rows.all()}


async def get_group(db: AsyncSession, group_id: uuid.UUID) -> Group:
    group = await db.get(Group, group_id)
    if group is None:
        raise NotFound(_("No such group."))
    return group


async def group_members(db: AsyncSession, group_id: uuid.UUID) -> list[User]:
    stmt = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    return list((await db.execute(stmt.order_by(User.display_name))).scalars())


async def add_to_group(db: AsyncSession, actor: Principal, group: Group, user_id: uuid.UUID) -> None:
    require_admin(actor)
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    exists = await db.execute(
        select(GroupMember.id).where(GroupMember.group_id == group.id, GroupMember.user_id == user.id)
    )
    if exists.first() is None:
        db.add(GroupMember(org_id=group.org_id, group_id=group.id, user_id=user.id))
        audit.record(
            db,
            "group.member_added",
            org_id=actor.org_id,
            actor=actor,
            target_type="group",
            target_id=group.id,
            target_label=group.name,
            details={"user": user.email},
        )


async def remove_from_group(db: AsyncSession, actor: Principal, group: Group, user_id: uuid.UUID) -> None:
    require_admin(actor)
    member = (
        await db.execute(select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.user_id == user_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("This person is not in the group."))
    await db.delete(member)
    audit.record(
        db,
        "group.member_removed",
        org_id=actor.org_id,
        actor=actor,
        target_type="group",
        target_id=group.id,
        target_label=group.name,
        details={"user_id": str(user_id)},
    )
