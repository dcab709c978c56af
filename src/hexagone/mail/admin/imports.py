"""Mail admin: importing mailboxes from another IMAP server, one at a time or from a CSV
file of many, and following their progress (the list refreshes itself while an import
is queued or running)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core import templating
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, upload
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import FORM_ERRORS, done, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.mail.migration import jobs
from hexagone.mail.migration.engine import ACTIVE, Status

PATH = "/mail/admin/imports"
MAX_CSV_BYTES = 1024 * 1024


def status_labels() -> dict[str, str]:
    return {
        Status.QUEUED: _("Queued"),
        Status.RUNNING: _("Running"),
        Status.DONE: _("Done"),
        Status.PARTIAL: _("Stopped before the end"),
        Status.FAILED: _("Failed"),
    }


async def _runs(request: Request) -> dict[str, Any]:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        runs = await jobs.list_runs(db, admin)
    return {"runs": runs, "active": any(run.status in ACTIVE for run, _address in runs), "statuses": status_labels()}


async def _page(request: Request, error: ServiceError | None = None, report: jobs.CsvReport | None = None) -> Response:
    values = {"mailbox": "", "source": ""}
    if error is not None:
        form = await request.form()
        values = {name: str(form.get(name, ""))[:500] for name in values}
    return render(
        request, "mail/admin/imports.html", {**await _runs(request), "values": values, "report": report}, error
    )


async def _queue(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    await jobs.queue_import(
        db,
        admin,
        field(form, "mailbox", 320),
        field(form, "source", 500),
        field(form, "password", jobs.MAX_PASSWORD),
        insecure=field(form, "insecure", 10) == "on",
    )
    return done(PATH, "import_queued")


@admin_required
async def import_csv(request: Request) -> Response:
    admin = me(request)
    form = await request.form()
    try:
        data = await upload(form, "file", MAX_CSV_BYTES)
        if data is None:
            raise Invalid(_("Choose a CSV file to import."))
        async with org_session(admin.org_id, write=True) as db:
            report = await jobs.queue_csv(db, admin, data, insecure=field(form, "insecure", 10) == "on")
            await db.commit()
    except FORM_ERRORS as exc:
        return await _page(request, exc)
    return await _page(request, report=report)


@admin_required
async def runs_fragment(request: Request) -> Response:
    """The list of imports alone, which the page asks for every few seconds while one
    is queued or running."""
    return templating.render(request, "mail/admin/_import_runs.html", await _runs(request))


ROUTES = [
    Route("/admin/imports", page_or_submit(admin_required, _queue, _page), methods=["GET", "POST"]),
    Route("/admin/imports/csv", import_csv, methods=["POST"]),
    Route("/admin/imports/runs", runs_fragment),
]
