"""Helpers of the SMTP tests: waiting for what happens after a reply, reading messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.mail.models import Message
from hexagone.mail.service import store
from tests.factories import TestUser
from tests.mail.factories import messages_in

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
