"""IMAP test helpers: signed-in clients (imaplib and IMAPClient) against the session's
test server, and a raw socket client for what real clients never send."""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from imapclient import IMAPClient

from hexagone.core import pubsub
from hexagone.core.config import get_settings
from hexagone.core.pubsub import events
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_user

TIMEOUT = 10
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def user() -> TestUser:
    return await make_mail_user()


@pytest.fixture
async def five(user: TestUser) -> TestUser:
    """A user with five messages in the INBOX, UIDs 1 to 5."""
    for n in range(5):
        await deliver(user, subject=f"message {n + 1}")
    return user


@pytest.fixture
def connect(server: Server) -> Iterator[Callable[..., imaplib.IMAP4]]:
    """Open imaplib clients (signed in when given a user), logged out after the test."""
    opened: list[imaplib.IMAP4] = []

    def open_client(user: TestUser | None = None, srv: Server | None = None) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", (srv or server).imap_port, timeout=TIMEOUT)
        opened.append(client)
        if user is not None:
            client.login(user.email, user.password)
        return client

    yield open_client
    for client in opened:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


@pytest.fixture
def imapclient(server: Server) -> Iterator[Callable[..., IMAPClient]]:
    opened: list[IMAPClient] = []

    def open_client(user: TestUser, srv: Server | None = None) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=(srv or server).imap_port, ssl=False, timeout=TIMEOUT)
        opened.append(client)
        client.login(user.email, user.password)
        return client

    yield open_client
    for client in opened:
        with contextlib.suppress(Exception):
            client.logout()


class Raw:
    """Bytes on a socket, for the dialogues real clients never have."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buffer = b""
        self.greeting = self.line()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by the server; buffered {self.buffer[:200]!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def until(self, tag: bytes) -> list[bytes]:
        """Lines up to and including the one tagged ``tag`` (literals stay inline)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if (m := re.search(rb"\{(\d+)\}$", line)) is not None:
                size = int(m.group(1))
                while len(self.buffer) < size:
                    self.buffer += self.sock.recv(65536)
                lines.append(self.buffer[:size])
                self.buffer = self.buffer[size:]
            if line.startswith(tag + b" "):
                return lines

    def command(self, tag: bytes, text: bytes) -> list[bytes]:
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def login(self, user: TestUser) -> None:
        assert self.command(b"l", b'LOGIN "%b" "%b"' % (user.email.encode(), user.password.encode()))[-1].startswith(
            b"l OK"
        )

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(server: Server) -> Iterator[Callable[..., Raw]]:
    opened: list[Raw] = []

    def open_raw(user: TestUser | None = None, srv: Server | None = None) -> Raw:
        client = Raw((srv or server).imap_port)
        opened.append(client)
        if user is not None:
            client.login(user)
        return client

    yield open_raw
    for client in opened:
        client.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def redis_server(start_server: Callable[..., Server]) -> Server:
    """A server on the Redis bus, so that it hears deliveries made in this process."""
    return start_server(HEXAGONE_PUBSUB_URL=REDIS)


@pytest.fixture
async def redis_bus(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """This process publishes its store announcements on Redis too, for the test."""
    bus = pubsub.load(get_settings().model_copy(update={"pubsub_url": REDIS}))
    monkeypatch.setattr(pubsub, "_bus", bus)
    yield
    await events.flush()
    await bus.close()
