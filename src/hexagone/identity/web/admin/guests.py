"""Admin console: external guests (free, they see only their spaces), the invitations
waiting for an answer, inviting someone into chosen spaces, revoking an invitation.
Disabling a guest is the same action as for any account (/admin/users/{id}/active)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field, kept_values, parse_uuid
from hexagone.core.pages import done, form_endpoint, me, render
from hexagone.core.web import admin_required
from hexagone.identity.service import guests, spaces, tokens


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        context = {
            "guests": await guests.list_guests(db, admin),
            "invitations": await guests.pending_invitations(db, admin),
            "spaces": await spaces.visible_spaces(db, admin),
            "values": await kept_values(request, error, "email"),
        }
    return render(request, "identity/admin/guests.html", context, error)


@admin_required
async def guest_list(request: Request) -> Response:
    return await _page(request)


async def _invite(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    space_ids = [parse_uuid(value) for value in form.getlist("space_id") if isinstance(value, str)]
    await tokens.invite_guest(
        db, admin, email=field(form, "email", 320), space_ids=space_ids, base_url=get_settings().resolved_base_url
    )
    return done("/admin/guests", "invited")


async def _revoke(db: AsyncSession, admin: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    await guests.revoke_invitation(db, admin, params["invitation_id"])
    return done("/admin/guests", "revoked")


ROUTES = [
    Route("/admin/guests", guest_list),
    Route("/admin/guests/invite", form_endpoint(admin_required, _invite, _page), methods=["POST"]),
    Route(
        "/admin/guests/invitations/{invitation_id:uuid}/revoke",
        form_endpoint(admin_required, _revoke, _page),
        methods=["POST"],
    ),
]
