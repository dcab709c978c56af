"""Admin console, single sign-on tab: applications (OpenID Connect clients) — list, register,
rotate the secret, delete — with the discovery URL an application is configured with.

A secret is shown once, on the page that answers the registration or the rotation; it is
never in a URL and never shown again.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.core import templating
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import me, render
from hexagone.core.web import admin_required
from hexagone.identity.oidc import service
from hexagone.identity.oidc.claims import DEFAULT_SCOPES, SCOPES
from hexagone.identity.oidc.server import DISCOVERY_PATH

MAX_URI_FIELD = service.MAX_URIS * (service.MAX_URI_LENGTH + 2)
LIST_TEMPLATE = "identity/admin/oidc.html"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _scopes(form: FormData) -> list[str]:
    values = form.getlist("scopes")
    if not all(isinstance(v, str) for v in values):
        raise Invalid(_("The field %(name)s must be text.", name="scopes"))
    return [str(v) for v in values]


def _provider_context() -> dict[str, Any]:
    issuer = get_settings().resolved_base_url
    return {"issuer": issuer, "discovery_url": issuer + DISCOVERY_PATH, "scope_labels": SCOPES}


def _secret_page(request: Request, client: Any, secret: str | None, *, registered: bool) -> Response:
    return templating.render(
        request,
        "identity/admin/oidc_secret.html",
        {"client": client, "secret": secret, "registered": registered, **_provider_context()},
        status_code=201 if registered else 200,
        headers={"cache-control": "no-store"},
    )


@admin_required
async def clients_page(request: Request) -> Response:
    admin = me(request)
    values: dict[str, Any] = {"kind": "confidential", "scopes": list(DEFAULT_SCOPES)}
    error: Invalid | None = None
    async with org_session(admin.org_id) as db:
        if request.method == "POST":
            form = await request.form()
            try:
                values = {
                    "name": field(form, "name", 200),
                    "redirect_uris": field(form, "redirect_uris", MAX_URI_FIELD),
                    "post_logout_redirect_uris": field(form, "post_logout_redirect_uris", MAX_URI_FIELD),
                    "kind": field(form, "kind", 20),
                    "scopes": _scopes(form),
                }
                if values["kind"] not in ("confidential", "public"):
                    raise Invalid(_("Choose whether the application can keep a secret."))
                registered = await service.register_client(
                    db,
                    admin,
                    name=values["name"],
                    redirect_uris=_lines(values["redirect_uris"]),
                    post_logout_redirect_uris=_lines(values["post_logout_redirect_uris"]),
                    confidential=values["kind"] == "confidential",
                    scopes=values["scopes"],
                )
                await db.commit()
                return _secret_page(request, registered.client, registered.secret, registered=True)
            except Invalid as exc:
                await db.rollback()
                error = exc
        clients = await service.list_clients(db, admin)
    return render(
        request,
        LIST_TEMPLATE,
        {"clients": clients, "values": values, "deleted": request.query_params.get("deleted"), **_provider_context()},
        error,
    )


@admin_required
async def client_page(request: Request) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        client = await service.get_client(db, admin, request.path_params["row_id"])
    return render(request, "identity/admin/oidc_client.html", {"client": client, **_provider_context()})


@admin_required
async def rotate_secret(request: Request) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        client = await service.get_client(db, admin, request.path_params["row_id"])
        secret = await service.rotate_secret(db, admin, client)
        await db.commit()
    return _secret_page(request, client, secret, registered=False)


@admin_required
async def delete_client(request: Request) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        client = await service.get_client(db, admin, request.path_params["row_id"])
        await service.delete_client(db, admin, client)
        await db.commit()
    return RedirectResponse("/admin/oidc?deleted=1", status_code=303)


ROUTES = [
    Route("/admin/oidc", clients_page, methods=["GET", "POST"]),
    Route("/admin/oidc/{row_id:uuid}", client_page),
    Route("/admin/oidc/{row_id:uuid}/rotate", rotate_secret, methods=["POST"]),
    Route("/admin/oidc/{row_id:uuid}/delete", delete_client, methods=["POST"]),
]
