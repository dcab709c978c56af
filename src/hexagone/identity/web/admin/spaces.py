"""Admin console: every space of the organisation (archived ones too), creation for
someone else, archiving and restoring. Members are managed on the space's own page
(/spaces/{id}), where an admin has every right a space owner has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field, kept_values
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import spaces, users


async def _list(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        found = await spaces.all_spaces(db, admin)
        counts = await spaces.member_counts(db)
    values = await kept_values(request, error, "name", "description", "owner")
    return render(request, "identity/admin/spaces.html", {"spaces": found, "counts": counts, "values": values}, error)


async def _create(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    owner = field(form, "owner", 320).strip()
    owner_id = (await users.find_by_email(db, owner)).id if owner else None
    await spaces.create_space(
        db, admin, name=field(form, "name", 200), description=field(form, "description"), owner_id=owner_id
    )
    return done("/admin/spaces", "created")


space_list = page_or_submit(admin_required, _create, _list)


async def _archive(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    archived = field(form, "archived", 1) == "1"
    await spaces.set_archived(db, admin, params["space_id"], archived)
    return done("/admin/spaces", "archived" if archived else "restored")


ROUTES = [
    Route("/admin/spaces", space_list, methods=["GET", "POST"]),
    Route("/admin/spaces/{space_id:uuid}/archive", form_endpoint(admin_required, _archive, _list), methods=["POST"]),
]
