"""Imports started from the admin console: one mailbox from another IMAP server, or many
from a CSV file. Each becomes a durable job (``mail.import``) that the job worker runs
with the same engine as the CLI, so the page only shows the run's progress.

The job's payload holds the source's address and its password sealed (see
:mod:`.sealing`); when the import ends — done, failed, or refused by the other server —
the sealed password is removed from the payload. A connection that fails is tried again
later (with backoff) from where the import stopped; a refused login or an untrusted
certificate is not, since trying again would only repeat it.

Only IMAP sources are accepted here: an mbox or Maildir path would name a file on the
server, which the console must never let anyone read.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, jobs
from hexagone.core.auth import Principal
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Conflict, Invalid, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import require_admin
from hexagone.mail.migration import open_source, sealing
from hexagone.mail.migration.engine import ACTIVE, Status, run_for, run_import
from hexagone.mail.migration.imap import parse_url
from hexagone.mail.migration.sources import SourceUnavailable
from hexagone.mail.models import ImportRun, Mailbox
from hexagone.mail.service.administration import mailbox_by_address

IMPORT_JOB = "mail.import"
MAX_ATTEMPTS = 5
MAX_CSV_LINES = 1000
MAX_PASSWORD = 1024


@dataclass
class CsvReport:
    queued: list[str] = field(default_factory=list)  # mailbox addresses
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


async def _has_live_job(db: AsyncSession, run: ImportRun) -> bool:
    live = await db.execute(
        select(jobs.Job.id).where(
            jobs.Job.kind == IMPORT_JOB,
            jobs.Job.status.in_([jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING]),
            jobs.Job.payload["run_id"].as_string() == str(run.id),
        )
    )
    return live.first() is not None


async def queue_import(
    db: AsyncSession, actor: Principal, mailbox_address: str, source_url: str, password: str, *, insecure: bool = False
) -> ImportRun:
    """Queue the import of ``source_url`` into the mailbox with that address; the caller
    commits (the job exists if and only if the run's change does)."""
    require_admin(actor)
    mailbox = await mailbox_by_address(db, mailbox_address)
    address = parse_url(source_url)
    if not password or len(password) > MAX_PASSWORD:
        raise Invalid(_("The password of %(login)s on the other server is required.", login=address.login))
    run = await run_for(db, mailbox, address.label)
    if run.status in ACTIVE and await _has_live_job(db, run):
        raise Conflict(
            _(
                "An import from %(source)s into %(mailbox)s is already under way.",
                source=address.label,
                mailbox=mailbox.address,
            )
        )
    run.status, run.error, run.finished_at = Status.QUEUED, "", None
    jobs.enqueue(
        db,
        IMPORT_JOB,
        {"run_id": str(run.id), "source": address.label, "secret": sealing.seal(password), "insecure": insecure},
        org_id=actor.org_id,
        max_attempts=MAX_ATTEMPTS,
    )
    audit.record(
        db,
        "mail.import_queued",
        org_id=actor.org_id,
        actor=actor,
        target_type="mail",
        target_label=mailbox.address,
        details={"source": address.label},
    )
    await db.flush()
    return run


async def queue_csv(db: AsyncSession, actor: Principal, data: bytes, *, insecure: bool = False) -> CsvReport:
    """One import per line ``email,imap_url,password`` (a first line ``email,…`` is a
    header). A line that cannot be queued is reported and leaves the others queued."""
    require_admin(actor)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file must be UTF-8 text.")) from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and rows[0][0].strip().lower() in ("email", "e-mail", "courriel"):
        rows = rows[1:]
    if not rows:
        raise Invalid(_("The file has no line to import."))
    if len(rows) > MAX_CSV_LINES:
        raise Invalid(_("At most %(n)s lines per file.", n=MAX_CSV_LINES))
    report = CsvReport()
    for number, row in enumerate(rows, start=1):
        if len(row) != 3:
            report.errors.append((number, _("A line has three fields: email,imap_url,password.")))
            continue
        email, url, password = (cell.strip() for cell in row)
        try:
            async with db.begin_nested():
                run = await queue_import(db, actor, email, url, password, insecure=insecure)
        except ServiceError as exc:
            report.errors.append((number, exc.message))
            continue
        report.queued.append((await db.get(Mailbox, run.mailbox_id)).address)  # type: ignore[union-attr]
    return report


async def list_runs(db: AsyncSession, actor: Principal, limit: int = 200) -> list[tuple[ImportRun, str]]:
    """The organisation's imports, newest first, with their mailbox's address."""
    require_admin(actor)
    rows = await db.execute(
        select(ImportRun, Mailbox.address)
        .join(Mailbox, Mailbox.id == ImportRun.mailbox_id)
        .order_by(ImportRun.created_at.desc(), ImportRun.id)
        .limit(limit)
    )
    return [(run, address) for run, address in rows.all()]


async def _forget_password(job: jobs.Claimed) -> None:
    async with org_session(job.org_id, write=True) as db:  # type: ignore[arg-type]
        await db.execute(
            update(jobs.Job)
            .where(jobs.Job.id == job.id)
            .values(payload={k: v for k, v in job.payload.items() if k != "secret"})
        )
        await db.commit()


async def _record(org_id: uuid.UUID, run_id: uuid.UUID, status: str, error: str) -> None:
    async with org_session(org_id, write=True) as db:
        await db.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(status=status, error=error, finished_at=utcnow() if status == Status.FAILED else None)
        )
        await db.commit()


async def run_import_job(job: jobs.Claimed) -> None:
    assert job.org_id is not None
    run_id = uuid.UUID(job.payload["run_id"])
    async with org_session(job.org_id) as db:
        run = await db.get(ImportRun, run_id)
        mailbox = await db.get(Mailbox, run.mailbox_id) if run is not None else None
    if run is None or mailbox is None or "secret" not in job.payload:
        await _forget_password(job)
        return
    try:
        password = sealing.unseal(job.payload["secret"])
        source = await asyncio.to_thread(
            open_source, job.payload["source"], password, insecure=bool(job.payload.get("insecure"))
        )
        try:
            await run_import(mailbox, source)
        finally:
            await asyncio.to_thread(source.close)
    except asyncio.CancelledError:
        raise  # the server is stopping: the worker gives the job back, password included
    except SourceUnavailable as exc:
        if job.attempt < job.max_attempts:
            await _record(job.org_id, run_id, Status.QUEUED, _("%(reason)s Trying again later.", reason=exc.message))
            raise
        await _record(job.org_id, run_id, Status.FAILED, exc.message)
    except ServiceError as exc:
        await _record(job.org_id, run_id, Status.FAILED, exc.message)
    except Exception:
        if job.attempt < job.max_attempts:
            raise
        await _record(job.org_id, run_id, Status.FAILED, _("The import failed unexpectedly; start it again."))
        await _forget_password(job)
        raise
    await _forget_password(job)


# Retried slowly: the source server is usually down or refusing for a while.
IMPORT = jobs.JobSpec(IMPORT_JOB, run_import_job, jobs.Backoff(base=60, cap=1800))
