"""ManageSieve test helpers: clients of PyPI ``managesieve`` (the real client) against
the session's test server, and a raw socket for what real clients never send."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable, Iterator

import pytest
from managesieve import MANAGESIEVE

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import make_mail_user
from tests.mail.imap.conftest import Raw as ImapRaw
from tests.mail.smtp.helpers import wait_for_port

TIMEOUT = 10
FINAL = re.compile(rb"(OK|NO|BYE)( |$)")
LITERAL = re.compile(rb"\{(\d+)\}$")


@pytest.fixture(scope="module")
def sieve_server(server: Server) -> Server:
    wait_for_port(server.managesieve_port)
    return server


@pytest.fixture
async def user() -> TestUser:
    return await make_mail_user()


def log_out(client: MANAGESIEVE) -> None:
    with contextlib.suppress(Exception):
        client.logout()


@pytest.fixture
def connect(sieve_server: Server) -> Iterator[Callable[..., MANAGESIEVE]]:
    """Open clients (signed in when given a user), logged out after the test."""
    with contextlib.ExitStack() as opened:

        def open_client(user: TestUser | None = None) -> MANAGESIEVE:
            client = MANAGESIEVE("127.0.0.1", sieve_server.managesieve_port, timeout=TIMEOUT)
            opened.callback(log_out, client)
            if user is not None:
                assert client.login("", user.email, user.password) == "OK", client.response_text
            return client

        yield open_client


class Raw(ImapRaw):
    """Bytes on a socket, for the dialogues real clients never have: IMAP's raw client
    (socket, lines) reading ManageSieve's untagged responses."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        super().__init__(port, host)
        self.greeting = [self.greeting, *self.response()]

    def response(self) -> list[bytes]:
        """Lines up to and including the final OK, NO or BYE (literals stay inline)."""
        lines = []
        while True:
            lines.append(line := self.line())
            if (announced := LITERAL.search(line)) is not None:
                lines.append(self.octets(int(announced[1])))
            elif FINAL.match(line):
                return lines

    def octets(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self.sock.recv(65536)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def ask(self, text: bytes) -> list[bytes]:
        self.send(text + b"\r\n")
        return self.response()

    def final(self, text: bytes) -> bytes:
        """The final line of the response to ``text``."""
        return self.ask(text)[-1]

    def sign_in(self, user: TestUser) -> None:
        secret = base64.b64encode(b"\0%b\0%b" % (user.email.encode(), user.password.encode()))
        assert self.final(b'AUTHENTICATE "PLAIN" "%b"' % secret).startswith(b"OK")

    def closed(self) -> bool:
        """Whether the server closed the connection (after what it still had to say)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


@pytest.fixture
def raw(sieve_server: Server) -> Iterator[Callable[..., Raw]]:
    """Open raw sockets (signed in when given a user), closed after the test."""
    with contextlib.ExitStack() as opened:

        def open_raw(user: TestUser | None = None) -> Raw:
            client = opened.enter_context(contextlib.closing(Raw(sieve_server.managesieve_port)))
            if user is not None:
                client.sign_in(user)
            return client

        yield open_raw
