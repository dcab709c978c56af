"""Who may reach the admin console: admins (200), anyone else signed in (403, guests
included), anonymous visitors (sent to the sign-in form)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.admin.factories_admin import post, signed_in

SOME_ID = uuid.uuid4()
PAGES = [
    "/admin",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/import",
    "/admin/groups",
    "/admin/spaces",
    "/admin/guests",
    "/admin/modules",
    "/admin/branding",
    "/admin/security",
    "/admin/audit",
    "/admin/usage",
]
ID_PAGES = [f"/admin/users/{SOME_ID}", f"/admin/groups/{SOME_ID}", "/admin/audit.csv", "/admin/audit.json"]
ACTIONS = [
    "/admin/users/new",
    "/admin/users/import",
    f"/admin/users/{SOME_ID}/active",
    f"/admin/users/{SOME_ID}/mfa-reset",
    f"/admin/users/{SOME_ID}/role",
    f"/admin/users/{SOME_ID}/password-link",
    "/admin/groups",
    f"/admin/groups/{SOME_ID}/members",
    f"/admin/groups/{SOME_ID}/members/remove",
    "/admin/spaces",
    f"/admin/spaces/{SOME_ID}/archive",
    "/admin/guests/invite",
    f"/admin/guests/invitations/{SOME_ID}/revoke",
    "/admin/modules",
    "/admin/branding",
    "/admin/branding/logo/remove",
    "/admin/security",
    "/admin/security/domains",
]


@pytest.mark.parametrize("path", PAGES)
async def test_admin_page_for_an_admin_is_shown_in_french_with_one_heading(
    client: httpx.AsyncClient, path: str
) -> None:
    await signed_in(client, "admin")
    response = await client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.text.count("<h1") == 1
    assert 'aria-label="Sections de l' in response.text
    assert 'href="/admin/oidc"' in response.text


@pytest.mark.parametrize("role", ["user", "guest"])
async def test_admin_pages_and_actions_for_a_non_admin_are_forbidden(client: httpx.AsyncClient, role: str) -> None:
    await signed_in(client, role)
    for path in PAGES + ID_PAGES:
        assert (await client.get(path)).status_code == 403, path
    for path in ACTIONS:
        assert (await post(client, path, {"name": "x"})).status_code == 403, path


async def test_admin_pages_for_an_anonymous_visitor_redirect_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in PAGES + ID_PAGES:
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/admin"), path
    for path in ACTIONS:
        response = await post(client, path, {"name": "x"})
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


async def test_admin_console_is_in_the_user_menu_only_for_admins(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client, "admin")
    assert 'href="/admin"' in (await client.get("/")).text
    client.cookies.clear()
    await signed_in(client, "user", org)
    assert 'href="/admin"' not in (await client.get("/")).text
