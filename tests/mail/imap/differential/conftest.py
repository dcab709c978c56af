"""The differential tests' fixtures: a throw-away Dovecot started once per session, and
the same messages APPENDed to it and to our test server, with both servers' answers
(see :mod:`tests.mail.imap.differential.harness`): ``compared`` for the corpus, the
malformed messages and the MIME corners, ``compared_generated`` for messages put
together at random (each set in an account of its own).

Appending costs most of these tests' time, so it is done once: every module here reads
``compared`` (the SORT and THREAD comparison COPYs its messages into a folder of its own),
and under ``pytest -n`` one worker runs them all (``XDIST_GROUPS`` in ``tests/conftest.py``)
instead of each worker building these fixtures again."""

from __future__ import annotations

import imaplib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_user
from tests.mail.imap.differential import harness
from tests.mail.imap.differential.mime_cases import generated
from tests.mail.migration.dovecot import Dovecot

PASSWORD = "Differential-password-1"
CASES, GENERATED = "cases@example.org", "generated@example.org"


@dataclass(frozen=True)
class Compared:
    mails: list[harness.Mail]
    ours: harness.Answers
    dovecot: harness.Answers
    user: TestUser  # the account on our server; Dovecot's is ``login`` with PASSWORD
    login: str


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="hx-differential-"))
    server = Dovecot(root, {CASES: PASSWORD, GENERATED: PASSWORD}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _compare(server: Server, dovecot: Dovecot, login: str, mails: list[harness.Mail]) -> Compared:
    user = await make_mail_user()
    ours = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=60)
    ours.login(user.email, user.password)
    theirs = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=60)
    theirs.login(login, PASSWORD)
    harness.append_all(ours, mails)
    harness.append_all(theirs, mails)
    mine, dovecots = harness.compare_servers(ours, theirs, mails)
    ours.logout()
    theirs.logout()
    return Compared(mails, mine, dovecots, user, login)


@pytest.fixture(scope="session")
async def compared(server: Server, dovecot: Dovecot) -> Compared:
    return await _compare(server, dovecot, CASES, harness.messages())


@pytest.fixture(scope="session")
async def compared_generated(server: Server, dovecot: Dovecot) -> Compared:
    mails = [harness.Mail(f"generated/{name}", data) for name, data in generated().items()]
    return await _compare(server, dovecot, GENERATED, mails)
