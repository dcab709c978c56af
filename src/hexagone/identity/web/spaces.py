"""Spaces as their members see them: the list of one's spaces, a space with its members,
and — for those who manage it — adding people, changing their role, removing them, and
inviting an outside guest by e-mail. A guest sees only their own spaces; any other space
id answers 404, as if it did not exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.forms import field, kept_values, parse_uuid
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import login_required
from hexagone.identity.service import spaces, tokens, users
from hexagone.identity.web.roles import role_labels


async def _list(request: Request, error: ServiceError | None = None) -> Response:
    principal = me(request)
    async with org_session(principal.org_id) as db:
        found = await spaces.visible_spaces(db, principal)
        counts = await spaces.member_counts(db)
    values = await kept_values(request, error, "name", "description")
    return render(
        request, "identity/spaces.html", {"spaces": found, "counts": counts, "values": values, **role_labels()}, error
    )


async def _create(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    space = await spaces.create_space(
        db, principal, name=field(form, "name", 200), description=field(form, "description")
    )
    return done(f"/spaces/{space.id}", "created")


space_list = page_or_submit(login_required, _create, _list)


async def _detail(request: Request, error: ServiceError | None = None) -> Response:
    principal = me(request)
    async with org_session(principal.org_id) as db:
        space = await spaces.get_space(db, principal, request.path_params["space_id"])
        members = await spaces.members(db, space.id)
    return render(
        request,
        "identity/spaces_detail.html",
        {
            "space": space,
            "members": members,
            "can": policy.abilities(principal, space),
            "my_role": principal.space_roles.get(space.id),
            "values": await kept_values(request, error, "email", "guest_email"),
            **role_labels(),
        },
        error,
    )


@login_required
async def space_detail(request: Request) -> Response:
    return await _detail(request)


async def _add(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    space = await spaces.get_space(db, principal, params["space_id"])
    user = await users.find_by_email(db, field(form, "email", 320))
    await spaces.add_member(db, principal, space, user.id, field(form, "role", 16))
    return done(f"/spaces/{space.id}", "added")


async def _set_role(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    space = await spaces.get_space(db, principal, params["space_id"])
    await spaces.add_member(db, principal, space, parse_uuid(field(form, "user_id", 64)), field(form, "role", 16))
    return done(f"/spaces/{space.id}", "role_changed")


async def _remove(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    space = await spaces.get_space(db, principal, params["space_id"])
    await spaces.remove_member(db, principal, space, parse_uuid(field(form, "user_id", 64)))
    return done(f"/spaces/{space.id}", "removed")


async def _invite(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    space = await spaces.get_space(db, principal, params["space_id"])
    await tokens.invite_guest(
        db,
        principal,
        email=field(form, "guest_email", 320),
        space_ids=[space.id],
        base_url=get_settings().resolved_base_url,
    )
    return done(f"/spaces/{space.id}", "invited")


ROUTES = [
    Route("/spaces", space_list, methods=["GET", "POST"]),
    Route("/spaces/{space_id:uuid}", space_detail),
    Route("/spaces/{space_id:uuid}/members", form_endpoint(login_required, _add, _detail), methods=["POST"]),
    Route("/spaces/{space_id:uuid}/members/role", form_endpoint(login_required, _set_role, _detail), methods=["POST"]),
    Route("/spaces/{space_id:uuid}/members/remove", form_endpoint(login_required, _remove, _detail), methods=["POST"]),
    Route("/spaces/{space_id:uuid}/invite", form_endpoint(login_required, _invite, _detail), methods=["POST"]),
]
