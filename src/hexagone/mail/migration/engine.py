"""The import engine: copies every folder of a source into a Hexagone mailbox, with flags
and internal dates, resumably and idempotently. The CLI and the console's jobs call it.

Progress lives in the mailbox's :class:`ImportRun` for that source (one per mailbox and
source): per source folder, its UIDVALIDITY and the highest UID copied, written in the
same transaction as each batch of messages. An import that stops (killed, connection
lost, ``limit`` reached) resumes after its last committed batch, and one that finished
copies nothing when run again.

When a folder cannot be resumed by UID — the first import from this source, or the
source's UIDVALIDITY changed — the messages already in the target folder are recognised
by Message-ID and size (by the digest of their bytes when they have no Message-ID) and
skipped: importing again from another address of the same server, or an export of the
same mailbox, copies nothing twice. Each existing message matches one source message
only, so a source folder that holds two copies of a message still gives two.

The source is blocking code and runs in a thread; each batch is fetched, its bytes put
in the blob store, then its rows and the progress committed together. While a batch is
written the next one is parsed: in this process by default, or in worker processes when
the caller asks for them (the bulk loader, ``hexagone mail import``: parsing MIME is a
third of its CPU, and the GIL keeps one process on one core).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.mail import mime
from hexagone.mail.migration import folders as mapping
from hexagone.mail.migration.sources import Entry, Source, SourceFolder, SourceMessage
from hexagone.mail.models import Folder, ImportRun, Mailbox, Message
from hexagone.mail.service import mailboxes, store, subscriptions, writers

BATCH_MESSAGES = 50
BATCH_BYTES = 16 * 1024 * 1024

Progress = Callable[[int, int], None]  # (done, total)


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"  # stopped at the limit asked for; runs again from there
    FAILED = "failed"


ACTIVE = (Status.QUEUED, Status.RUNNING)


@dataclass
class FolderReport:
    source: str
    target: str
    copied: int = 0
    skipped: int = 0


@dataclass
class Report:
    run_id: uuid.UUID
    mailbox: str
    source: str
    status: str = Status.RUNNING
    total: int = 0
    done: int = 0
    folders: list[FolderReport] = field(default_factory=list)

    @property
    def copied(self) -> int:
        return sum(f.copied for f in self.folders)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.folders)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": str(self.run_id),
            "mailbox": self.mailbox,
            "source": self.source,
            "status": self.status,
            "total": self.total,
            "done": self.done,
            "copied": self.copied,
            "skipped": self.skipped,
            "folders": [asdict(f) for f in self.folders],
        }


async def find_run(db: AsyncSession, mailbox_id: uuid.UUID, label: str) -> ImportRun | None:
    query = select(ImportRun).where(ImportRun.mailbox_id == mailbox_id, ImportRun.source == label)
    return (await db.execute(query.order_by(ImportRun.created_at))).scalars().first()


async def run_for(db: AsyncSession, mailbox: Mailbox, label: str) -> ImportRun:
    """The mailbox's import run for this source, created on first use."""
    run = await find_run(db, mailbox.id, label)
    if run is None:
        run = ImportRun(org_id=mailbox.org_id, mailbox_id=mailbox.id, source=label, status=Status.QUEUED, progress={})
        db.add(run)
        await db.flush()
    return run


def clean_flags(flags: Sequence[str]) -> list[str]:
    """The flags our store accepts; an odd keyword of another server is dropped, not a
    reason to lose the message."""
    kept: list[str] = []
    for flag in flags:
        try:
            kept += store.check_flags([flag])
        except Invalid:
            continue
    return kept


def _key(message_id: str, size: int, sha256: str) -> tuple[str, Any]:
    return ("id", (message_id, size)) if message_id else ("sha256", sha256)


