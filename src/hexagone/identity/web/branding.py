"""The organisation's logo, served from the database (same origin, CSP-friendly)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.web import principal_of
from hexagone.identity.service.branding import logo_bytes
from hexagone.identity.service.orgs import get_org


async def logo(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        raise NotFound(_("No logo."))
    async with org_session(principal.org_id) as db:
        org = await get_org(db, principal.org_id)
    found = logo_bytes(org.brand_logo)
    if found is None:
        raise NotFound(_("No logo."))
    mime, data = found
    return Response(data, media_type=mime, headers={"cache-control": "private, max-age=300"})


ROUTES = [Route("/branding/logo", logo)]
