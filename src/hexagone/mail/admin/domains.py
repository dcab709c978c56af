"""Mail admin: the DNS records to publish for each of the organisation's domains."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.pages import me, render
from hexagone.core.web import admin_required
from hexagone.mail.service import dnsrecords


@admin_required
async def domains_page(request: Request) -> Response:
    admin = me(request)
    async with org_session(admin.org_id, write=True) as db:
        records = await dnsrecords.domain_records(db, admin, get_settings())
        await db.commit()  # a domain's DKIM key is made the first time its records are shown
    return render(request, "mail/admin/dns.html", {"records": records})


ROUTES = [Route("/admin", domains_page)]
