"""An organisation's chat rules: how long messages are kept, and whether edits and
deletions keep the earlier text for the audit. Administrators change them; every
change is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import ChatSettings
from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import require_admin

MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class Rules:
    retention_days: int | None = None  # None: kept for ever
    keep_history: bool = False


async def current(db: AsyncSession, org_id: uuid.UUID) -> Rules:
    row = (await db.execute(select(ChatSettings).where(ChatSettings.org_id == org_id))).scalar()
    return Rules(row.retention_days, row.keep_history) if row is not None else Rules()


async def change(db: AsyncSession, principal: Principal, *, retention_days: int | None, keep_history: bool) -> Rules:
    require_admin(principal)
    if retention_days is not None and not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise Invalid(_("Messages are kept 1 to %(n)s days, or for ever.", n=MAX_RETENTION_DAYS))
    row = (await db.execute(select(ChatSettings).where(ChatSettings.org_id == principal.org_id))).scalar()
    if row is None:
        row = ChatSettings(org_id=principal.org_id)
        db.add(row)
    row.retention_days, row.keep_history = retention_days, keep_history
    audit.record(
        db,
        "chat.settings_changed",
        org_id=principal.org_id,
        actor=principal,
        details={"retention_days": retention_days, "keep_history": keep_history},
    )
    return Rules(retention_days, keep_history)
