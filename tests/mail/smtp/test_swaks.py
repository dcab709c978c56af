"""SMTP dialogues driven by swaks (Debian's Swiss Army Knife for SMTP), a client we did
not write: plain, pipelined, STARTTLS with AUTH, and refused relaying."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import Server
from tests.mail.factories import make_mail_org, messages_in
from tests.mail.smtp.helpers import mail_user

pytestmark = pytest.mark.usefixtures("migrated")


def swaks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["swaks", "--timeout", "30", *args], capture_output=True, text=True, timeout=60)


async def test_swaks_inbound_delivery(mail_server: Server) -> None:
    user = await mail_user()
    done = swaks(
        "--server",
        f"127.0.0.1:{mail_server.smtp_port}",
        "--from",
        "sender@example.net",
        "--to",
        user.email,
        "--header",
        "Subject: swaks inbound",
        "--body",
        "Bonjour depuis swaks",
    )
    assert done.returncode == 0, done.stdout
    assert "<-  250 2.0.0 OK: queued as" in done.stdout
    assert [m.subject for m in await messages_in(user)] == ["swaks inbound"]


async def test_swaks_pipelined_transaction(mail_server: Server) -> None:
    user = await mail_user()
    done = swaks(
        "--server",
        f"127.0.0.1:{mail_server.smtp_port}",
        "--pipeline",
        "--from",
        "sender@example.net",
        "--to",
        user.email,
        "--header",
        "Subject: swaks pipelined",
    )
    assert done.returncode == 0, done.stdout
    assert [m.subject for m in await messages_in(user)] == ["swaks pipelined"]


async def test_swaks_submission_with_starttls_and_auth(mail_server: Server) -> None:
    org = await make_mail_org()
    alice, bob = await mail_user(org), await mail_user(org)
    done = swaks(
        "--server",
        f"127.0.0.1:{mail_server.submission_port}",
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        alice.email,
        "--auth-password",
        alice.password,
        "--from",
        alice.email,
        "--to",
        bob.email,
        "--header",
        "Subject: swaks submission",
    )
    assert done.returncode == 0, done.stdout
    assert "<~  235 2.7.0 Authentication successful" in done.stdout
    assert [m.subject for m in await messages_in(bob)] == ["swaks submission"]


async def test_swaks_relay_attempt_is_refused(mail_server: Server) -> None:
    done = swaks(
        "--server", f"127.0.0.1:{mail_server.smtp_port}", "--from", "spammer@example.net", "--to", "victim@example.com"
    )
    assert done.returncode == 24  # swaks: every recipient refused
    assert "<** 554 5.7.1 <victim@example.com>: Relay access denied" in done.stdout
