"""Groups of users: distribution lists for mail, audiences for sharing."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import Group, GroupMember, User


async def create_group(db: AsyncSession, actor: Principal, *, name: str, description: str = "") -> Group:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid(_("A group needs a name of at most 200 characters."))
    if (await db.execute(select(Group.id).where(Group.name == name))).first():
        raise Conflict(_("A group named “%(name)s” already exists.", name=name))
    group = Group(org_id=actor.org_id, name=name, description=description.strip()[:2000])
    db.add(group)
    await db.flush()
    audit.record(db, "group.created", org_id=actor.org_id, actor=actor, target_type="group",
                 target_id=group.id, target_label=name)
    return group


async def list_groups(db: AsyncSession) -> list[Group]:
    return list((await db.execute(select(Group).order_by(Group.name))).scalars())


async def get_group(db: AsyncSession, group_id: uuid.UUID) -> Group:
    group = await db.get(Group, group_id)
    if group is None:
        raise NotFound(_("No such group."))
    return group


async def group_members(db: AsyncSession, group_id: uuid.UUID) -> list[User]:
    stmt = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    return list((await db.execute(stmt.order_by(User.display_name))).scalars())


async def add_to_group(db: AsyncSession, actor: Principal, group: Group, user_id: uuid.UUID) -> None:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    exists = await db.execute(
        select(GroupMember.id).where(GroupMember.group_id == group.id, GroupMember.user_id == user.id)
    )
    if exists.first() is None:
        db.add(GroupMember(org_id=group.org_id, group_id=group.id, user_id=user.id))
        audit.record(db, "group.member_added", org_id=actor.org_id, actor=actor, target_type="group",
                     target_id=group.id, target_label=group.name, details={"user": user.email})


async def remove_from_group(db: AsyncSession, actor: Principal, group: Group, user_id: uuid.UUID) -> None:
    member = (
        await db.execute(select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.user_id == user_id))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("This person is not in the group."))
    await db.delete(member)
    audit.record(db, "group.member_removed", org_id=actor.org_id, actor=actor, target_type="group",
                 target_id=group.id, target_label=group.name, details={"user_id": str(user_id)})
