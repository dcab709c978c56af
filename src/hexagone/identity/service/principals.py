"""Turning a user id into the Principal the core carries through a request."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.identity.models import GroupMember, Organisation, SpaceMember, User


async def load_principal(db: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    """The active user with their organisation, spaces and groups; None if disabled."""
    row = (
        await db.execute(
            select(User, Organisation).join(Organisation, Organisation.id == User.org_id).where(User.id == user_id)
        )
    ).first()
    if row is None:
        return None
    user, org = row
    if not user.is_active:
        return None
    spaces = await db.execute(
        select(SpaceMember.space_id, SpaceMember.role).where(SpaceMember.user_id == user.id)
    )
    groups = await db.execute(select(GroupMember.group_id).where(GroupMember.user_id == user.id))
    return Principal(
        user_id=user.id,
        org_id=org.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        locale=user.locale,
        org_name=org.name,
        org_modules=tuple(org.modules or ()),
        org_brand_primary=org.brand_primary,
        org_brand_logo="/branding/logo" if org.brand_logo else "",
        org_mfa_required=org.mfa_required,
        org_default_locale=org.default_locale,
        mfa_enabled=user.mfa_enabled,
        space_roles={space_id: role for space_id, role in spaces.all()},
        group_ids=frozenset(g for (g,) in groups.all()),
    )
