"""Greeting, capabilities, signing in (LOGIN, AUTHENTICATE PLAIN, STARTTLS, the clear-text
rule, rate limits and audit) and the commands valid in any state."""

from __future__ import annotations

import base64
import imaplib
import socket
import ssl
from collections.abc import Callable

import pytest
from sqlalchemy import select

from hexagone.core.audit import LOGIN_FAILED
from hexagone.core.db import system_session
from hexagone.core.models import AuditEntry
from tests.conftest import DATA_DIR, Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_user
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def local_address() -> str:
    """An address of this machine that is not loopback (the source of the default route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 9))  # a datagram socket sends nothing on connect
        return probe.getsockname()[0]


@pytest.fixture(scope="module")
def public_server(start_server: Callable[..., Server]) -> Server:
    """A server listening on every interface, reached here from a non-loopback address."""
    return start_server(HEXAGONE_MAIL_LISTEN_HOST="0.0.0.0")


def tls_context() -> ssl.SSLContext:
    """Trusts the self-signed certificate the test server generated on first run."""
    return ssl.create_default_context(cafile=str(DATA_DIR / "tls" / "mail-self-signed.pem"))


async def test_session_greeting_lists_capabilities_and_loopback_allows_login(connect) -> None:
    client = connect()
    assert b"Hexagone IMAP ready" in client.welcome
    typ, data = client.capability()
    caps = data[0].split()
    assert typ == "OK" and b"IMAP4rev1" in caps and b"STARTTLS" in caps and b"AUTH=PLAIN" in caps
    assert b"LOGINDISABLED" not in caps and b"LITERAL+" in caps


async def test_session_login_then_capabilities_include_extensions(connect, user: TestUser) -> None:
    client = connect(user)
    _, data = client.capability()
    caps = set(data[0].split())
    assert {
        b"IDLE",
        b"MOVE",
        b"UIDPLUS",
        b"CONDSTORE",
        b"SPECIAL-USE",
        b"NAMESPACE",
        b"QUOTA",
        b"ESEARCH",
        b"LIST-EXTENDED",
        b"UNSELECT",
        b"ENABLE",
        b"ID",
    } <= caps
    assert b"STARTTLS" not in caps and b"AUTH=PLAIN" not in caps


async def test_session_wrong_password_is_refused(connect, user: TestUser) -> None:
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        connect().login(user.email, "wrong password")


async def test_session_unknown_account_is_refused_like_a_wrong_password(connect) -> None:
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        connect().login("nobody@nowhere.test", "whatever")


async def test_session_authenticate_plain_with_initial_response(raw, user: TestUser) -> None:
    client = raw()
    token = base64.b64encode(b"\0" + user.email.encode() + b"\0" + user.password.encode())
    assert client.command(b"a", b"AUTHENTICATE PLAIN " + token)[-1].startswith(b"a OK [CAPABILITY")


async def test_session_authenticate_plain_after_continuation(connect, user: TestUser) -> None:
    client = connect()
    typ, _ = client.authenticate("PLAIN", lambda _: b"\0" + user.email.encode() + b"\0" + user.password.encode())
    assert typ == "OK" and client.state == "AUTH"


async def test_session_authenticate_as_someone_else_is_refused(raw, user: TestUser) -> None:
    other = await make_mail_user()
    token = base64.b64encode(other.email.encode() + b"\0" + user.email.encode() + b"\0" + user.password.encode())
    assert b"AUTHORIZATIONFAILED" in raw().command(b"a", b"AUTHENTICATE PLAIN " + token)[-1]


async def test_session_authenticate_cancelled_and_garbage_answer_bad(raw) -> None:
    client = raw()
    client.send(b"a AUTHENTICATE PLAIN\r\n")
    assert client.line() == b"+ "
    client.send(b"*\r\n")
    assert client.until(b"a")[-1].startswith(b"a BAD")
    assert client.command(b"b", b"AUTHENTICATE PLAIN !!notbase64!!")[-1].startswith(b"b BAD")
    assert client.command(b"c", b"AUTHENTICATE CRAM-MD5")[-1].startswith(b"c NO")
    assert client.command(b"d", b"NOOP")[-1] == b"d OK NOOP completed"


async def test_session_failed_logins_are_audited_and_rate_limited(connect) -> None:
    user = await make_mail_user()
    for _ in range(5):  # HEXAGONE_LOGIN_MAX_FAILURES_PER_ACCOUNT in the test settings
        with pytest.raises(imaplib.IMAP4.error):
            connect().login(user.email, "wrong password")
    with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
        connect().login(user.email, user.password)
    async with system_session() as db:
        entries = list(
            (
                await db.execute(
                    select(AuditEntry).where(AuditEntry.action == LOGIN_FAILED, AuditEntry.actor_label == user.email)
                )
            ).scalars()
        )
    assert len(entries) == 5 and all(e.details["channel"] == "imap" for e in entries)


async def test_session_clear_text_login_is_refused_off_loopback_until_starttls(
    public_server: Server, user: TestUser
) -> None:
    client = imaplib.IMAP4(local_address(), public_server.imap_port, timeout=10)
    try:
        _, data = client.capability()
        assert b"LOGINDISABLED" in data[0] and b"AUTH=PLAIN" not in data[0]
        with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
            client.login(user.email, user.password)
        client.starttls(ssl_context=ssl._create_unverified_context())  # the address is not in the certificate
        _, data = client.capability()
        assert b"AUTH=PLAIN" in data[0] and b"STARTTLS" not in data[0]
        assert client.login(user.email, user.password)[0] == "OK"
    finally:
        client.logout()


async def test_session_starttls_with_the_generated_certificate(connect, user: TestUser) -> None:
    client = connect()
    client.starttls(ssl_context=tls_context())
    assert client.login(user.email, user.password)[0] == "OK"
    assert client.select("INBOX")[0] == "OK"


async def test_session_starttls_drops_commands_sent_in_clear_after_it(raw, user: TestUser) -> None:
    client = raw()
    client.send(b"a STARTTLS\r\nb LOGIN x y\r\n")  # the injection of CVE-2011-0411
    assert client.line() == b"a OK Begin TLS negotiation now"
    wrapped = tls_context().wrap_socket(client.sock, server_hostname="127.0.0.1")
    wrapped.sendall(b"c NOOP\r\n")
    assert wrapped.recv(1000) == b"c OK NOOP completed\r\n"  # nothing answered for "b"
    wrapped.close()


async def test_session_id_enable_noop_and_logout(raw, user: TestUser) -> None:
    client = raw(user)
    assert (
        client.command(b"a", b'ID ("name" "test" "version" "1")')[0] == b'* ID ("name" "Hexagone" "vendor" "Hexagone")'
    )
    assert client.command(b"b", b"ID NIL")[-1].startswith(b"b OK")
    assert client.command(b"c", b"ENABLE CONDSTORE X-UNKNOWN")[0] == b"* ENABLED CONDSTORE"
    assert client.command(b"d", b"NOOP")[-1] == b"d OK NOOP completed"
    assert client.command(b"e", b"LOGOUT") == [b"* BYE Hexagone IMAP signing off", b"e OK LOGOUT completed"]


async def test_session_commands_in_the_wrong_state_are_refused(raw, user: TestUser) -> None:
    client = raw()
    assert client.command(b"a", b"SELECT INBOX")[-1].startswith(b"a BAD")
    assert client.command(b"b", b"FETCH 1 FLAGS")[-1].startswith(b"b BAD")
    client.login(user)
    assert client.command(b"c", b"FETCH 1 FLAGS")[-1] == b"c BAD No mailbox selected"
    assert client.command(b"d", b'LOGIN "a" "b"')[-1].startswith(b"d BAD")
    assert client.command(b"e", b"STARTTLS")[-1].startswith(b"e BAD")
    assert client.command(b"f", b"NOOP")[-1].startswith(b"f OK")


async def test_session_unknown_command_is_bad_and_the_session_goes_on(raw: Callable[..., Raw]) -> None:
    client = raw()
    assert client.command(b"a", b"XYZZY plugh")[-1] == b"a BAD Unknown command"
    assert client.command(b"b", b"CAPABILITY")[-1] == b"b OK CAPABILITY completed"


async def test_session_failed_tls_handshake_closes_only_that_connection(raw, server: Server, user: TestUser) -> None:
    client = raw()
    assert client.command(b"a", b"STARTTLS")[-1] == b"a OK Begin TLS negotiation now"
    client.send(b"this is not a TLS client hello\r\n" * 10)
    client.sock.settimeout(10)
    assert client.sock.recv(1000)[:1] in (b"", b"\x15")  # closed, at most after a TLS alert
    other = Raw(server.imap_port)
    other.login(user)
    assert other.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"
    other.close()
