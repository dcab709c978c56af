"""Greeting, capabilities, signing in and out, STARTTLS: every kind of caller, as IMAP
treats them (the same accounts, app passwords, rate limits and audit entries)."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable

import pytest
from managesieve import MANAGESIEVE
from sqlalchemy import select

from hexagone.core.audit import LOGIN_FAILED
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, system_session
from hexagone.core.models import AuditEntry
from hexagone.identity.models import OrgRole
from hexagone.identity.service import users
from hexagone.mail.service import auth
from tests.conftest import DATA_DIR, Server
from tests.factories import TestUser, get_user_row, make_org, make_user, principal
from tests.mail.factories import make_mail_org, make_mail_user
from tests.mail.imap.test_session import local_address
from tests.mail.managesieve.conftest import TIMEOUT, Raw
from tests.mail.smtp.helpers import wait_for_port

pytestmark = pytest.mark.usefixtures("migrated")

SCRIPT_COMMANDS = [
    b'PUTSCRIPT "x" "keep;"',
    b"LISTSCRIPTS",
    b'GETSCRIPT "x"',
    b'SETACTIVE "x"',
    b'DELETESCRIPT "x"',
    b'RENAMESCRIPT "x" "y"',
    b'CHECKSCRIPT "keep;"',
    b'HAVESPACE "x" 10',
    b"UNAUTHENTICATE",
]


@pytest.fixture(scope="module")
def public_server(start_server: Callable[..., Server]) -> Server:
    """A server listening on every interface, reached here from a non-loopback address."""
    srv = start_server(HEXAGONE_MAIL_LISTEN_HOST="0.0.0.0")
    wait_for_port(srv.managesieve_port)
    return srv


def plain(email: str, password: str, authzid: str = "") -> bytes:
    return base64.b64encode(f"{authzid}\0{email}\0{password}".encode())


def signs_in(connect: Callable[..., MANAGESIEVE], email: str, password: str) -> bool:
    client = connect()
    return client.login("", email, password) == "OK"


async def test_session_greeting_lists_capabilities(connect) -> None:
    client = connect()
    assert client.implementation == "Hexagone"
    assert client.loginmechs == ["PLAIN"] and client.supports_tls


async def test_session_greeting_advertises_version_and_unauthenticate(raw) -> None:
    greeting = raw().greeting
    assert b'"VERSION" "1.0"' in greeting and b'"UNAUTHENTICATE"' in greeting
    assert greeting[-1] == b'OK "Hexagone ManageSieve ready"'


async def test_session_anonymous_caller_gets_no_script_command(raw) -> None:
    client = raw()
    for command in SCRIPT_COMMANDS:
        assert client.final(command) == b'NO "Sign in first"', command


async def test_session_user_signs_in_and_owner_is_advertised(connect, user: TestUser) -> None:
    client = connect(user)
    typ, data = client.capability()
    assert typ == "OK" and ["OWNER", user.email] in data


async def test_session_wrong_password_is_refused_and_audited(connect, user: TestUser) -> None:
    client = connect()
    assert client.login("", user.email, "not the password") == "NO"
    assert client.response_text == "Authentication failed"
    async with system_session() as db:
        entries = list(
            (
                await db.execute(
                    select(AuditEntry).where(AuditEntry.action == LOGIN_FAILED, AuditEntry.actor_label == user.email)
                )
            ).scalars()
        )
    assert [e.details["channel"] for e in entries] == ["managesieve"]


async def test_session_unknown_account_is_refused_alike(connect) -> None:
    client = connect()
    assert client.login("", "nobody@nowhere.test", "whatever") == "NO"
    assert client.response_text == "Authentication failed"


async def test_session_disabled_user_is_refused(connect) -> None:
    org = await make_mail_org()
    user, admin = await make_mail_user(org), await make_mail_user(org, role=OrgRole.ADMIN)
    assert signs_in(connect, user.email, user.password)
    async with org_session(user.org_id) as db:
        await users.set_active(db, await principal(admin), user.id, False)
        await db.commit()
    assert not signs_in(connect, user.email, user.password)


async def test_session_guest_and_organisation_without_mail_are_refused(connect) -> None:
    guest = await make_mail_user(role=OrgRole.GUEST)
    outsider = await make_user(await make_org())  # an organisation that did not take mail
    assert not signs_in(connect, guest.email, guest.password)
    assert not signs_in(connect, outsider.email, outsider.password)


async def test_session_mfa_account_signs_in_with_an_app_password_only(connect) -> None:
    user = await make_mail_user(mfa=True)
    async with system_session() as db:
        _row, secret = await auth.create_app_password(db, await get_user_row(user.id), "Sieve editor")
        await db.commit()
    assert not signs_in(connect, user.email, user.password)
    assert signs_in(connect, user.email, secret)


async def test_session_failures_are_rate_limited_with_trylater(connect, user: TestUser) -> None:
    limit = get_settings().login_max_failures_per_account_and_ip
    client = connect()
    for _ in range(limit):
        assert client.login("", user.email, "guess") == "NO" and client.response_code is None
    assert client.login("", user.email, user.password) == "NO" and client.response_code == "TRYLATER"


async def test_session_authenticate_without_initial_response_reads_a_continuation(raw, user: TestUser) -> None:
    client = raw()
    client.send(b'AUTHENTICATE "PLAIN"\r\n')
    assert client.line() == b'""'
    assert client.final(b'"%b"' % plain(user.email, user.password)) == b'OK "Logged in"'
    assert client.ask(b"LISTSCRIPTS") == [b'OK "Listscripts completed"']


async def test_session_authenticate_can_be_cancelled(raw) -> None:
    client = raw()
    client.send(b'AUTHENTICATE "PLAIN"\r\n')
    assert client.line() == b'""'
    assert client.final(b'"*"') == b'NO "Authentication cancelled"'


async def test_session_authenticate_refuses_another_authorization_identity(raw, user: TestUser) -> None:
    other = await make_mail_user()
    client = raw()
    secret = plain(user.email, user.password, authzid=other.email)
    assert client.final(b'AUTHENTICATE "PLAIN" "%b"' % secret) == b'NO "Signing in as someone else is not allowed"'
    assert client.final(b'AUTHENTICATE "DIGEST-MD5"') == b'NO "Unsupported authentication mechanism"'
    assert client.final(b'AUTHENTICATE "PLAIN" "not base64!"') == b'NO "Invalid SASL PLAIN response"'


async def test_session_unauthenticate_returns_to_the_greeting_state(connect, user: TestUser) -> None:
    other = await make_mail_user()
    client = connect(user)
    assert client.putscript("mine", "keep;") == "OK"
    assert client.unauthenticate() == "OK"
    assert client.login("", other.email, other.password) == "OK"
    assert client.listscripts() == ("OK", [])


async def test_session_starttls_then_sign_in_with_the_real_client(sieve_server: Server, user: TestUser) -> None:
    client = MANAGESIEVE("127.0.0.1", sieve_server.managesieve_port, use_tls=True, tls_verify=False, timeout=TIMEOUT)
    try:
        assert not client.supports_tls  # not offered twice
        assert client.login("", user.email, user.password) == "OK"
        assert client.putscript("tls", "keep;") == "OK"
        assert client.listscripts() == ("OK", [("tls", False)])
    finally:
        client.logout()


async def test_session_starttls_drops_commands_sent_in_clear_after_it(raw) -> None:
    client = raw()
    client.send(b'STARTTLS\r\nAUTHENTICATE "PLAIN" "AGEAYg=="\r\n')  # the injection of CVE-2011-0411
    assert client.line() == b'OK "Begin TLS negotiation now"'
    context = ssl.create_default_context(cafile=str(DATA_DIR / "tls" / "mail-self-signed.pem"))
    wrapped = context.wrap_socket(client.sock, server_hostname="127.0.0.1")
    again = b""
    while not again.endswith(b'OK "TLS negotiation successful"\r\n'):
        again += wrapped.recv(4096)
    assert b'"STARTTLS"' not in again  # capabilities re-issued (RFC 5804 2.2)
    wrapped.sendall(b"NOOP\r\n")
    assert wrapped.recv(1000) == b'OK "Done"\r\n'  # nothing answered for the injected command
    wrapped.close()


async def test_session_clear_text_sign_in_is_refused_off_loopback_until_starttls(
    public_server: Server, user: TestUser
) -> None:
    client = Raw(public_server.managesieve_port, host=local_address())
    try:
        assert b'"SASL" ""' in client.greeting
        secret = plain(user.email, user.password)
        assert client.final(b'AUTHENTICATE "PLAIN" "%b"' % secret).startswith(b"NO (ENCRYPT-NEEDED)")
    finally:
        client.close()
    tls_client = MANAGESIEVE(
        local_address(), public_server.managesieve_port, use_tls=True, tls_verify=False, timeout=TIMEOUT
    )
    try:
        assert tls_client.loginmechs == ["PLAIN"]
        assert tls_client.login("", user.email, user.password) == "OK"
    finally:
        tls_client.logout()


async def test_session_logout_says_ok_and_closes(raw) -> None:
    client = raw()
    assert client.final(b"LOGOUT") == b'OK "Logout completed"'
    assert client.closed()
