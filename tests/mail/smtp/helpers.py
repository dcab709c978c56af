"""Helpers of the SMTP tests: waiting for what happens after a reply, reading messages."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select

from hexagone.core.config import Settings, get_settings
from hexagone.core.db import org_session, system_session
from hexagone.identity.models import OrgRole, User
from hexagone.identity.service import groups
from hexagone.mail import tls
from hexagone.mail.models import Address, Message
from hexagone.mail.service import mailboxes, store
from hexagone.mail.smtp.limits import ClientLimits
from hexagone.mail.smtp.protocol import Handler, Protocol
from hexagone.mail.transport import dns
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user, principal
from tests.mail.factories import folder_of, make_mail_user, messages_in

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; its last value otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value or loop.time() > deadline:
            return value
        await asyncio.sleep(interval)


async def inbox_bytes(user: TestUser) -> list[bytes]:
    """The raw bytes of every message in ``user``'s INBOX, in UID order."""
    return [await store.read(m) for m in await messages_in(user)]


async def messages_with_subject(subject: str) -> list[Message]:
    async with system_session() as db:
        return list((await db.execute(select(Message).where(Message.subject == subject))).scalars())


async def mail_user(org: TestOrg | None = None, **kwargs: object) -> TestUser:
    """A user whose mailbox exists already: created here, not by the server while the
    test reads it (two writers racing for SQLite's lock is not what a test is about)."""
    user = await make_mail_user(org, **kwargs)
    await folder_of(user)
    return user


async def add_alias(user: TestUser, address: str) -> None:
    """An extra address for ``user``'s mailbox."""
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        db.add(Address(org_id=user.org_id, address=address.lower(), mailbox_id=mailbox.id))
        await db.commit()


async def shared_mailbox(
    org: TestOrg, address: str, *, members: dict[TestUser, bool], can_write: bool = True
) -> uuid.UUID:
    """A shared mailbox, with each member granted access (and send-as when True; writing
    unless ``can_write`` is False)."""
    async with org_session(org.id) as db:
        mailbox = await mailboxes.create_shared_mailbox(db, org.id, address, address.split("@")[0])
        for member, send_as in members.items():
            await mailboxes.grant(db, mailbox, member.id, can_write=can_write, can_send_as=send_as)
        await db.commit()
        return mailbox.id


async def set_quota(user: TestUser, quota_bytes: int) -> None:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        mailbox.quota_bytes = quota_bytes
        await db.commit()


def submission(server: Server, user: TestUser | None = None) -> smtplib.SMTP:
    """An smtplib session on the submission port, signed in as ``user`` if given."""
    client = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30)
    client.ehlo("laptop.example.org")
    if user is not None:
        client.login(user.email, user.password)
    return client


def inbound(server: Server) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
    client.ehlo("client.example.net")
    return client


async def distribution_list(org: TestOrg, address: str, members: list[TestUser]) -> None:
    """A group of ``members`` reached at ``address``."""
    admin = await make_user(org, role=OrgRole.ADMIN)
    actor = await principal(admin)
    async with org_session(org.id) as db:
        group = await groups.create_group(db, actor, name=f"Group {uuid.uuid4().hex[:6]}")
        for member in members:
            await groups.add_to_group(db, actor, group, member.id)
        db.add(Address(org_id=org.id, address=address.lower(), group_id=group.id))
        await db.commit()


class Dialogue:
    """A raw SMTP conversation over a socket, for inputs no client library would send."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self) -> bytes:
        """One whole reply (every line of a multi-line one); b"" once the server hung up."""
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                return b"".join(lines)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return b"".join(lines)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, line: bytes) -> bytes:
        self.send(line + b"\r\n")
        return self.reply()

    def closed(self) -> bool:
        """Whether the server has closed the connection (reads end of file)."""
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> Dialogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """The HTTP side answers before the mail listeners are bound: wait for them."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.asynccontextmanager
async def in_process_listener(
    make_handler: Callable[[Settings], Handler], *, settings: Settings | None = None, **options: Any
) -> AsyncIterator[int]:
    """A listener in the test's own process, for what a server process cannot be made to
    do on demand (time out in a second, run out of disk, hold tracemalloc): the real
    session and handler, with ``options`` for :class:`Protocol`. Yields its port; speak
    to it from a thread (``asyncio.to_thread``), since it serves in this event loop."""
    settings = settings or get_settings()
    dns.install()
    context = await asyncio.to_thread(tls.server_context, settings)
    limits = ClientLimits(settings)
    server = await asyncio.get_running_loop().create_server(
        lambda: Protocol(make_handler(settings), settings=settings, limits=limits, tls_context=context, **options),
        host="127.0.0.1",
        port=0,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def in_data(port: int, user: TestUser) -> Dialogue:
    """A dialogue after EHLO, MAIL, RCPT to ``user`` and DATA: the message may come."""
    dialogue = Dialogue(port)
    for line, reply in [
        (b"EHLO client.example.net", b"250"),
        (b"MAIL FROM:<someone@example.net>", b"250"),
        (f"RCPT TO:<{user.email}>".encode(), b"250"),
        (b"DATA", b"354"),
    ]:
        assert dialogue.command(line).startswith(reply)
    return dialogue


def send_message(port: int, user: TestUser, message: bytes) -> bytes:
    """A whole transaction; the reply to the end of the data."""
    with in_data(port, user) as dialogue:
        dialogue.send(message + b".\r\n")
        return dialogue.reply()
