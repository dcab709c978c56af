"""Turning a user id into the Principal the core carries through a request, and saying
which rows who is who is made of, so that the core's caches of it (principals, the
organisation receiving a domain's mail) drop an answer when one of its rows changes."""

from __future__ import annotations

import uuid

from sqlalchemy import null, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import changes, pubsub
from hexagone.core.auth import Principal
from hexagone.core.changes import domain_key, org_key, user_key
from hexagone.identity.models import Domain, Group, GroupMember, Organisation, Space, SpaceMember, User

# What load_principal reads, and which organisation a domain is (directory.org_for_domain).
# Deleting a space or a group removes its members in the database (ON DELETE CASCADE), out
# of the session's sight: that drops the organisation's. A renamed domain drops its
# organisation's entries, the old name's with them.
changes.directory.declare(
    {
        Domain: lambda domain: (domain_key(domain.name), org_key(domain.org_id)),
        User: lambda user: (user_key(user.id),),
        SpaceMember: lambda member: (user_key(member.user_id),),
        GroupMember: lambda member: (user_key(member.user_id),),
        Organisation: lambda org: (org_key(org.id),),
        Space: lambda space: (org_key(space.org_id),),
        Group: lambda group: (org_key(group.org_id),),
    },
    bus=pubsub.get_bus,
)


async def load_principal(db: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    """The active user with their organisation, spaces and groups; None if disabled.

    This runs on every signed-in request, so it reads plain columns rather than ORM objects
    (no identity map to fill, no selectin load of the organisation's domains, and not the
    logo itself, only whether there is one), in two queries: the user with their
    organisation, then their space and group memberships together (bench/README.md).
    """
    row = (
        await db.execute(
            select(
                User.email,
                User.display_name,
                User.role,
                User.locale,
                User.is_active,
                User.totp_enabled_at.is_not(None).label("mfa_enabled"),
                Organisation.id.label("org_id"),
                Organisation.name.label("org_name"),
                Organisation.modules,
                Organisation.brand_primary,
                (Organisation.brand_logo != "").label("has_logo"),
                Organisation.mfa_required,
                Organisation.default_locale,
            )
            .join(Organisation, Organisation.id == User.org_id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None or not row.is_active:
        return None
    # One round trip for both memberships: a group membership is the row without a role.
    memberships = await db.execute(
        select(SpaceMember.space_id, SpaceMember.role)
        .where(SpaceMember.user_id == user_id)
        .union_all(select(GroupMember.group_id, null()).where(GroupMember.user_id == user_id))
    )
    space_roles: dict[uuid.UUID, str] = {}
    group_ids: set[uuid.UUID] = set()
    for member_of, role in memberships.all():
        if role is None:
            group_ids.add(member_of)
        else:
            space_roles[member_of] = role
    return Principal(
        user_id=user_id,
        org_id=row.org_id,
        email=row.email,
        display_name=row.display_name,
        role=row.role,
        locale=row.locale,
        org_name=row.org_name,
        org_modules=tuple(row.modules or ()),
        org_brand_primary=row.brand_primary,
        org_brand_logo="/branding/logo" if row.has_logo else "",
        org_mfa_required=row.mfa_required,
        org_default_locale=row.default_locale,
        mfa_enabled=bool(row.mfa_enabled),
        space_roles=space_roles,
        group_ids=frozenset(group_ids),
    )


async def principal_for_email(email: str) -> Principal:
    """The active user of this address as a principal, for a command acting as them;
    NotFound otherwise."""
    from hexagone.core.db import system_session
    from hexagone.core.exceptions import NotFound

    async with system_session() as db:
        user_id = (await db.execute(select(User.id).where(User.email == email.strip().lower()))).scalar()
        found = await load_principal(db, user_id) if user_id is not None else None
    if found is None:
        raise NotFound(f"no active user {email}")
    return found
