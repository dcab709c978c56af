"""The audit log: every administrative action and every failed login, written in the same
transaction as the change it describes, and readable (filter, export) by org admins.

An entry that names no organisation (a sign-in attempt for an address nobody has) is
seen by no organisation's administrators, so it also goes to the installation's log
(logger ``hexagone.audit``), where the operator sees it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.models import AuditEntry

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGIN_THROTTLED = "auth.login_throttled"

log = logging.getLogger("hexagone.audit")


def record(
    db: AsyncSession,
    action: str,
    *,
    org_id: uuid.UUID | None,
    actor: Principal | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: object = "",
    target_label: str = "",
    ip: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        org_id=org_id,
        created_at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_label=actor.email if actor else actor_label,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id else "",
        target_label=target_label[:320],
        ip=ip[:64],
        details=details or {},
    )
    db.add(entry)
    if org_id is None:
        log.warning("%s %s from %s %s", action, entry.target_label or entry.actor_label, entry.ip or "?", entry.details)
    return entry


async def recent_failures(
    db: AsyncSession, *, window: timedelta, account: str | None = None, ip: str | None = None
) -> int:
    """Failed logins in the window, for one account (by e-mail), one client address, or both."""
    return await recent(db, LOGIN_FAILED, window=window, target_label=account, ip=ip)


async def recent(
    db: AsyncSession,
    action: str,
    *,
    window: timedelta,
    target_label: str | None = None,
    target_id: object = None,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> int:
    """How many ``action`` entries the window holds, for one target, actor or client
    address (any of them together): what a throttle counts (failed logins, wrong
    passwords of a module's own secrets, requests someone may not repeat too often)."""
    since: datetime = utcnow() - window
    stmt = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action, AuditEntry.created_at >= since)
    )
    if target_label is not None:
        stmt = stmt.where(AuditEntry.target_label == target_label)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == str(target_id))
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if ip is not None:
        stmt = stmt.where(AuditEntry.ip == ip)
    return int((await db.execute(stmt)).scalar_one())


async def last_login(db: AsyncSession, *, account: str, ip: str) -> datetime | None:
    """When ``account`` last signed in from ``ip`` (its latest ``auth.login`` entry)."""
    stmt = select(func.max(AuditEntry.created_at)).where(
        AuditEntry.action == LOGIN, AuditEntry.target_label == account, AuditEntry.ip == ip
    )
    return (await db.execute(stmt)).scalar_one()


async def search(
    db: AsyncSession,
    *,
    action: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEntry]:
    """The entries of the session's organisation (the session is org-scoped), newest first;
    ``offset`` pages through them (ties on the timestamp are broken by id, so pages are stable)."""
    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if actor:
        stmt = stmt.where(AuditEntry.actor_label.contains(actor))
    if since:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.created_at < until)
    return list((await db.execute(stmt)).scalars())
