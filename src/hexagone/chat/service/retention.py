"""The chat's periodic job: messages older than the organisation's retention period are
deleted with their replies, reactions, files and kept revisions, files uploaded but not
sent within :data:`KEEP_UNSENT` are deleted, and events older than the replay window
(:data:`.events.KEEP_EVENTS`) are dropped. Files' bytes go after the commit
(:func:`.attachments.collect_later`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Attachment, ChatSettings, Message
from hexagone.chat.service import attachments, events
from hexagone.core.db import system_session, utcnow
from hexagone.core.jobs import Claimed, JobSpec

PURGE_JOB = "chat.purge"
KEEP_UNSENT = timedelta(days=1)


async def purge_job(_job: Claimed) -> None:
    await purge()


async def purge() -> int:
    """Apply every organisation's retention period and prune the event log; returns the
    messages deleted."""
    deleted = 0
    async with system_session(write=True) as db:
        rules = (await db.execute(select(ChatSettings.org_id, ChatSettings.retention_days))).all()
        for org_id, days in rules:
            if days is None:
                continue
            cutoff = utcnow() - timedelta(days=days)
            old_roots = select(Message.id).where(
                Message.org_id == org_id, Message.created_at < cutoff, Message.thread_id.is_(None)
            )
            going = select(Message.id).where(
                Message.org_id == org_id, or_(Message.created_at < cutoff, Message.thread_id.in_(old_roots))
            )
            await attachments.forget(db, org_id, going)
            done = await db.execute(
                delete(Message).where(
                    Message.org_id == org_id, Message.created_at < cutoff, Message.thread_id.is_(None)
                )
            )
            deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
            done = await db.execute(delete(Message).where(Message.org_id == org_id, Message.created_at < cutoff))
            deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
        await _forget_unsent(db)
        await events.prune(db)
        await db.commit()
    return deleted


JOBS = [JobSpec(PURGE_JOB, purge_job, every=timedelta(hours=6)), *attachments.JOBS]


async def _forget_unsent(db: AsyncSession) -> None:
    """Uploads never sent: their rows now, their bytes after the commit."""
    stmt = select(Attachment.id, Attachment.org_id, Attachment.blob_key).where(
        Attachment.message_id.is_(None), Attachment.created_at < utcnow() - KEEP_UNSENT
    )
    by_org: dict[uuid.UUID, list[str]] = {}
    ids = []
    for attachment_id, org_id, key in (await db.execute(stmt)).all():
        ids.append(attachment_id)
        by_org.setdefault(org_id, []).append(key)
    if ids:
        await db.execute(delete(Attachment).where(Attachment.id.in_(ids)))
    for org_id, keys in by_org.items():
        attachments.collect_later(db, org_id, keys)
