"""Identity's part of an organisation's export (``hexagone org export``): the organisation,
its people, groups and spaces as JSON, for another system to take over.

No secret leaves: no password hash, no MFA secret or recovery code, no token, invitation
or reset link; only whether MFA is on.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import system_session
from hexagone.core.exceptions import NotFound
from hexagone.core.export import ExportWriter, export_organisation
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import Registry
from hexagone.identity.models import Group, GroupMember, Organisation, Space, SpaceMember, User
from hexagone.identity.service.orgs import org_by_domain


async def export(db: AsyncSession, org_id: uuid.UUID, writer: ExportWriter) -> None:
    org = await db.get(Organisation, org_id)
    assert org is not None, "the core exports an organisation that exists"
    writer.write_json(
        "organisation.json",
        {
            "id": org.id,
            "name": org.name,
            "domains": [domain.name for domain in org.domains],
            "modules": org.modules,
            "default_locale": org.default_locale,
            "mfa_required": org.mfa_required,
            "brand_primary": org.brand_primary,
            "created_at": org.created_at,
        },
    )
    users = list((await db.execute(select(User).where(User.org_id == org_id).order_by(User.email))).scalars())
    writer.write_json("users.json", [_user(user) for user in users])
    emails = {user.id: user.email for user in users}

    in_group: dict[uuid.UUID, list[str]] = defaultdict(list)
    for member in (await db.execute(select(GroupMember).where(GroupMember.org_id == org_id))).scalars():
        in_group[member.group_id].append(emails[member.user_id])
    groups = (await db.execute(select(Group).where(Group.org_id == org_id).order_by(Group.name))).scalars()
    writer.write_json(
        "groups.json",
        [
            {
                "id": group.id,
                "name": group.name,
                "description": group.description,
                "created_at": group.created_at,
                "members": sorted(in_group[group.id]),
            }
            for group in groups
        ],
    )

    in_space: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for seat in (await db.execute(select(SpaceMember).where(SpaceMember.org_id == org_id))).scalars():
        in_space[seat.space_id].append({"email": emails[seat.user_id], "role": seat.role})
    spaces = (await db.execute(select(Space).where(Space.org_id == org_id).order_by(Space.name))).scalars()
    writer.write_json(
        "spaces.json",
        [
            {
                "id": space.id,
                "name": space.name,
                "description": space.description,
                "created_at": space.created_at,
                "archived_at": space.archived_at,
                "members": sorted(in_space[space.id], key=lambda member: member["email"]),
            }
            for space in spaces
        ],
    )


def _user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.is_active,
        "locale": user.locale,
        "mfa_enabled": user.mfa_enabled,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


async def export_by_domain(registry: Registry, domain: str, destination: Path) -> dict[str, Any]:
    """Export the organisation that has ``domain`` to ``destination`` (a new zip) with the
    parts of the modules it sees; returns the manifest."""
    async with system_session() as db:
        org = await org_by_domain(db, domain)
    if org is None:
        raise NotFound(_("No organisation has the domain %(domain)s.", domain=domain))
    about = {"id": org.id, "name": org.name, "domain": org.primary_domain}
    return await export_organisation(registry.exporters(org.modules or []), org.id, about, destination)
