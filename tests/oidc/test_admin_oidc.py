"""The admin console's single sign-on pages: register, show the secret once, rotate,
delete; for the organisation's admins only, and never across organisations."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.core.models import AuditEntry
from hexagone.identity.models import OrgRole
from tests.factories import csrf_token, login, make_org, make_user
from tests.oidc.factories_oidc import REDIRECT_URI, OidcApp, bearer, make_app, relying_party, sign_in

CLIENT_ID = re.compile(r'id="client-id" type="text" value="([0-9a-f]+)"')
SECRET = re.compile(r'id="client-secret" type="text" value="([^"]+)"')
ROW_LINK = re.compile(r'href="/admin/oidc/([0-9a-f-]{36})"')
FORM = {
    "name": "Wiki",
    "redirect_uris": f"{REDIRECT_URI}\r\n",
    "post_logout_redirect_uris": "",
    "kind": "confidential",
    "scopes": ["openid", "profile", "email", "api"],
}


async def signed_in_admin(client: httpx.AsyncClient) -> tuple[uuid.UUID, str]:
    org = await make_org()
    admin = await make_user(org, role=OrgRole.ADMIN)
    await login(client, admin)
    return org.id, await csrf_token(client, "/admin/oidc")


async def register(client: httpx.AsyncClient, token: str, **changes: object) -> httpx.Response:
    return await client.post("/admin/oidc", data={**FORM, **changes, "csrf_token": token})


async def secret_works(client_id: str, secret: str, base_url: str) -> bool:
    async with httpx.AsyncClient(base_url=base_url) as rp:
        response = await rp.post("/oidc/revoke", auth=(client_id, secret), data={"token": "nothing"})
    return response.status_code == 200


async def test_admin_registers_an_application_and_sees_its_secret_once(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org_id, token = await signed_in_admin(client)
    page = await client.get("/admin/oidc")
    assert page.status_code == 200 and f"{base_url}/.well-known/openid-configuration" in page.text
    response = await register(client, token)
    assert response.status_code == 201 and response.headers["cache-control"] == "no-store"
    client_id, secret = CLIENT_ID.search(response.text).group(1), SECRET.search(response.text).group(1)
    row_id = ROW_LINK.search(response.text).group(1)
    assert await secret_works(client_id, secret, base_url)
    for path in ("/admin/oidc", f"/admin/oidc/{row_id}"):
        shown = await client.get(path)
        assert shown.status_code == 200 and client_id in shown.text and secret not in shown.text
    async with system_session() as db:
        entry = (
            await db.execute(
                select(AuditEntry).where(AuditEntry.action == "oidc.client_registered", AuditEntry.target_id == row_id)
            )
        ).scalar_one()
    assert entry.org_id == org_id and entry.details["client_id"] == client_id


async def test_admin_registers_a_public_application_without_secret(client: httpx.AsyncClient) -> None:
    _org_id, token = await signed_in_admin(client)
    response = await register(client, token, kind="public", redirect_uris="http://127.0.0.1:9000/cb")
    assert response.status_code == 201
    assert CLIENT_ID.search(response.text) and not SECRET.search(response.text)
    row_id = ROW_LINK.search(response.text).group(1)
    rotated = await client.post(f"/admin/oidc/{row_id}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 400


async def test_rotating_the_secret_stops_the_old_one(client: httpx.AsyncClient, base_url: str) -> None:
    _org_id, token = await signed_in_admin(client)
    created = await register(client, token)
    client_id, old = CLIENT_ID.search(created.text).group(1), SECRET.search(created.text).group(1)
    row_id = ROW_LINK.search(created.text).group(1)
    rotated = await client.post(f"/admin/oidc/{row_id}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200
    new = SECRET.search(rotated.text).group(1)
    assert new != old
    assert not await secret_works(client_id, old, base_url)
    assert await secret_works(client_id, new, base_url)


async def test_deleting_an_application_ends_its_tokens(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_org()
    admin = await make_user(org, role=OrgRole.ADMIN)
    app = await make_app(org)
    await login(client, admin)
    _request, tokens = await sign_in(client, relying_party(base_url, app), app)
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200
    token = await csrf_token(client, f"/admin/oidc/{app.id}")
    response = await client.post(f"/admin/oidc/{app.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/admin/oidc?deleted=1"
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401
    assert (await client.get(f"/admin/oidc/{app.id}")).status_code == 404
    assert not await secret_works(app.client_id, app.secret or "", base_url)
    async with system_session() as db:
        entry = (
            await db.execute(
                select(AuditEntry).where(
                    AuditEntry.action == "oidc.client_deleted", AuditEntry.target_id == str(app.id)
                )
            )
        ).scalar_one()
    assert entry.details["tokens_revoked"] == 1


async def test_admin_of_another_organisation_cannot_see_nor_touch_an_application(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app_of_b: OidcApp = await make_app(await make_org())
    _org_id, token = await signed_in_admin(client)
    assert app_of_b.client_id not in (await client.get("/admin/oidc")).text
    assert (await client.get(f"/admin/oidc/{app_of_b.id}")).status_code == 404
    for action in ("rotate", "delete"):
        response = await client.post(f"/admin/oidc/{app_of_b.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
    assert await secret_works(app_of_b.client_id, app_of_b.secret or "", base_url)


async def test_members_who_are_not_admins_are_refused(client: httpx.AsyncClient) -> None:
    org = await make_org()
    app = await make_app(org)
    assert (await client.get("/admin/oidc")).status_code == 303  # anonymous: to the login form
    await login(client, await make_user(org))
    token = await csrf_token(client, "/")
    assert (await client.get("/admin/oidc")).status_code == 403
    assert (await client.get(f"/admin/oidc/{app.id}")).status_code == 403
    assert (await client.post(f"/admin/oidc/{app.id}/delete", data={"csrf_token": token})).status_code == 403
    assert (await register(client, token)).status_code == 403


async def test_registration_with_bad_input_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    _org_id, token = await signed_in_admin(client)
    cases = [
        {"name": ""},
        {"name": "x" * 201},
        {"redirect_uris": ""},
        {"redirect_uris": "http://app.example.test/cb"},
        {"redirect_uris": "javascript:alert(1)"},
        {"redirect_uris": f"{REDIRECT_URI}#x"},
        {"redirect_uris": "\n".join(f"https://a.test/{i}" for i in range(11))},
        {"post_logout_redirect_uris": "ftp://a.test/"},
        {"scopes": []},
        {"scopes": ["openid", "root"]},
        {"kind": "secretive"},
    ]
    for changes in cases:
        response = await register(client, token, **changes)
        assert response.status_code == 400, changes
        assert 'class="alert alert-error" role="alert"' in response.text, changes
    assert (await client.get("/admin/oidc/not-a-uuid")).status_code == 404
    assert (await client.get(f"/admin/oidc/{uuid.uuid4()}")).status_code == 404
