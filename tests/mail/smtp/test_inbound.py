"""The inbound listener: what it offers, whom it accepts mail for, and what it stores."""

from __future__ import annotations

import ssl
import uuid

import pytest

from tests.conftest import Server
from tests.mail.factories import make_mail_org, make_message, messages_in
from tests.mail.smtp.helpers import inbound, inbox_bytes, mail_user

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


@pytest.mark.parametrize("recipient", ["victim@example.com", "victim@gmail.com", "user@[127.0.0.1]",
                                       "victim%example.com@localhost", "@relay.example:victim@example.com"])
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