def _batches(entries: Sequence[Entry], limit: int | None) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    size = 0
    for count, entry in enumerate(entries):
        if limit is not None and count >= limit:
            break
        if batch and (len(batch) >= BATCH_MESSAGES or size + entry.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.size
    if batch:
        yield batch


def _parse_all(raws: list[bytes]) -> list[tuple[mime.Parsed, str]]:
    """Each message parsed, with the digest of its bytes (run in a worker process)."""
    return [(mime.parse(raw), hashlib.sha256(raw).hexdigest()) for raw in raws]


class _Parser:
    """Where a batch's messages are parsed: in this process, yielding to the writes of
    the previous batch between messages, or spread over ``processes`` worker processes."""

    def __init__(self, processes: int):
        self.processes = processes
        self.pool = (
            ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("forkserver"))
            if processes > 0
            else None
        )

    async def parse(self, raws: list[bytes]) -> list[tuple[mime.Parsed, str]]:
        if self.pool is None:
            parsed = []
            for raw in raws:
                parsed += _parse_all([raw])
                await asyncio.sleep(0)  # the previous batch's writes go on meanwhile
            return parsed
        loop = asyncio.get_running_loop()
        size = -(-len(raws) // self.processes)
        parts = await asyncio.gather(
            *(loop.run_in_executor(self.pool, _parse_all, raws[i : i + size]) for i in range(0, len(raws), size))
        )
        return [one for part in parts for one in part]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class Importer:
    """One pass of an import: ``await Importer(...).run()``.

    Its write transactions are write sessions (on SQLite they take the write lock at
    BEGIN: an import runs beside deliveries and other imports) and start with a write
    anyway. The run's progress is kept here and written whole, never read back in the
    middle of a pass (one pass at a time writes a run's progress).
    """

    def __init__(
        self,
        org_id: uuid.UUID,
        mailbox: Mailbox,
        source: Source,
        run_id: uuid.UUID,
        progress: dict[str, Any],
        *,
        limit: int | None = None,
        on_progress: Progress | None = None,
        parse_processes: int = 0,
    ):
        self.org_id, self.mailbox, self.source, self.run_id = org_id, mailbox, source, run_id
        self.progress = dict(progress)
        self.limit = limit
        self.parse_processes = parse_processes
        self.on_progress = on_progress or (lambda done, total: None)
        self.report = Report(run_id, mailbox.address, source.label)

    async def run(self) -> Report:
        await self._update(status=Status.RUNNING, error="", finished_at=None)
        parser = _Parser(self.parse_processes)
        try:
            status = await self._copy(parser)
        except ServiceError as exc:
            await self._update(status=Status.FAILED, error=exc.message, finished_at=utcnow())
            raise
        except Exception:
            await self._update(
                status=Status.FAILED, error=_("The import failed unexpectedly; start it again."), finished_at=utcnow()
            )
            raise
        finally:
            parser.close()
        await self._update(status=status, finished_at=utcnow())
        self.report.status = status
        return self.report

    async def _update(self, **values: Any) -> None:
        async with org_session(self.org_id, write=True) as db:
            await self._write_run(db, **values)
            await db.commit()

    async def _write_run(self, db: AsyncSession, **values: Any) -> None:
        result = await db.execute(
            update(ImportRun)
            .where(ImportRun.id == self.run_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise Invalid(_("The import was deleted."))

    async def _copy(self, parser: _Parser) -> Status:
        listing = []
        for folder in await asyncio.to_thread(self.source.folders):
            if not mapping.is_virtual(folder.special_use):
                listing.append((folder, await asyncio.to_thread(self.source.entries, folder)))
        plans = []
        for folder, entries in listing:
            state = self.progress.get(folder.name) or {}
            resumable = state.get("uidvalidity") == folder.uidvalidity
            last = int(state.get("last_uid", 0)) if resumable else 0
            pending = [e for e in entries if e.uid > last]
            self.report.done += len(entries) - len(pending)
            plans.append((folder, pending, resumable))
        self.report.total = sum(len(entries) for _folder, entries in listing)
        await self._update(total=self.report.total, done=self.report.done)
        self.on_progress(self.report.done, self.report.total)
        remaining = self.limit
        for folder, pending, resumable in plans:
            if remaining is not None and remaining <= 0:
                break
            handled = await self._copy_folder(parser, folder, pending, resumable, remaining)
            if remaining is not None:
                remaining -= handled
        return Status.DONE if self.report.done >= self.report.total else Status.PARTIAL

    async def _target(self, folder: SourceFolder) -> Folder:
        """The folder it goes to, created if needed; its progress entry is written now
        (and first, see the class) so that an empty or skipped folder is known next time."""
        special = mapping.special_use_of(folder.parts, folder.special_use)
        async with org_session(self.org_id, write=True) as db:
            await self._save_progress(db, folder, None)
            target = await mailboxes.folder_by_special_use(db, self.mailbox.id, special) if special else None
            if target is None:
                name = mapping.target_name(folder.parts)
                target = await mailboxes.folder_by_name(db, self.mailbox.id, name)
                if target is None:
                    mailbox = await db.get(Mailbox, self.mailbox.id)
                    assert mailbox is not None
                    target = await mailboxes.create_folder(db, mailbox, name, special)
                    if mailbox.user_id is not None:  # what was visible in the old client stays so
                        await subscriptions.subscribe(db, mailbox.org_id, mailbox.user_id, [target.name])
            await db.commit()
            return target

    async def _save_progress(self, db: AsyncSession, folder: SourceFolder, last_uid: int | None, done: int = 0) -> None:
        state = self.progress.get(folder.name) or {}
        if state.get("uidvalidity") != folder.uidvalidity:
            state = {"uidvalidity": folder.uidvalidity, "last_uid": 0}
        if last_uid is not None:
            state = {**state, "last_uid": max(int(state["last_uid"]), last_uid)}
        self.progress = {**self.progress, folder.name: state}
        await self._write_run(db, progress=self.progress, done=ImportRun.done + done)

    async def _existing(self, target: Folder) -> Counter[tuple[str, Any]]:
        async with org_session(self.org_id) as db:
            rows = await db.execute(
                select(Message.message_id, Message.size, Message.sha256).where(Message.folder_id == target.id)
            )
            return Counter(_key(message_id, size, sha256) for message_id, size, sha256 in rows.all())

    async def _copy_folder(
        self, parser: _Parser, folder: SourceFolder, pending: list[Entry], resumable: bool, limit: int | None
    ) -> int:
        target = await self._target(folder)
        found = FolderReport(folder.name, target.name)
        self.report.folders.append(found)
        existing: Counter[tuple[str, Any]] = Counter() if resumable else await self._existing(target)
        handled = 0
        writing: asyncio.Task[None] | None = None  # the previous batch's blobs and rows
        try:
            for batch in _batches(pending, limit):
                messages = await asyncio.to_thread(self.source.fetch, folder, [e.uid for e in batch])
                fresh = []
                for message, (parsed, sha256) in zip(
                    messages, await parser.parse([m.raw for m in messages]), strict=True
                ):
                    key = _key(parsed.message_id, len(message.raw), sha256)
                    if existing[key] > 0:
                        existing[key] -= 1
                    else:
                        fresh.append((message, parsed))
                if writing is not None:
                    await writing  # batches commit in order: the progress says how far they all went
                writing = asyncio.create_task(self._store(target, folder, batch, fresh))
                handled += len(batch)
                found.copied += len(fresh)
                found.skipped += len(batch) - len(fresh)
                self.report.done += len(batch)
                self.on_progress(self.report.done, self.report.total)
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                await asyncio.gather(writing, return_exceptions=True)  # a failure above: let it finish first
        return handled

    async def _store(
        self, target: Folder, folder: SourceFolder, batch: list[Entry], fresh: list[tuple[SourceMessage, mime.Parsed]]
    ) -> None:
        """Add a batch's new messages and its progress in one transaction. The target
        folder is the one from :meth:`_target` (not read again: the first statement must
        be the store's UPDATE of it)."""
        refs = await asyncio.gather(*(store.put_blob(self.org_id, message.raw) for message, _parsed in fresh))
        new = [
            store.NewMessage(ref, parsed, clean_flags(message.flags), _utc(message.internal_date))
            for (message, parsed), ref in zip(fresh, refs, strict=True)
        ]
        async with writers.write_session(self.org_id) as db:
            try:
                await store.add_messages(db, target, new)
            except NoResultFound:
                raise Invalid(
                    _("The folder %(folder)s was deleted during the import; run it again.", folder=target.name)
                ) from None
            await self._save_progress(db, folder, batch[-1].uid, done=len(batch))
            await db.commit()


def _utc(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


async def run_import(
    mailbox: Mailbox,
    source: Source,
    *,
    limit: int | None = None,
    on_progress: Progress | None = None,
    parse_processes: int = 0,
) -> Report:
    """Import ``source`` into ``mailbox`` (from where the last run for that source
    stopped), parsing in ``parse_processes`` worker processes (0: in this one). Raises a
    ServiceError (recorded on the run) when it cannot go on."""
    if limit is not None and limit < 1:
        raise Invalid(_("The limit must be a positive number of messages."))
    async with org_session(mailbox.org_id) as db:
        run = await find_run(db, mailbox.id, source.label)
    if run is None:
        async with org_session(mailbox.org_id, write=True) as db:
            run = ImportRun(
                org_id=mailbox.org_id, mailbox_id=mailbox.id, source=source.label, status=Status.QUEUED, progress={}
            )
            db.add(run)
            await db.commit()
    return await Importer(
        mailbox.org_id,
        mailbox,
        source,
        run.id,
        run.progress or {},
        limit=limit,
        on_progress=on_progress,
        parse_processes=parse_processes,
    ).run()
