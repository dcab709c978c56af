"""``250`` means stored: a server killed with SIGKILL while clients are sending has kept
every message it acknowledged, exactly once; a full disk gets a temporary refusal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import smtplib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosmtplib
import pytest

from hexagone.core import blobs
from hexagone.core.blobs import local
from hexagone.mail.service import store
from hexagone.mail.smtp.inbound import InboundHandler
from hexagone.mail.smtp.submission import SubmissionHandler
from tests.conftest import Server
from tests.mail.factories import make_message, messages_in
from tests.mail.smtp.helpers import eventually, in_process_listener, mail_user, wait_for_port

pytestmark = pytest.mark.usefixtures("migrated")

CLIENTS = 8
KILL_AFTER = 30  # acknowledged messages


async def test_durability_kill_9_mid_stream_keeps_every_acknowledged_message_once(
    start_server: Callable[..., Server],
) -> None:
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


class FullDisk(local.Backend):
    """The local blob store on a disk with no room left: its writes go to ``/dev/full``,
    which fails them as a full file system does (``ENOSPC``); reading works."""

    async def _put(self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None) -> blobs.BlobRef:
        content = b"".join([chunk async for chunk in chunks])
        with open("/dev/full", "wb", buffering=0) as device:
            device.write(content)
        raise AssertionError("/dev/full took the bytes")


@pytest.mark.parametrize("port", ["inbound", "submission"])
async def test_durability_full_disk_answers_452_4_3_1_with_one_log_line(
    port: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await mail_user()
    make_handler = InboundHandler if port == "inbound" else SubmissionHandler
    monkeypatch.setattr(blobs, "_store", FullDisk(tmp_path.as_uri()))
    caplog.set_level(logging.INFO, logger="hexagone")

    def send(listening: int) -> tuple[int, bytes, int]:
        with smtplib.SMTP("127.0.0.1", listening, timeout=30) as client:
            client.ehlo("client.example.net")
            if port == "submission":
                client.login(user.email, user.password)
            client.mail(user.email if port == "submission" else "someone@example.net")
            client.rcpt(user.email)
            code, reply = client.data(make_message(sender=user.email, to=user.email, subject="no room"))
            return code, reply, client.noop()[0]

    async with in_process_listener(make_handler) as listening:
        code, reply, after = await asyncio.to_thread(send, listening)

    assert (code, reply.split(b" ")[0]) == (452, b"4.3.1") and after == 250  # temporary; the session goes on
    assert await messages_in(user) == []
    logged = [r for r in caplog.records if r.name.startswith("hexagone") and r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].exc_info is None, logged  # one line in all, no traceback
    assert "refused with 452 4.3.1, the disk is full" in logged[0].getMessage()
