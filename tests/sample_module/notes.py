"""The sample module's service: notes a person files for themselves.

A module outside ``src/hexagone`` has no migration path (``hexagone migrate`` runs the
product's one Alembic history), so the sample keeps its notes in a table the core already
has: a note is a notification the module posts to its author (``module="sample"``). Pages,
the API, the search provider and the job all go through this file, as a real module's
pages and API go through its ``service``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import jobs, notifications, policy
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.models import Notification
from hexagone.core.modules import SearchHit

MODULE = "sample"
FILE_NOTE = "sample.tidy"  # the job that files a note, run by the worker of any server
MAX_NOTE = 200


@policy.rule(Notification)
def note_abilities(principal: Principal, note: Notification) -> dict[str, bool]:
    """Its author sees and deletes a note; an administrator sees it but may not delete it."""
    mine = note.user_id == principal.user_id
    return {"view": mine or principal.is_admin, "delete": mine}


def queue_note(db: AsyncSession, principal: Principal, text: str) -> None:
    """Queue the job that files the note, in the caller's transaction: the job exists if
    and only if the request that asked for it commits."""
    if not text.strip():
        raise Invalid(_("Write the text of the note."))
    if len(text) > MAX_NOTE:
        raise Invalid(_("A note holds at most %(n)s characters.", n=MAX_NOTE))
    jobs.enqueue(db, FILE_NOTE, {"user_id": str(principal.user_id), "text": text}, org_id=principal.org_id)


async def tidy(job: jobs.Claimed) -> None:
    """File the queued note with its spaces tidied (one between words, none around)."""
    assert job.org_id is not None, "queue_note gives every note job its organisation"
    async with system_session() as db:
        notifications.post(
            db,
            org_id=job.org_id,
            user_id=uuid.UUID(job.payload["user_id"]),
            module=MODULE,
            title=" ".join(job.payload["text"].split()),
            link="/sample/",
        )
        await db.commit()


def _notes(principal: Principal) -> Select[tuple[Notification]]:
    return select(Notification).where(Notification.module == MODULE, Notification.user_id == principal.user_id)


async def list_notes(db: AsyncSession, principal: Principal, limit: int = 50) -> list[Notification]:
    rows = await db.execute(_notes(principal).order_by(Notification.created_at.desc()).limit(limit))
    return list(rows.scalars())


async def delete_note(db: AsyncSession, principal: Principal, note_id: uuid.UUID) -> None:
    """Delete a note if the rule allows it: 404 for a note one may not see (another
    person's, another organisation's), 403 for one seen but not one's own."""
    note = await db.get(Notification, note_id)
    if note is None or note.module != MODULE:
        raise NotFound(_("No such note."))
    policy.require(principal, note, "delete", _("No such note."))
    await db.delete(note)


async def count_notes(db: AsyncSession) -> int:
    """How many notes the organisation holds: what the admin tab shows."""
    return int((await db.scalar(select(func.count()).where(Notification.module == MODULE))) or 0)


async def search_notes(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    """The unified-search provider: the person's own notes containing the words."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with org_session(principal.org_id) as db:
        stmt = _notes(principal).where(func.lower(Notification.title).like(f"%{escaped}%", escape="\\"))
        rows = await db.execute(stmt.order_by(Notification.created_at.desc()).limit(limit))
        return [SearchHit(kind=_("Note"), title=n.title, subtitle="", url="/sample/") for n in rows.scalars()]
