"""The inbound listener: what it offers, whom it accepts mail for, and what it stores."""

from __future__ import annotations

import smtplib
import ssl
import uuid

import pytest

from tests.conftest import Server
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import add_alias, distribution_list, eventually, inbound, inbox_bytes, mail_user, set_quota

pytestmark = pytest.mark.usefixtures("migrated")


async def test_inbound_ehlo_offers_the_esmtp_extensions(mail_server: Server) -> None:
    with inbound(mail_server) as client:
        for extension in ("size", "8bitmime", "smtputf8", "pipelining", "enhancedstatuscodes", "starttls"):
            assert client.has_extn(extension), extension
        assert int(client.esmtp_features["size"]) > 0
        assert not client.has_extn("auth")  # inbound takes no passwords


async def test_inbound_message_for_a_user_lands_in_their_inbox_with_a_trace(mail_server: Server) -> None:
    user = await mail_user()
    raw = make_message(sender="alice@example.net", to=user.email, subject="Inbound hello")
    with inbound(mail_server) as client:
        refused = client.sendmail("alice@example.net", [user.email], raw)
    assert refused == {}
    [stored] = await inbox_bytes(user)
    assert stored.startswith(b"Return-Path: <alice@example.net>\r\nReceived: from client.example.net ([127.0.0.1])")
    assert b"Authentication-Results: localhost;" in stored
    assert stored.endswith(raw)


async def test_inbound_unknown_recipient_is_refused_at_rcpt_with_5_1_1(mail_server: Server) -> None:
    org = await make_mail_org()
    with inbound(mail_server) as client:
        client.mail("alice@example.net")
        code, message = client.rcpt(f"nobody-{uuid.uuid4().hex[:6]}@{org.domain}")
    assert code == 550 and message.startswith(b"5.1.1")


@pytest.mark.parametrize(
    "recipient",
    [
        "victim@example.com",
        "victim@gmail.com",
        "user@[127.0.0.1]",
        "victim%example.com@localhost",
        "@relay.example:victim@example.com",
    ],
)
async def test_inbound_refuses_to_relay_to_other_domains(mail_server: Server, recipient: str) -> None:
    with inbound(mail_server) as client:
        client.mail("spammer@example.net")
        code, message = client.rcpt(recipient)
    assert code in (550, 553, 554), (code, message)
    assert message.startswith((b"5.7.1", b"5.1.3", b"5.1.1")), message


async def test_inbound_starttls_upgrades_the_session(mail_server: Server) -> None:
    user = await mail_user()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with inbound(mail_server) as client:
        code, _ = client.starttls(context=context)
        assert code == 220
        client.ehlo("client.example.net")
        assert not client.has_extn("starttls")
        client.sendmail("alice@example.net", [user.email], make_message(to=user.email))
    [stored] = await inbox_bytes(user)
    assert b"with ESMTPS id" in stored


