"""IMAP test helpers: signed-in clients (imaplib and IMAPClient) against the session's
test server, for users made by the mail factories."""

from __future__ import annotations

import imaplib
from collections.abc import Callable, Iterator

import pytest
from imapclient import IMAPClient

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_user

TIMEOUT = 10


def imap(server: Server, user: TestUser | None = None) -> imaplib.IMAP4:
    """An imaplib client, signed in when ``user`` is given."""
    client = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=TIMEOUT)
    if user is not None:
        client.login(user.email, user.password)
    return client


@pytest.fixture
async def user() -> TestUser:
    return await make_mail_user()


@pytest.fixture
def connect(server: Server) -> Iterator[Callable[..., imaplib.IMAP4]]:
    """Open imaplib clients that are logged out and closed after the test."""
    opened: list[imaplib.IMAP4] = []

    def open_client(user: TestUser | None = None, srv: Server | None = None) -> imaplib.IMAP4:
        client = imap(srv or server, user)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@pytest.fixture
def imapclient(server: Server) -> Iterator[Callable[..., IMAPClient]]:
    opened: list[IMAPClient] = []

    def open_client(user: TestUser, srv: Server | None = None) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=(srv or server).imap_port, ssl=False, timeout=TIMEOUT)
        client.login(user.email, user.password)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - a test may have closed it already
            pass
