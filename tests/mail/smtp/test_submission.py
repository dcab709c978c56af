"""The submission listener: sign-in, who a user may send as, and the way a message takes
from a mail client to a colleague's inbox."""

from __future__ import annotations

import base64
import smtplib
import ssl
import uuid

import aiosmtplib
import dkim
import pytest
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.core.models import AuditEntry
from hexagone.mail.models import DkimKey, Message
from hexagone.mail.service import auth
from tests.conftest import Server
from tests.factories import get_user_row
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import add_alias, inbox_bytes, mail_user, shared_mailbox, submission

pytestmark = pytest.mark.usefixtures("migrated")


def no_verify() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def test_submission_refuses_mail_before_auth(mail_server: Server) -> None:
    user = await mail_user()
    with submission(mail_server) as client:
        code, message = client.mail(user.email)
        assert (code, message[:5]) == (530, b"5.7.0")
        assert client.has_extn("auth") and "PLAIN" in client.esmtp_features["auth"]


async def test_submission_unauthenticated_relay_attempt_is_refused(mail_server: Server) -> None:
    with submission(mail_server) as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        client.sendmail("spammer@example.net", ["victim@example.com"], b"Subject: spam\r\n\r\nspam\r\n")
    assert refused.value.smtp_code == 530


async def test_submission_round_trip_alice_to_bob_is_signed_and_delivered(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    raw = make_message(sender=alice.email, to=bob.email, subject="Round trip")
    with submission(mail_server, alice) as client:
        assert client.sendmail(alice.email, [bob.email], raw) == {}
    [stored] = await inbox_bytes(bob)
    assert stored.startswith(f"Return-Path: <{alice.email}>\r\nDKIM-Signature:".encode())
    assert b"with ESMTPA id" in stored and b"127.0.0.1" not in stored.split(b"\r\n\r\n")[0]
    async with system_session() as db:
        key = (await db.execute(select(DkimKey).where(DkimKey.domain == org.domain))).scalar_one()
    record = f"v=DKIM1; k=rsa; p={key.public_key_b64}".encode()
    signed = stored.split(b"\r\n", 1)[1]  # without the Return-Path the final delivery added
    assert dkim.verify(
        signed, dnsfunc=lambda name, timeout=5: record if name.startswith(key.selector.encode()) else None
    )


async def test_submission_with_starttls_and_auth_through_aiosmtplib(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=mail_server.submission_port, start_tls=True, tls_context=no_verify()
    )
    await client.connect()
    await client.login(alice.email, alice.password)
    errors, reply = await client.sendmail(alice.email, [bob.email], make_message(sender=alice.email, to=bob.email))
    await client.quit()
    assert errors == {} and reply.startswith("2.0.0")
    [stored] = await inbox_bytes(bob)
    assert b"with ESMTPSA id" in stored


async def test_submission_someone_elses_address_is_refused_at_mail(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    with submission(mail_server, alice) as client:
        code, message = client.mail(bob.email)
    assert (code, message[:5]) == (550, b"5.7.1")


async def test_submission_forged_from_header_is_refused_at_data(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    with submission(mail_server, alice) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail(alice.email, [bob.email], make_message(sender=bob.email, to=bob.email))
    assert refused.value.smtp_code == 550 and refused.value.smtp_error.startswith(b"5.7.1")
    assert await messages_in(bob) == []


async def test_submission_alias_and_shared_mailbox_with_send_as_are_allowed(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    alias = f"direction-{uuid.uuid4().hex[:6]}@{org.domain}"
    shared = f"contact-{uuid.uuid4().hex[:6]}@{org.domain}"
    await add_alias(alice, alias)
    await shared_mailbox(org, shared, members={alice: True})
    with submission(mail_server, alice) as client:
        for sender in (alias, shared):
            assert client.sendmail(sender, [bob.email], make_message(sender=sender, to=bob.email)) == {}
    assert [m.from_addr for m in await messages_in(bob)] == [alias, shared]


async def test_submission_shared_mailbox_without_send_as_is_refused(mail_server: Server) -> None:
    org = await make_mail_org()
    alice = await mail_user(org)
    shared = f"accueil-{uuid.uuid4().hex[:6]}@{org.domain}"
    await shared_mailbox(org, shared, members={alice: False})
    with submission(mail_server, alice) as client:
        code, message = client.mail(shared)
    assert (code, message[:5]) == (550, b"5.7.1")


@pytest.mark.parametrize(
    ("can_write", "can_send_as"), [(False, False), (True, False), (False, True), (True, True)], ids=str
)
async def test_submission_shared_mailbox_sender_is_accepted_exactly_with_a_send_as_grant(
    mail_server: Server, can_write: bool, can_send_as: bool
) -> None:
    """Send-as is its own grant: a view-only or a writing delegate is refused, at MAIL and
    in From:, and a delegate granted send-as is accepted, read-only or not."""
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    shared = f"equipe-{uuid.uuid4().hex[:6]}@{org.domain}"
    await shared_mailbox(org, shared, members={alice: can_send_as}, can_write=can_write)
    with submission(mail_server, alice) as client:
        at_mail, _ = client.mail(shared)
        client.rset()
        try:
            client.sendmail(alice.email, [bob.email], make_message(sender=shared, to=bob.email))
            at_data = 250
        except smtplib.SMTPDataError as refused:
            at_data = refused.smtp_code
    assert (at_mail, at_data) == ((250, 250) if can_send_as else (550, 550))
    assert [m.from_addr for m in await messages_in(bob)] == ([shared] if can_send_as else [])


async def test_submission_user_of_one_org_cannot_send_as_another_orgs_address(mail_server: Server) -> None:
    alice, mallory = await mail_user(), await mail_user()
    with submission(mail_server, mallory) as client:
        code, _ = client.mail(alice.email)
        assert code == 550
        client.rset()
        with pytest.raises(smtplib.SMTPDataError):
            client.sendmail(mallory.email, [mallory.email], make_message(sender=alice.email, to=mallory.email))


async def test_submission_to_another_org_lands_in_that_orgs_inbox(mail_server: Server) -> None:
    alice, bob = await mail_user(), await mail_user()
    with submission(mail_server, alice) as client:
        client.sendmail(alice.email, [bob.email], make_message(sender=alice.email, to=bob.email, subject="Across"))
    [message] = await messages_in(bob)
    assert message.org_id == bob.org_id != alice.org_id
    async with system_session() as db:
        copies = (
            await db.execute(select(Message.org_id).where(Message.subject == "Across", Message.org_id == alice.org_id))
        ).all()
    assert copies == []


async def test_submission_unknown_local_recipient_is_refused_at_rcpt(mail_server: Server) -> None:
    org = await make_mail_org()
    alice = await mail_user(org)
    with submission(mail_server, alice) as client:
        client.mail(alice.email)
        code, message = client.rcpt(f"ghost-{uuid.uuid4().hex[:6]}@{org.domain}")
    assert (code, message[:5]) == (550, b"5.1.1")


async def test_submission_brute_force_is_rate_limited_and_audited(mail_server: Server) -> None:
    user = await mail_user()
    for attempt in range(5):  # HEXAGONE_LOGIN_MAX_FAILURES_PER_ACCOUNT=5 in the tests
        with submission(mail_server) as client:
            code, message = client.docmd("AUTH", "PLAIN " + _plain(user.email, f"wrong-{attempt}"))
        assert (code, message[:5]) == (535, b"5.7.8")
    with submission(mail_server) as client:
        code, message = client.docmd("AUTH", "PLAIN " + _plain(user.email, user.password))
    assert (code, message[:5]) == (454, b"4.7.0")
    async with system_session() as db:
        entries = list((await db.execute(select(AuditEntry).where(AuditEntry.actor_label == user.email))).scalars())
    assert sorted(e.action for e in entries) == ["auth.login_failed"] * 5 + ["auth.login_throttled"]
    assert all(e.details["channel"] == "smtp" for e in entries)


async def test_submission_session_is_closed_after_three_failed_logins(mail_server: Server) -> None:
    user = await mail_user()
    with submission(mail_server) as client:
        for attempt in range(2):
            code, _ = client.docmd("AUTH", "PLAIN " + _plain(user.email, f"nope-{attempt}"))
            assert code == 535
        code, _message = client.docmd("AUTH", "PLAIN " + _plain(user.email, "nope-again"))
        assert code == 535
        assert client.getreply()[0] == 421  # sent unasked, then the server hangs up
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


async def test_submission_account_with_mfa_needs_an_app_password(mail_server: Server) -> None:
    user = await mail_user(mfa=True)
    with submission(mail_server) as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(user.email, user.password)
    async with system_session() as db:
        _, secret = await auth.create_app_password(db, await get_user_row(user.id), "Thunderbird")
        await db.commit()
    with submission(mail_server) as client:
        code, _ = client.login(user.email, secret)
    assert code == 235


def _plain(login: str, password: str) -> str:
    return base64.b64encode(f"\0{login}\0{password}".encode()).decode()
