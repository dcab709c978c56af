"""Who reaches the drive's tab of the admin console: the organisation's admins (200, in
French by default, inside the console's tab bar); members and guests are refused (403);
anonymous visitors and organisations without the drive see nothing (404, as for every
page of an unsubscribed module); an access token opens no page (401) and a session owing
its second factor is sent to finish signing in."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.admin.factories_admin import post, signed_in
from tests.drive.admin.factories_driveadmin import drive_admin
from tests.drive.factories import make_drive_org
from tests.factories import login, make_org, make_user
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.usefixtures("migrated")

PAGE = "/drive/admin"
ACTIONS = [PAGE, f"/drive/admin/drives/{uuid.uuid4()}/quota"]
SETTINGS = {"keep_versions": "25", "keep_version_days": "365", "trash_days": "30"}


async def test_drive_admin_page_for_an_admin_is_french_with_the_console_tabs(client: httpx.AsyncClient) -> None:
    await drive_admin(client)
    response = await client.get(PAGE)
    assert response.status_code == 200, response.text[:500]
    assert response.text.count("<h1") == 1 and "Stockage des fichiers" in response.text
    assert 'aria-label="Sections de l' in response.text and 'href="/admin/users"' in response.text
    assert f'href="{PAGE}" aria-current="page"' in response.text


async def test_drive_admin_tab_appears_for_an_admin_only(client: httpx.AsyncClient) -> None:
    org, _admin = await drive_admin(client)
    assert f'href="{PAGE}"' in (await client.get("/admin")).text
    async with httpx.AsyncClient(base_url=str(client.base_url), follow_redirects=False, timeout=30) as browser:
        await login(browser, await make_user(org))
        assert f'href="{PAGE}"' not in (await browser.get("/drive/")).text
    async with httpx.AsyncClient(base_url=str(client.base_url), follow_redirects=False, timeout=30) as browser:
        await signed_in(browser, "admin", await make_org(modules=("calendar",)))
        assert f'href="{PAGE}"' not in (await browser.get("/admin")).text


@pytest.mark.parametrize("role", ["user", "guest"])
async def test_drive_admin_page_and_actions_for_a_non_admin_are_forbidden(client: httpx.AsyncClient, role: str) -> None:
    await drive_admin(client, role)
    assert (await client.get(PAGE)).status_code == 403
    for path in ACTIONS:
        assert (await post(client, path, {**SETTINGS, "quota": "1 GB"})).status_code == 403, path


async def test_drive_admin_is_not_found_for_anonymous_visitors_and_organisations_without_the_drive(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(PAGE)).status_code == 404
    await signed_in(client, "admin", await make_org(modules=("calendar",)))
    assert (await client.get(PAGE)).status_code == 404
    for path in ACTIONS:
        assert (await post(client, path, {**SETTINGS, "quota": "1 GB"})).status_code == 404, path


async def test_drive_admin_for_an_access_token_or_a_session_owing_its_second_factor_is_refused(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_drive_org()
    token = await token_for(base_url, await make_user(org, role="admin"))
    assert (await client.get(PAGE, headers=bearer(token))).status_code == 401
    assert (await client.post(ACTIONS[1], data={"quota": "1 GB"}, headers=bearer(token))).status_code == 401
    await login(client, await make_user(org, role="admin", mfa=True), second_factor=False)
    pending = await client.get(PAGE)
    assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")


async def test_drive_admin_speaks_english_when_asked(client: httpx.AsyncClient) -> None:
    await drive_admin(client)
    response = await client.get(PAGE, headers={"accept-language": "en"})
    assert "Drive storage" in response.text and "Save the settings" in response.text
