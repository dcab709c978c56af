"""Who reaches the mail pages of the admin console: the organisation's admins (200, in
French by default, with the console's tab bar and the mail sections); other members and
guests are refused (403); anonymous visitors and organisations without mail see nothing
(404, as for every page of an unsubscribed module)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.admin.factories_admin import post, signed_in
from tests.mail.admin.factories_mailadmin import mail_admin

SOME_ID = uuid.uuid4()
PAGES = [
    "/mail/admin",
    "/mail/admin/aliases",
    "/mail/admin/shared",
    "/mail/admin/quotas",
    "/mail/admin/imports",
    "/mail/admin/imports/runs",
]
ID_PAGES = [f"/mail/admin/shared/{SOME_ID}"]
ACTIONS = [
    "/mail/admin/aliases",
    "/mail/admin/aliases/group",
    f"/mail/admin/aliases/{SOME_ID}/remove",
    "/mail/admin/shared",
    f"/mail/admin/shared/{SOME_ID}/members",
    f"/mail/admin/shared/{SOME_ID}/members/remove",
    "/mail/admin/quotas",
    "/mail/admin/imports",
    "/mail/admin/imports/csv",
]


@pytest.mark.parametrize("path", PAGES[:-1])
async def test_mail_admin_page_for_an_admin_is_french_with_the_console_tabs(
    client: httpx.AsyncClient, path: str
) -> None:
    await mail_admin(client)
    response = await client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.text.count("<h1") == 1
    assert 'aria-label="Sections de l' in response.text and 'href="/admin/users"' in response.text
    assert 'aria-label="Sections de l\'administration de la messagerie"' in response.text
    assert f'href="{path}" aria-current="page"' in response.text


@pytest.mark.parametrize("role", ["user", "guest"])
async def test_mail_admin_pages_and_actions_for_a_non_admin_are_forbidden(client: httpx.AsyncClient, role: str) -> None:
    await mail_admin(client, role)
    for path in PAGES + ID_PAGES:
        assert (await client.get(path)).status_code == 403, path
    for path in ACTIONS:
        assert (await post(client, path, {"address": "x@example.org"})).status_code == 403, path


async def test_mail_admin_pages_are_not_found_for_anonymous_visitors_and_organisations_without_mail(
    client: httpx.AsyncClient,
) -> None:
    for path in PAGES + ID_PAGES + ["/mail/apple.mobileconfig"]:
        assert (await client.get(path)).status_code == 404, path
    await signed_in(client, "admin")  # an organisation that does not subscribe to mail
    for path in PAGES + ID_PAGES:
        assert (await client.get(path)).status_code == 404, path
    for path in ACTIONS:
        assert (await post(client, path, {"address": "x@example.org"})).status_code == 404, path


async def test_mail_admin_pages_speak_english_when_asked(client: httpx.AsyncClient) -> None:
    await mail_admin(client)
    response = await client.get("/mail/admin/quotas", headers={"accept-language": "en"})
    assert "Mailbox quotas" in response.text and 'aria-label="Mail administration sections"' in response.text
