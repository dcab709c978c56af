"""Admin console: the organisation's people — list and search, create (a password shown
once, or a link sent by e-mail), CSV import, and per person: disable or enable, reset the
second factor, change the role, send a link to choose a password."""

from __future__ import annotations

import uuid
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
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.forms import field, upload
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import FORM_ERRORS, done, form_endpoint, me, render
from hexagone.core.web import admin_required
from hexagone.identity.models import OrgRole
from hexagone.identity.service import tokens, users
from hexagone.identity.web.roles import role_labels

NEW_USER_FIELDS = ("email", "display_name", "role", "delivery")


@admin_required
async def user_list(request: Request) -> Response:
    admin = me(request)
    error: ServiceError | None = None
    query = request.query_params.get("q", "")
    async with org_session(admin.org_id) as db:
        try:
            found = await users.list_users(db, query=query, include_guests=False)
        except Invalid as exc:
            found, error = [], exc
    return render(request, "identity/admin/users.html", {"users": found, "query": query[:200], **role_labels()}, error)


@admin_required
async def new_user(request: Request) -> Response:
    """A password, when generated, is shown on this response only and never stored in clear."""
    admin = me(request)
    if request.method == "GET":
        return render(request, "identity/admin/user_new.html", {"values": {}, **role_labels()})
    form = await request.form()
    values = {name: field(form, name, 320) for name in NEW_USER_FIELDS}
    try:
        async with org_session(admin.org_id) as db:
            role = values["role"] if values["role"] in users.ASSIGNABLE_ROLES else ""
            if not role:
                raise Invalid(_("Unknown role."))
            user, password = await users.create_user(
                db,
                org_id=admin.org_id,
                email=values["email"],
                display_name=values["display_name"],
                password=None,
                role=OrgRole(role),
                actor=admin,
            )
            if values["delivery"] == "link":
                await tokens.send_password_link(
                    db, admin, user.id, base_url=get_settings().resolved_base_url, new_account=True
                )
            await db.commit()
    except FORM_ERRORS as exc:
        return render(request, "identity/admin/user_new.html", {"values": values, **role_labels()}, exc)
    if values["delivery"] == "link":
        return done(f"/admin/users/{user.id}", "link_sent")
    return render(
        request,
        "identity/admin/user_new.html",
        {"values": {}, "created": user, "password": password, **role_labels()},
        None,
    )


@admin_required
async def import_users(request: Request) -> Response:
    admin = me(request)
    if request.method == "GET":
        return render(request, "identity/admin/user_import.html", {})
    form = await request.form()
    try:
        data = await upload(form, "file")
        if not data:
            raise Invalid(_("Choose a CSV file to import."))
        async with org_session(admin.org_id) as db:
            report = await users.import_csv(db, admin, data)
            await db.commit()
    except FORM_ERRORS as exc:
        return render(request, "identity/admin/user_import.html", {}, exc)
    return render(request, "identity/admin/user_import.html", {"report": report})


async def _detail(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    user_id: uuid.UUID = request.path_params["user_id"]
    async with org_session(admin.org_id) as db:
        user = await users.get_user(db, user_id)
        spaces, groups = await users.memberships(db, user.id)
    return render(
        request,
        "identity/admin/user_detail.html",
        {"user": user, "spaces": spaces, "groups": groups, **role_labels()},
        error,
    )


@admin_required
async def user_detail(request: Request) -> Response:
    return await _detail(request)


async def _set_active(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    active = field(form, "active", 1) == "1"
    await users.set_active(db, admin, params["user_id"], active)
    return done(f"/admin/users/{params['user_id']}", "enabled" if active else "disabled", form)


async def _reset_mfa(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    await users.reset_mfa(db, admin, params["user_id"])
    return done(f"/admin/users/{params['user_id']}", "mfa_reset", form)


async def _set_role(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    await users.set_role(db, admin, params["user_id"], field(form, "role", 16))
    return done(f"/admin/users/{params['user_id']}", "role_changed", form)


async def _password_link(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    await tokens.send_password_link(
        db, admin, params["user_id"], base_url=get_settings().resolved_base_url, new_account=False
    )
    return done(f"/admin/users/{params['user_id']}", "link_sent", form)


ROUTES = [
    Route("/admin/users", user_list),
    Route("/admin/users/new", new_user, methods=["GET", "POST"]),
    Route("/admin/users/import", import_users, methods=["GET", "POST"]),
    Route("/admin/users/{user_id:uuid}", user_detail),
    Route("/admin/users/{user_id:uuid}/active", form_endpoint(admin_required, _set_active, _detail), methods=["POST"]),
    Route(
        "/admin/users/{user_id:uuid}/mfa-reset", form_endpoint(admin_required, _reset_mfa, _detail), methods=["POST"]
    ),
    Route("/admin/users/{user_id:uuid}/role", form_endpoint(admin_required, _set_role, _detail), methods=["POST"]),
    Route(
        "/admin/users/{user_id:uuid}/password-link",
        form_endpoint(admin_required, _password_link, _detail),
        methods=["POST"],
    ),
]
