"""Unified search providers: people (not for guests) and spaces the user can see."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import SearchHit
from hexagone.identity.models import Space, User


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def people(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    if principal.is_guest:
        return []
    like = _like(query)
    async with org_session(principal.org_id) as db:
        rows = await db.execute(
            select(User)
            .where(
                User.is_active.is_(True),
                or_(func.lower(User.display_name).like(like, escape="\\"), User.email.like(like, escape="\\")),
            )
            .order_by(User.display_name)
            .limit(limit)
        )
        return [
            SearchHit(kind=_("Person"), title=u.display_name, subtitle=u.email, url=f"mailto:{u.email}")
            for u in rows.scalars()
        ]


async def spaces(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    like = _like(query)
    async with org_session(principal.org_id) as db:
        stmt = select(Space).where(func.lower(Space.name).like(like, escape="\\"), Space.archived_at.is_(None))
        if not principal.is_admin:
            stmt = stmt.where(Space.id.in_(list(principal.space_ids)))
        rows = await db.execute(stmt.order_by(Space.name).limit(limit))
        return [
            SearchHit(kind=_("Space"), title=s.name, subtitle=s.description[:120], url=f"/spaces/{s.id}")
            for s in rows.scalars()
        ]
