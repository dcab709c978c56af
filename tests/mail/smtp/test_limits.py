"""Per-client limits, idle sessions, large transfers at once, and the rule that a
password crosses a network only inside TLS."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time

import pytest

from hexagone.mail.smtp import data
from hexagone.mail.smtp.inbound import InboundHandler
from tests.conftest import Server
from tests.mail.factories import messages_in
from tests.mail.smtp.helpers import Dialogue, eventually, in_data, in_process_listener, mail_user, send_message

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


async def test_limits_idle_session_gets_421_before_it_is_closed() -> None:
    def stay_silent(port: int) -> tuple[bytes, bool]:
        with Dialogue(port) as dialogue:
            dialogue.command(b"EHLO client.example.net")
            return dialogue.reply(), dialogue.closed()

    async with in_process_listener(InboundHandler, timeout=0.5) as port:
        reply, closed = await asyncio.to_thread(stay_silent, port)
    assert reply.startswith(b"421 4.4.2 ") and reply.endswith(b" Error: timeout exceeded\r\n")
    assert closed


async def test_limits_slow_data_is_not_cut_while_it_keeps_coming() -> None:
    """The idle timeout counts silence, not the length of a transfer: a large message on a
    slow link takes longer than the timeout and must still go through."""
    user = await mail_user()

    def trickle(port: int) -> bytes:
        with in_data(port, user) as dialogue:
            dialogue.send(b"Subject: slow\r\n\r\n")
            for _ in range(10):  # 3 seconds in all, never a second of silence
                time.sleep(0.3)
                dialogue.send(b"one more line\r\n")
            return dialogue.command(b".")

    async with in_process_listener(InboundHandler, timeout=1.0) as port:
        assert (await asyncio.to_thread(trickle, port)).startswith(b"250 2.0.0")
    assert [m.subject for m in await messages_in(user)] == ["slow"]


async def test_limits_large_transfer_beyond_the_slots_waits_then_gets_452() -> None:
    user = await mail_user()
    transfers = data.Transfers(slots=1, threshold=50_000, wait=0.5)
    body = (b"x" * 998 + b"\r\n") * 100  # 100 KB: a large transfer past 50,000 bytes

    async with in_process_listener(InboundHandler, transfers=transfers) as port:
        first = await asyncio.to_thread(in_data, port, user)
        with first:
            await asyncio.to_thread(first.send, b"Subject: first\r\n\r\n" + body)  # not ended: holds the slot
            assert await eventually(lambda: _true(transfers.full), timeout=5)
            second = await asyncio.to_thread(send_message, port, user, b"Subject: second\r\n\r\n" + body)
            small = await asyncio.to_thread(send_message, port, user, b"Subject: small\r\n\r\nshort\r\n")
            finished = await asyncio.to_thread(first.command, b".")
        third = await asyncio.to_thread(send_message, port, user, b"Subject: third\r\n\r\n" + body)
    assert second.startswith(b"452 4.3.1") and small.startswith(b"250") and finished.startswith(b"250")
    assert third.startswith(b"250")  # the slot was given back
    assert sorted(m.subject for m in await messages_in(user)) == ["first", "small", "third"]


async def _true(value: bool) -> bool:
    return value
