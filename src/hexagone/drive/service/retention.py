"""The drive's jobs: old versions pruned by the organisation's retention (count and age),
the trash purged after its period, and the blobs of deleted versions removed.

Each job is idempotent and asks the database what is true now rather than trusting its
payload: a file restored from the trash is not purged, a version still named by a copy
keeps its blob. A prune that leaves versions which will pass the age limit later plans
itself again for then; a purge whose period was lengthened meanwhile waits for the new
date. ``hexagone drive sweep`` runs both over a whole organisation (after changing its
settings, say).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.db import org_session, utcnow
from hexagone.core.jobs import Claimed, JobSpec, PermanentFailure
from hexagone.drive.extraction import jobs as extraction
from hexagone.drive.models import Node, Version
from hexagone.drive.service import quotas, trashing, uploads
from hexagone.drive.service.content import PRUNE_JOB

log = logging.getLogger("hexagone.drive.retention")


def _org(job: Claimed) -> uuid.UUID:
    if job.org_id is None:
        raise PermanentFailure("a drive job names its organisation")
    return job.org_id


async def prune_node(db: AsyncSession, node: Node, rules: quotas.Settings) -> set[str]:
    """Delete the versions of a file beyond the retention, in the caller's transaction;
    returns the blob keys to collect. The current version always stays."""
    rows = list(
        (await db.execute(select(Version).where(Version.node_id == node.id).order_by(Version.number.desc()))).scalars()
    )
    cutoff = utcnow() - timedelta(days=rules.keep_version_days)
    keep: list[Version] = []
    drop: list[Version] = []
    for position, version in enumerate(rows):  # newest first
        current = version.id == node.current_version_id
        if current or (position < rules.keep_versions and version.created_at >= cutoff):
            keep.append(version)
        else:
            drop.append(version)
    for version in drop:
        await db.delete(version)
    await db.flush()
    await quotas.charge(db, node.drive_id, -sum(v.size for v in drop))
    older = [v for v in keep if v.id != node.current_version_id]
    if older:
        jobs.enqueue(
            db,
            PRUNE_JOB,
            {"node_id": node.id},
            org_id=node.org_id,
            run_at=min(v.created_at for v in older) + timedelta(days=rules.keep_version_days, minutes=1),
        )
    return {v.blob_key for v in drop}


async def _on_node(job: Claimed, apply: Callable[[AsyncSession, Node, quotas.Settings], Awaitable[object]]) -> None:
    """Run ``apply`` on the job's node in one write transaction, if the node still exists.
    The node's row is locked first (PostgreSQL; SQLite's write transactions take turns
    anyway): each new version plans a prune of its file, and two workers running two of
    them at once both dropped the same versions and charged the quota twice."""
    async with org_session(_org(job), write=True) as db:
        node = await db.get(Node, uuid.UUID(str(job.payload["node_id"])), with_for_update=True)
        if node is None:
            return
        await apply(db, node, await quotas.settings(db))
        await db.commit()


async def _prune_and_collect(db: AsyncSession, node: Node, rules: quotas.Settings) -> None:
    trashing.collect_later(db, node.org_id, await prune_node(db, node, rules))


async def prune(job: Claimed) -> None:
    await _on_node(job, _prune_and_collect)


async def purge_node(db: AsyncSession, node: Node, rules: quotas.Settings) -> bool:
    """Purge a trashed node whose period has passed (True), or plan it for later."""
    if node.trashed_at is None:
        return False
    due = node.trashed_at + timedelta(days=rules.trash_days)
    if due > utcnow():
        jobs.enqueue(db, trashing.PURGE_JOB, {"node_id": node.id}, org_id=node.org_id, run_at=due)
        return False
    await trashing.remove(db, node.org_id, node)
    return True


async def purge(job: Claimed) -> None:
    await _on_node(job, purge_node)


async def collect_blobs(org_id: uuid.UUID, keys: Iterable[str]) -> int:
    """Delete the blobs among ``keys`` that no version names any more; how many went."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    async with org_session(org_id) as db:
        named = set((await db.execute(select(Version.blob_key).where(Version.blob_key.in_(wanted)))).scalars())
    store = blobs.get_store()
    removed = 0
    for key in wanted:
        if key not in named and await store.delete(key):
            removed += 1
            await store.delete(extraction.preview_key(key))
    return removed


async def collect(job: Claimed) -> None:
    keys = job.payload.get("keys")
    if not isinstance(keys, list):
        raise PermanentFailure("drive.collect needs a list of keys")
    await collect_blobs(_org(job), [str(k) for k in keys])


async def sweep(org_id: uuid.UUID) -> dict[str, int]:
    """Apply the organisation's retention now to every file and the whole trash."""
    pruned = purged = 0
    async with org_session(org_id, write=True) as db:
        rules = await quotas.settings(db)
        with_history = select(Version.node_id).group_by(Version.node_id).having(func.count() > 1)
        # locked as the jobs lock them (:func:`_on_node`), so that a prune running meanwhile waits
        history = select(Node).where(Node.id.in_(with_history)).with_for_update()
        for node in (await db.execute(history)).scalars().all():
            keys = await prune_node(db, node, rules)
            pruned += len(keys)
            trashing.collect_later(db, org_id, keys)
        trashed = (await db.execute(select(Node).where(Node.trashed_at.is_not(None)).with_for_update())).scalars().all()
        for node in trashed:
            gone_with_its_folder = await db.scalar(select(Node.id).where(Node.id == node.id)) is None
            if not gone_with_its_folder and await purge_node(db, node, rules):
                purged += 1
        await db.commit()
    return {"versions_pruned": pruned, "purged": purged}


JOBS = [
    JobSpec(PRUNE_JOB, prune),
    JobSpec(trashing.PURGE_JOB, purge),
    JobSpec(trashing.COLLECT_JOB, collect),
    JobSpec(uploads.EXPIRE_JOB, uploads.expire),
]
