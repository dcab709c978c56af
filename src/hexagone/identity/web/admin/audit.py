"""Admin console: the audit log — filters (action prefix, actor, dates), pages, and the
export of exactly the filtered entries as CSV or JSON."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.pages import me, page_number, pager, render
from hexagone.core.web import admin_required
from hexagone.identity.service import audit_export
from hexagone.identity.service.audit_export import AuditFilter, AuditPage


@admin_required
async def audit_page(request: Request) -> Response:
    admin = me(request)
    params = request.query_params
    try:
        flt = AuditFilter.parse(params)
        number = page_number(request)
    except Invalid as exc:
        return render(
            request,
            "identity/admin/audit.html",
            {"raw": params, "page": AuditPage([], 1, False), "pager": pager(request, 1, has_next=False), "links": {}},
            exc,
        )
    async with org_session(admin.org_id) as db:
        page = await audit_export.read_page(db, admin, flt, number)
    query = flt.as_params()
    links = {
        "csv": "/admin/audit.csv?" + urlencode(query),
        "json": "/admin/audit.json?" + urlencode(query),
    }
    return render(
        request,
        "identity/admin/audit.html",
        {"raw": params, "page": page, "pager": pager(request, number, has_next=page.has_next), "links": links},
    )


@admin_required
async def audit_export_file(request: Request) -> Response:
    admin = me(request)
    flt = AuditFilter.parse(request.query_params)
    async with org_session(admin.org_id) as db:
        result = await audit_export.export(db, admin, flt, request.path_params["fmt"])
        await db.commit()
    return Response(
        result.content,
        media_type=result.media_type,
        headers={"content-disposition": f'attachment; filename="{result.filename}"'},
    )


ROUTES = [
    Route("/admin/audit", audit_page),
    Route("/admin/audit.{fmt}", audit_export_file),
]
