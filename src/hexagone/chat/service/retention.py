"""The chat's daily jobs: messages older than the organisation's retention period are
deleted with their replies, reactions and kept revisions, and events older than the
replay window (:data:`.events.KEEP_EVENTS`) are dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from hexagone.chat.models import ChatSettings, Message
from hexagone.chat.service import events
from hexagone.core.db import system_session, utcnow
from hexagone.core.jobs import Claimed, JobSpec

PURGE_JOB = "chat.purge"


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
            done = await db.execute(
                delete(Message).where(
                    Message.org_id == org_id, Message.created_at < cutoff, Message.thread_id.is_(None)
                )
            )
            deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
            done = await db.execute(delete(Message).where(Message.org_id == org_id, Message.created_at < cutoff))
            deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
        await events.prune(db)
        await db.commit()
    return deleted


JOBS = [JobSpec(PURGE_JOB, purge_job, every=timedelta(hours=6))]
