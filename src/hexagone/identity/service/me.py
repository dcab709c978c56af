"""What the signed-in user's own summary shows beyond their principal (``GET /api/v1/me``):
the organisation's domains, and the names of their groups and spaces, in one statement.
The principal already holds the rest (who they are, their organisation's name and
modules, which groups and spaces they belong to)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.identity.models import Domain, Group, Space


@dataclass(frozen=True)
class Named:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class AboutMe:
    domains: list[str] = field(default_factory=list)
    groups: list[Named] = field(default_factory=list)  # by name
    spaces: list[Named] = field(default_factory=list)  # unarchived, by name


async def about_me(db: AsyncSession, principal: Principal) -> AboutMe:
    parts = [
        select(literal("domain").label("kind"), Domain.id, Domain.name).where(Domain.org_id == principal.org_id),
    ]
    if principal.group_ids:
        parts.append(select(literal("group"), Group.id, Group.name).where(Group.id.in_(principal.group_ids)))
    if principal.space_ids:
        parts.append(
            select(literal("space"), Space.id, Space.name).where(
                Space.id.in_(principal.space_ids), Space.archived_at.is_(None)
            )
        )
    about = AboutMe()
    rows = await db.execute(union_all(*parts).order_by("kind", "name"))
    for kind, id_, name in rows:
        if kind == "domain":
            about.domains.append(name)
        else:
            (about.groups if kind == "group" else about.spaces).append(Named(id_, name))
    return about
