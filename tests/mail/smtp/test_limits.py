"""Per-client limits, and the rule that a password crosses a network only inside TLS."""

from __future__ import annotations

import smtplib
import socket
import ssl

import pytest

from tests.conftest import Server
from tests.mail.smtp.helpers import Dialogue, mail_user

pytestmark = pytest.mark.usefixtures("migrated")


def own_network_address() -> str:
    """This machine's address on its network (not loopback): where the kernel would send
    from towards a documentation address (a UDP "connect" sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.254", 9))
        return probe.getsockname()[0]


async def test_limits_third_simultaneous_connection_is_refused(strict_server: Server) -> None:
    with Dialogue(strict_server.smtp_port) as first, Dialogue(strict_server.smtp_port) as second:
        assert first.greeting.startswith(b"220") and second.greeting.startswith(b"220")
        with Dialogue(strict_server.smtp_port) as third:
            assert third.greeting.startswith(b"421 4.7.0") and third.closed()
        assert first.command(b"NOOP").startswith(b"250")


async def test_limits_connections_past_the_rate_are_refused(strict_server: Server) -> None:
    greetings = []
    for _ in range(10):
        with Dialogue(strict_server.submission_port) as dialogue:
            greetings.append(dialogue.greeting[:9])
    admitted = [g for g in greetings if g.startswith(b"220")]
    assert 4 <= len(admitted) <= 6  # six a minute, less what the server's readiness probe used
    assert greetings == admitted + [b"421 4.7.0"] * (10 - len(admitted))


async def test_limits_plain_auth_off_loopback_needs_starttls_first(strict_server: Server) -> None:
    user = await mail_user()
    address = own_network_address()
    with smtplib.SMTP(address, strict_server.submission_port, timeout=30) as client:
        client.ehlo("laptop.example.org")
        assert not client.has_extn("auth")
        code, message = client.docmd("AUTH", "PLAIN AHVzZXIAcGFzcw==")
        assert (code, message[:6]) == (538, b"5.7.11")
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        client.starttls(context=context)
        client.ehlo("laptop.example.org")
        assert client.has_extn("auth")
        assert client.login(user.email, user.password)[0] == 235
