"""Mail in the shell: the admin console lists a Mail tab, and guests (who have no
mailbox) do not see Mail in the navigation."""

from __future__ import annotations

import httpx

from tests.factories import login
from tests.mail.factories import make_mail_org, make_mail_user


async def test_admin_console_has_a_mail_tab_and_mail_admin_highlights_administration(client: httpx.AsyncClient) -> None:
    admin = await make_mail_user(await make_mail_org(), role="admin")
    await login(client, admin)
    users_page = (await client.get("/admin/users")).text
    assert 'href="/mail/admin"' in users_page
    mail_admin = (await client.get("/mail/admin")).text
    assert 'href="/admin" aria-current="page"' in mail_admin
    assert 'href="/mail/" aria-current="page"' not in mail_admin


async def test_guest_navigation_has_no_mail_entry_but_members_have_one(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_mail_org()
    guest, member = await make_mail_user(org, role="guest"), await make_mail_user(org)
    await login(client, guest)
    assert 'href="/mail/"' not in (await client.get("/")).text
    async with httpx.AsyncClient(base_url=base_url) as other:
        await login(other, member)
        assert 'href="/mail/"' in (await other.get("/")).text
