"""Quotas: every member and shared mailbox with what it uses; the admin changes a quota
in MB; nonsense and another organisation's mailboxes are refused alike."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.mail.models import Mailbox
from tests.admin.factories_admin import audited, post
from tests.factories import make_user
from tests.mail.admin.factories_mailadmin import mail_admin
from tests.mail.factories import deliver, make_mail_org

MIB = 1024 * 1024


async def quota_of(address: str) -> tuple[int, int]:
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one()
        return mailbox.used_bytes, mailbox.quota_bytes


async def test_quotas_page_lists_people_with_their_usage_and_changes_a_quota(client: httpx.AsyncClient) -> None:
    org, admin = await mail_admin(client)
    person = await make_user(org)
    await deliver(person)
    used, _quota = await quota_of(person.email)
    page = (await client.get("/mail/admin/quotas")).text
    assert admin.email in page and person.email in page  # the admin has no mailbox yet: listed all the same
    assert f'max="{5 * 1024**3}" value="{used}"' in page and "5 Go" in page

    response = await post(client, "/mail/admin/quotas", {"address": person.email, "quota_mb": "250"})
    assert response.status_code == 303 and response.headers["location"].endswith("done=quota_saved")
    assert await quota_of(person.email) == (used, 250 * MIB)
    assert await audited("mail.quota_changed", person.email)
    assert 'value="250"' in (await client.get("/mail/admin/quotas")).text
    # A member who never had mail gets their mailbox with the quota asked for.
    assert (await post(client, "/mail/admin/quotas", {"address": admin.email, "quota_mb": "1024"})).status_code == 303
    assert await quota_of(admin.email) == (0, 1024 * MIB)


async def test_quota_nonsense_and_other_organisations_are_refused(client: httpx.AsyncClient) -> None:
    org, admin = await mail_admin(client)
    for value in ("", "abc", "0", "-5", "1.5", "99999999999"):
        response = await post(client, "/mail/admin/quotas", {"address": admin.email, "quota_mb": value})
        assert response.status_code == 400, value
    stranger = await make_user(await make_mail_org())
    foreign = await post(client, "/mail/admin/quotas", {"address": stranger.email, "quota_mb": "1"})
    unknown = await post(client, "/mail/admin/quotas", {"address": f"nobody@{org.domain}", "quota_mb": "1"})
    assert foreign.status_code == unknown.status_code == 400
    assert stranger.email not in (await client.get("/mail/admin/quotas")).text
    async with system_session() as db:
        assert (await db.execute(select(Mailbox).where(Mailbox.address == stranger.email))).first() is None