async def test_inbound_alias_and_distribution_list_reach_their_mailboxes(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob, carol = await mail_user(org), await mail_user(org), await mail_user(org)
    alias, team = f"contact-{uuid.uuid4().hex[:6]}@{org.domain}", f"team-{uuid.uuid4().hex[:6]}@{org.domain}"
    await add_alias(alice, alias)
    await distribution_list(org, team, [bob, carol])
    with inbound(mail_server) as client:
        client.sendmail("someone@example.net", [alias], make_message(to=alias, subject="To the alias"))
        client.sendmail("someone@example.net", [team], make_message(to=team, subject="To the team"))
    assert [m.subject for m in await messages_in(alice)] == ["To the alias"]
    assert (
        [m.subject for m in await messages_in(bob)] == [m.subject for m in await messages_in(carol)] == ["To the team"]
    )


async def test_inbound_subaddress_reaches_the_base_mailbox_once(mail_server: Server) -> None:
    user = await mail_user()
    local, domain = user.email.split("@")
    tagged = f"{local}+newsletters@{domain}"
    with inbound(mail_server) as client:
        client.sendmail("someone@example.net", [user.email, tagged], make_message(to=f"{user.email}, {tagged}"))
    assert len(await messages_in(user)) == 1


async def test_inbound_recipients_of_two_organisations_each_get_a_scoped_copy(mail_server: Server) -> None:
    bob, carol = await mail_user(), await mail_user()
    with inbound(mail_server) as client:
        client.sendmail(
            "someone@example.net",
            [bob.email, carol.email],
            make_message(to=f"{bob.email}, {carol.email}", subject="Two orgs"),
        )
    [to_bob], [to_carol] = await messages_in(bob), await messages_in(carol)
    assert (to_bob.org_id, to_carol.org_id) == (bob.org_id, carol.org_id)
    assert to_bob.blob_key.startswith(f"org/{bob.org_id}/") and to_carol.blob_key.startswith(f"org/{carol.org_id}/")


async def test_inbound_mailbox_already_full_is_refused_for_now_at_rcpt(mail_server: Server) -> None:
    user = await mail_user()
    await set_quota(user, 0)
    with inbound(mail_server) as client:
        client.mail("someone@example.net")
        code, message = client.rcpt(user.email)
    assert (code, message[:5]) == (452, b"4.2.2")


async def test_inbound_message_larger_than_the_room_left_is_refused_at_data(mail_server: Server) -> None:
    user = await mail_user()
    await set_quota(user, 2000)
    with inbound(mail_server) as client, pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("someone@example.net", [user.email], make_message(to=user.email, body="x" * 5000))
    assert (refused.value.smtp_code, refused.value.smtp_error[:5]) == (552, b"5.2.2")
    assert await messages_in(user) == []


async def test_inbound_full_mailbox_among_others_is_bounced_and_the_others_delivered(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob, carol = await mail_user(org), await mail_user(org), await mail_user(org)
    await set_quota(bob, 2000)
    with inbound(mail_server) as client:
        client.sendmail(
            alice.email,
            [bob.email, carol.email],
            make_message(sender=alice.email, to=bob.email, body="x" * 5000, subject="Big"),
        )
    assert [m.subject for m in await messages_in(carol)] == ["Big"] and await messages_in(bob) == []
    [report] = await eventually(lambda: messages_in(alice))
    assert report.from_addr.startswith("Mail Delivery System") and bob.email in report.text


async def test_inbound_recipient_limit_answers_452_past_the_maximum(mail_server: Server) -> None:
    user = await mail_user()
    with inbound(mail_server) as client:
        client.mail("someone@example.net")
        codes = [client.rcpt(user.email)[0] for _ in range(100)]
        code, message = client.rcpt(user.email)
    assert set(codes) == {250} and (code, message[:5]) == (452, b"4.5.3")


async def test_inbound_declared_size_over_the_limit_is_refused_at_mail(mail_server: Server) -> None:
    with inbound(mail_server) as client:
        code, message = client.mail("someone@example.net", ["SIZE=999999999999"])
    assert (code, message[:5]) == (552, b"5.3.4")


async def test_inbound_bounce_with_null_sender_is_accepted(mail_server: Server) -> None:
    user = await mail_user()
    with inbound(mail_server) as client:
        assert client.sendmail("<>", [user.email], make_message(to=user.email)) == {}
    [stored] = await inbox_bytes(user)
    assert stored.startswith(b"Return-Path: <>\r\n")


async def test_inbound_return_path_written_by_the_sender_is_replaced_by_the_envelopes(mail_server: Server) -> None:
    user = await mail_user()
    raw = b"Return-Path: <forged@example.org>\r\n" + make_message(to=user.email)
    with inbound(mail_server) as client:
        assert client.sendmail("real@example.net", [user.email], raw) == {}
    [stored] = await inbox_bytes(user)
    assert stored.startswith(b"Return-Path: <real@example.net>\r\n") and b"forged@example.org" not in stored


async def test_inbound_smtputf8_sender_and_utf8_header_are_accepted(mail_server: Server) -> None:
    user = await mail_user()
    raw = f"From: élève@exemple.fr\r\nTo: {user.email}\r\nSubject: Vœux\r\n\r\nBonne année\r\n".encode()
    with inbound(mail_server) as client:
        assert client.sendmail("élève@exemple.fr", [user.email], raw, mail_options=["SMTPUTF8"]) == {}
    [stored] = await inbox_bytes(user)
    assert stored.startswith("Return-Path: <élève@exemple.fr>\r\n".encode()) and b"with UTF8SMTP id" in stored
