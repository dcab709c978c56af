"""``250`` means stored: a server killed with SIGKILL while clients are sending has kept
every message it acknowledged, exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path

import aiosmtplib
import pytest

from hexagone.mail.service import store
from tests.conftest import Server
from tests.mail.factories import make_message, messages_in
from tests.mail.smtp.helpers import eventually, mail_user, wait_for_port

pytestmark = pytest.mark.usefixtures("migrated")

CLIENTS = 8
KILL_AFTER = 30  # acknowledged messages


async def test_durability_kill_9_mid_stream_keeps_every_acknowledged_message_once(
        start_server: Callable[..., Server]) -> None:
    victim = start_server()
    wait_for_port(victim.smtp_port)
    user = await mail_user()
    run = uuid.uuid4().hex[:6]
    acknowledged: list[str] = []
    sent = 0

    async def client(number: int) -> None:
        nonlocal sent
        for index in range(100):
            subject = f"kill9-{run}-{number}-{index}"
            raw = make_message(to=user.email, subject=subject, body=f"{subject}\n" + "durable line\n" * 200)
            try:
                smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=victim.smtp_port, timeout=20, start_tls=False)
                await smtp.connect()
                sent += 1
                await smtp.sendmail("someone@example.net", [user.email], raw)
            except (aiosmtplib.SMTPException, OSError):
                return  # the server is gone
            acknowledged.append(subject)  # the 250 arrived
            smtp.close()

    clients = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
    assert await eventually(lambda: _true(len(acknowledged) >= KILL_AFTER), timeout=120)
    kill_9(victim)
    await asyncio.gather(*clients)

    stored = await messages_in(user)
    subjects = [m.subject for m in stored]
    assert len(subjects) == len(set(subjects)), "a message was stored twice"
    assert set(acknowledged) <= set(subjects), f"lost: {set(acknowledged) - set(subjects)}"
    assert len(acknowledged) < sent, "the kill came after the last message: nothing was in flight"
    for message in stored:  # the bytes were fsync'd before the row was committed
        assert (await store.read(message)).endswith(b"durable line\r\n" * 200)


async def _true(value: bool) -> bool:
    return value


def kill_9(server: Server) -> None:
    """SIGKILL to the server and its worker processes (granian serves from children):
    no shutdown, no flush, as when the machine loses power under the process."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [*children, str(pid)]:
        os.kill(int(process), signal.SIGKILL)
    server.process.wait()
