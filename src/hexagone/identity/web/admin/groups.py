"""Admin console: groups of people (mail lists, sharing audiences) and their members."""

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
from hexagone.core.forms import field, kept_values, parse_uuid
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.identity.service import groups, users


async def _list(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        found = await groups.list_groups(db)
        sizes = await groups.group_sizes(db)
    values = await kept_values(request, error, "name", "description")
    return render(request, "identity/admin/groups.html", {"groups": found, "sizes": sizes, "values": values}, error)


async def _create(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    group = await groups.create_group(
        db, admin, name=field(form, "name", 200), description=field(form, "description", 2000)
    )
    return done(f"/admin/groups/{group.id}", "created")


group_list = page_or_submit(admin_required, _create, _list)


async def _detail(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        group = await groups.get_group(db, request.path_params["group_id"])
        members = await groups.group_members(db, group.id)
    return render(request, "identity/admin/group_detail.html", {"group": group, "members": members}, error)


@admin_required
async def group_detail(request: Request) -> Response:
    return await _detail(request)


async def _add(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    group = await groups.get_group(db, params["group_id"])
    user = await users.find_by_email(db, field(form, "email", 320))
    await groups.add_to_group(db, admin, group, user.id)
    return done(f"/admin/groups/{group.id}", "added")


async def _remove(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    group = await groups.get_group(db, params["group_id"])
    await groups.remove_from_group(db, admin, group, parse_uuid(field(form, "user_id", 64)))
    return done(f"/admin/groups/{group.id}", "removed")


ROUTES = [
    Route("/admin/groups", group_list, methods=["GET", "POST"]),
    Route("/admin/groups/{group_id:uuid}", group_detail),
    Route("/admin/groups/{group_id:uuid}/members", form_endpoint(admin_required, _add, _detail), methods=["POST"]),
    Route(
        "/admin/groups/{group_id:uuid}/members/remove",
        form_endpoint(admin_required, _remove, _detail),
        methods=["POST"],
    ),
]
