"""Raw IMAP sessions as most tests start them: signed in, a folder open."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.imap.conftest import Raw


def ok(client: Raw, tag: bytes, command: bytes) -> list[bytes]:
    """The answer to ``command``, which must succeed."""
    answer = client.command(tag, command)
    assert answer[-1].startswith(tag + b" OK"), answer
    return answer


def selected(raw: Callable[..., Raw], user: TestUser, folder: bytes = b"INBOX") -> Raw:
    """A new session of ``user`` (from the ``raw`` fixture) with ``folder`` selected."""
    client = raw(user)
    ok(client, b"s", b"SELECT " + folder)
    return client


@contextlib.contextmanager
def signed_in(server: Server, user: TestUser) -> Iterator[Raw]:
    """A session of ``user`` for a module's fixture (signing in costs an argon2 hash, so
    a module's read-only cases share one), closed at the end."""
    client = Raw(server.imap_port)
    try:
        client.login(user)
        yield client
    finally:
        client.close()
