"""The directory other modules read: organisations, their domains, users and groups.

Other modules may not import identity's models directly (the layering rule); they read
these tables through here, so that what they depend on is one short, deliberate list.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.identity.models import Domain, Group, GroupMember, Organisation, OrgRole, User

__all__ = ["Domain", "Group", "GroupMember", "OrgRole", "Organisation", "User", "people_matching", "user_by_email"]


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    return (await db.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()


async def people_matching(db: AsyncSession, org_id: uuid.UUID, query: str, limit: int = 10) -> list[User]:
    """Active members (not guests) whose name or address contains ``query``: address
    completion in the webmail."""
    pattern = f"%{query.strip().lower()}%"
    result = await db.execute(
        select(User)
        .where(
            User.org_id == org_id,
            User.is_active.is_(True),
            User.role != OrgRole.GUEST,
            or_(User.email.ilike(pattern), User.display_name.ilike(pattern)),
        )
        .order_by(User.display_name)
        .limit(limit)
    )
    return list(result.scalars())
