"""Greeting, capabilities, sign-in and the commands valid in any state."""

from __future__ import annotations

import imaplib

import pytest

from tests.mail.imap.conftest import imap

pytestmark = pytest.mark.usefixtures("migrated")


async def test_session_greeting_lists_capabilities_and_loopback_allows_login(server, connect) -> None:
    client = connect()
    assert b"Hexagone IMAP ready" in client.welcome
    typ, data = client.capability()
    caps = data[0].split()
    assert typ == "OK" and b"IMAP4rev1" in caps and b"STARTTLS" in caps and b"AUTH=PLAIN" in caps
    assert b"LOGINDISABLED" not in caps


async def test_session_login_then_capabilities_include_extensions(server, connect, user) -> None:
    client = connect(user)
    _, data = client.capability()
    caps = set(data[0].split())
    assert {b"IDLE", b"MOVE", b"UIDPLUS", b"CONDSTORE", b"SPECIAL-USE", b"NAMESPACE", b"QUOTA"} <= caps


async def test_session_wrong_password_is_refused(server, connect, user) -> None:
    client = connect()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        client.login(user.email, "wrong password")
