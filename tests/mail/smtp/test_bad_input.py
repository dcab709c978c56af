"""Bad input on the SMTP listeners: every malformed command or message gets a protocol
error reply (or a clean close), and nothing else is affected."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_message, messages_in
from tests.mail.smtp.helpers import Dialogue, inbound, mail_user

pytestmark = pytest.mark.usefixtures("migrated")


def started(server: Server, recipient: str) -> Dialogue:
    """A dialogue on the inbound port, after EHLO, MAIL and RCPT."""
    dialogue = Dialogue(server.smtp_port)
    assert dialogue.command(b"EHLO client.example.net").startswith(b"250")
    assert dialogue.command(b"MAIL FROM:<someone@example.net>").startswith(b"250")
    assert dialogue.command(f"RCPT TO:<{recipient}>".encode()).startswith(b"250")
    return dialogue


def data(dialogue: Dialogue, message: bytes) -> bytes:
    """The reply to DATA then ``message`` (ending with its lone ``.`` line, or not)."""
    assert dialogue.command(b"DATA").startswith(b"354")
    dialogue.send(message)
    return dialogue.reply()


def still_works(server: Server, user: TestUser) -> None:
    """A well-formed message still goes through after whatever came before."""
    with inbound(server) as client:
        assert client.sendmail("someone@example.net", [user.email], make_message(to=user.email)) == {}


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (b"MAIL FROM:<<<>>>", b"553 5.1.3"),
        (b"MAIL FROM:", b"501 5.5.4"),
        (b"RCPT TO:<someone@example.org>", b"503 5.5.1"),
        (b"DATA", b"503 5.5.1"),
        (b"\xff\xfe\xfd", b"500 5.5.2"),
        (b"HELLO", b"500 5.5.2"),
        (b"MAIL FROM:<a@example.net> SIZE=abc", b"501 5.5.4"),
        (b"MAIL FROM:<a@example.net> BODY=9BIT", b"501 5.5.4"),
        (b"MAIL FROM:<\xc3\xa9l\xc3\xa8ve@example.net>", b"553 5.6.7"),
        (b"NOOP " + b"x" * 2000, b"500 5.5.2"),
        (b"X" * 100_000, b"500 5.5.2"),
        (b"MAIL FROM:<a\x00b@example.net>", b"501 5.5.4"),
        (b"MAIL FROM:<a@example.net> SIZE=10\x00", b"501 5.5.4"),
        (b"MAIL FROM:<a\x1b[31m@example.net>", b"501 5.5.4"),
        (b"MAIL FROM:<a\rb@example.net>", b"501 5.5.4"),
        (b"VRFY a\x00b@example.org", b"501 5.5.4"),
    ],
)
async def test_bad_input_malformed_command_gets_an_error_and_the_session_goes_on(
    mail_server: Server, line: bytes, reply: bytes
) -> None:
    with Dialogue(mail_server.smtp_port) as dialogue:
        dialogue.command(b"EHLO client.example.net")
        assert dialogue.command(line).startswith(reply)
        assert dialogue.command(b"NOOP").startswith(b"250 2.0.0")


async def test_bad_input_gigantic_line_in_data_is_refused_and_nothing_stored(mail_server: Server) -> None:
    user = await mail_user()
    with started(mail_server, user.email) as dialogue:
        long_line = b"Subject: long\r\n\r\n" + b"y" * 200_000 + b"\r\n.\r\n"
        assert data(dialogue, long_line).startswith(b"500 5.5.2")
        assert dialogue.command(b"NOOP").startswith(b"250")
    assert await messages_in(user) == []
    still_works(mail_server, user)


async def test_bad_input_eight_bit_headers_and_broken_mime_are_stored_as_they_came(mail_server: Server) -> None:
    user = await mail_user()
    raw = (
        b"From: \xe9l\xe8ve <someone@example.net>\r\nTo: " + user.email.encode() + b"\r\n"
        b"Subject: caf\xc3\xa9 \xff\xfe\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-there"\r\n\r\n'
        b"no boundary at all\r\n\x00 a NUL byte\r\n--half-a-boundary\r\n"
    )
    with started(mail_server, user.email) as dialogue:
        assert data(dialogue, raw + b".\r\n").startswith(b"250 2.0.0")
    [message] = await messages_in(user)
    assert message.subject.startswith("caf") and message.size > len(raw)


async def test_bad_input_bare_lf_dot_does_not_end_the_data(mail_server: Server) -> None:
    """SMTP smuggling: ``\\n.\\n`` inside the data must not end it (only CRLF.CRLF does)."""
    user = await mail_user()
    with started(mail_server, user.email) as dialogue:
        smuggled = b"Subject: smuggle\r\n\r\nfirst\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<x@example.org>\r\n.\r\n"
        assert data(dialogue, smuggled).startswith(b"250 2.0.0")
        assert dialogue.command(b"QUIT").startswith(b"221")
    [message] = await messages_in(user)
    assert "MAIL FROM:<evil@example.net>" in message.text


async def test_bad_input_message_over_the_size_limit_is_refused_and_the_session_survives(strict_server: Server) -> None:
    small = strict_server  # messages of at most 20,000 bytes
    user = await mail_user()
    with started(small, user.email) as dialogue:
        big = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 40 + b".\r\n"
        assert data(dialogue, big).startswith(b"552 5.3.4")
        assert dialogue.command(b"NOOP").startswith(b"250")
    assert await messages_in(user) == []
    still_works(small, user)


async def test_bad_input_too_many_errors_close_the_connection(mail_server: Server) -> None:
    with Dialogue(mail_server.smtp_port) as dialogue:
        dialogue.command(b"EHLO client.example.net")
        replies = [dialogue.command(b"RCPT TO:<a@example.org>") for _ in range(19)]
        assert all(r.startswith(b"503") for r in replies)
        last = dialogue.command(b"RCPT TO:<a@example.org>")
        assert last.startswith(b"503") and dialogue.reply().startswith(b"421 4.7.0")
        assert dialogue.closed()


async def test_bad_input_client_vanishing_mid_data_stores_nothing(mail_server: Server) -> None:
    user = await mail_user()
    dialogue = started(mail_server, user.email)
    assert dialogue.command(b"DATA").startswith(b"354")
    dialogue.send(b"Subject: cut\r\n\r\nhalf a mess")
    dialogue.close()
    still_works(mail_server, user)
    assert [m.subject for m in await messages_in(user)] != ["cut"] and len(await messages_in(user)) == 1


async def test_bad_input_auth_garbage_on_submission_gets_501(mail_server: Server) -> None:
    with Dialogue(mail_server.submission_port) as dialogue:
        dialogue.command(b"EHLO laptop.example.org")
        assert dialogue.command(b"AUTH PLAIN !!!notbase64").startswith(b"501 5.5.2")
        assert dialogue.command(b"AUTH PLAIN " + base64.b64encode(b"no-nuls")).startswith(b"501 5.5.2")
        assert dialogue.command(b"AUTH CRAM-MD5").startswith(b"504 5.5.4")
        assert dialogue.command(b"AUTH LOGIN").startswith(b"334")
        assert dialogue.command(b"*").startswith(b"501")
        assert dialogue.command(b"NOOP").startswith(b"250")


async def test_bad_input_nul_in_rcpt_to_is_refused_and_reaches_nobody(mail_server: Server) -> None:
    user = await mail_user()
    local, domain = user.email.split("@")
    with Dialogue(mail_server.smtp_port) as dialogue:
        dialogue.command(b"EHLO client.example.net")
        assert dialogue.command(b"MAIL FROM:<someone@example.net>").startswith(b"250")
        assert dialogue.command(f"RCPT TO:<{local}\x00x@{domain}>".encode()).startswith(b"501 5.5.4")
        assert dialogue.command(f"RCPT TO:<{local}@{domain}\x00>".encode()).startswith(b"501 5.5.4")
        assert dialogue.command(b"DATA").startswith(b"503 5.5.1")  # no recipient was accepted
    assert await messages_in(user) == []
    still_works(mail_server, user)


@pytest.mark.parametrize(
    "greeting", [b"EHLO client\x00.example.net", b"HELO client\x00.example.net", b"EHLO client.example.net\x7f"]
)
async def test_bad_input_nul_in_the_greeting_is_refused(mail_server: Server, greeting: bytes) -> None:
    """Replies to HELO and EHLO carry no enhanced code (RFC 2034: none is negotiated yet)."""
    with Dialogue(mail_server.smtp_port) as dialogue:
        assert dialogue.command(greeting).startswith(b"501 Control characters")
        assert dialogue.command(b"MAIL FROM:<someone@example.net>").startswith(b"503 5.5.1")  # no greeting stood
        assert dialogue.command(b"EHLO client.example.net").startswith(b"250")


async def test_bad_input_nul_in_auth_is_refused_before_any_sign_in(mail_server: Server) -> None:
    user = await mail_user()
    with Dialogue(mail_server.submission_port) as dialogue:
        dialogue.command(b"EHLO laptop.example.org")
        plain = base64.b64encode(f"\x00{user.email}\x00{user.password}".encode())
        assert dialogue.command(b"AUTH PLAIN\x00 " + plain).startswith(b"501 5.5.4")
        assert dialogue.command(b"AUTH PLAIN " + plain + b"\x00").startswith(b"501 5.5.4")
        assert dialogue.command(b"MAIL FROM:<" + user.email.encode() + b">").startswith(b"530 5.7.0")
        assert dialogue.command(b"AUTH PLAIN " + plain).startswith(b"235")


async def test_bad_input_field_folded_over_many_lines_is_stored_in_seconds(mail_server: Server) -> None:
    """Reading a folded field was quadratic: 300,000 continuation lines (1.5 MB) kept the
    server busy for minutes per message; now it is stored well within the client's wait."""
    user = await mail_user()
    with started(mail_server, user.email) as dialogue:
        folded = b"Subject: folded\r\nX-Folded: start\r\n" + b" more\r\n" * 300_000 + b"\r\nbody\r\n.\r\n"
        assert data(dialogue, folded).startswith(b"250 2.0.0")  # the Dialogue waits 30 seconds at most
    assert [m.subject for m in await messages_in(user)] == ["folded"]
