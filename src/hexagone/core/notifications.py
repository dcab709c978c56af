"""The notification centre: any module posts to a user; the shell shows the unread ones.

A module needs only this file: :func:`post` in its own transaction (the notification
exists if the change does), with its name as ``module``; :func:`last_from` finds its
latest one, to refresh it rather than pile up near-duplicates (a count of unread mail).
The shell's bell (``/notifications``) shows them, whatever module posted them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import utcnow
from hexagone.core.models import Notification


def post(
    db: AsyncSession, *, org_id: uuid.UUID, user_id: uuid.UUID, module: str, title: str, body: str = "", link: str = ""
) -> Notification:
    note = Notification(org_id=org_id, user_id=user_id, module=module, title=title[:200], body=body, link=link[:500])
    db.add(note)
    return note


async def last_from(db: AsyncSession, user_id: uuid.UUID, module: str) -> Notification | None:
    """The latest notification ``module`` posted to the user, read or not."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.module == module)
        .order_by(Notification.created_at.desc())
        .limit(1)
    )
    return (await db.execute(stmt)).scalar()


async def unread_count(db: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int((await db.execute(stmt)).scalar_one())


async def latest(db: AsyncSession, user_id: uuid.UUID, limit: int = 30) -> list[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc())
        .limit(limit)
    )
    return list((await db.execute(stmt)).scalars())


async def mark_all_read(db: AsyncSession, user_id: uuid.UUID) -> None:
    await db.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
