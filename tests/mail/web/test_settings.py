"""Mail settings: signature, automatic reply, app passwords shown once, delegation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid
from hexagone.core.models import AuditEntry
from hexagone.mail.models import Mailbox
from hexagone.mail.service import auth
from tests.factories import make_user
from tests.mail.factories import deliver, make_mail_user
from tests.mail.web.helpers import mailbox_id, make_pair, post, signed_in


async def own_mailbox(user) -> Mailbox:  # type: ignore[no-untyped-def]
    async with org_session(user.org_id) as db:
        mailbox = await db.get(Mailbox, await mailbox_id(user))
        assert mailbox is not None
        return mailbox


async def test_signature_is_saved(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/settings/signature", {"signature": "Jeanne\r\nMairie de Lyon\r\n"})

    assert response.headers["location"] == "/mail/settings?done=saved"
    assert (await own_mailbox(user)).signature == "Jeanne\nMairie de Lyon"


async def test_vacation_reply_is_saved_until_the_end_of_its_last_day(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)
    last_day = (datetime.now(UTC) + timedelta(days=10)).date()

    response = await post(
        client,
        "/mail/settings/vacation",
        {
            "vacation_enabled": "1",
            "vacation_subject": "Absent",
            "vacation_body": "Back on Monday.",
            "vacation_until": last_day.isoformat(),
        },
    )

    assert response.status_code == 303
    mailbox = await own_mailbox(user)
    assert mailbox.vacation_enabled and mailbox.vacation_subject == "Absent"
    assert mailbox.vacation_body == "Back on Monday."
    assert mailbox.vacation_until == datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"vacation_enabled": "1", "vacation_body": ""}, "no message"),
        ({"vacation_enabled": "1", "vacation_body": "x", "vacation_until": "2001-01-01"}, "in the past"),
        ({"vacation_enabled": "1", "vacation_body": "x", "vacation_until": "someday"}, "not a date"),
    ],
)
async def test_vacation_reply_with_bad_fields_is_refused(
    client: httpx.AsyncClient, fields: dict[str, str], why: str
) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    response = await post(client, "/mail/settings/vacation", fields)

    assert response.status_code == 400 and "alert-error" in response.text, why
    assert not (await own_mailbox(user)).vacation_enabled


async def test_app_password_is_shown_once_signs_in_and_can_be_revoked(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    await signed_in(client, user)

    created = await post(client, "/mail/settings/app-passwords", {"label": "Thunderbird"})
    secret = re.search(r'class="mail-secret-value">([a-z0-9 ]+)<', created.text).group(1)
    later = (await client.get("/mail/settings")).text
    signed = await auth.authenticate(user.email, secret, ip="127.0.0.1", channel="imap")
    revoke = re.search(r'action="(/mail/settings/app-passwords/[^"]+/revoke)"', later).group(1)
    revoked = await post(client, revoke)

    assert created.status_code == 200 and secret not in later and "Thunderbird" in later
    assert signed.id == user.id and revoked.status_code == 303
    with pytest.raises(Invalid):
        await auth.authenticate(user.email, secret, ip="127.0.0.1", channel="imap")
    async with system_session() as db:
        actions = set((await db.execute(select(AuditEntry.action).where(AuditEntry.org_id == user.org_id))).scalars())
    assert {"mail.app_password_created", "mail.app_password_revoked"} <= actions


async def test_delegate_opens_the_mailbox_until_access_is_removed(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    message = await deliver(pair.alice, subject="For my assistant")
    await signed_in(client, pair.alice)
    granted = await post(client, "/mail/settings/delegates", {"email": pair.bob.email, "can_write": "1"})
    assert granted.status_code == 303
    assert pair.bob.email in (await client.get("/mail/settings")).text

    async with httpx.AsyncClient(base_url=str(client.base_url)) as bob:
        await signed_in(bob, pair.bob)
        nav = (await bob.get("/mail/", follow_redirects=True)).text
        opened = await bob.get(f"/mail/messages/{message.id}")
        removed = await post(client, "/mail/settings/delegates/remove", {"user": str(pair.bob.id)})
        closed = await bob.get(f"/mail/messages/{message.id}")

    assert f"/mail/mailboxes/{await mailbox_id(pair.alice)}/folders" in nav
    assert opened.status_code == 200 and "For my assistant" in opened.text
    assert removed.status_code == 303 and closed.status_code == 404


async def test_delegation_to_someone_outside_the_organisation_or_oneself_is_refused(client: httpx.AsyncClient) -> None:
    user = await make_mail_user()
    outsider = await make_mail_user()
    await signed_in(client, user)

    foreign = await post(client, "/mail/settings/delegates", {"email": outsider.email})
    myself = await post(client, "/mail/settings/delegates", {"email": user.email})

    assert foreign.status_code == myself.status_code == 400


async def test_guest_of_the_organisation_cannot_be_a_delegate(client: httpx.AsyncClient) -> None:
    pair = await make_pair()
    guest = await make_user(pair.org, role="guest")
    await signed_in(client, pair.alice)

    response = await post(client, "/mail/settings/delegates", {"email": guest.email})

    assert response.status_code == 400
