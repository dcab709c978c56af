"""What a large message costs the SMTP layer in memory (issue 13): the DATA block is held
once as it arrives, the stamped copy (trace and verdict fields on top) replaces it, and
what is refused is thrown away as it comes. Measured with tracemalloc on a listener in the
test's own process (its peak above what was allocated before the transfer)."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from hexagone.core.config import Settings, get_settings
from hexagone.mail.service import authcheck
from hexagone.mail.smtp.inbound import InboundHandler
from tests.factories import TestUser
from tests.mail.factories import messages_in
from tests.mail.smtp.helpers import in_data, in_process_listener, mail_user, set_quota

pytestmark = pytest.mark.usefixtures("migrated")

MIB = 1 << 20
SIZE = 8 * MIB
LINE = b"y" * 998 + b"\r\n"


class Measured(InboundHandler):
    """The inbound handler, noting tracemalloc's peak at the end of the steps the SMTP
    layer owns: the reading of the block, and its stamping."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.peaks: dict[str, int] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.peaks["read"] = tracemalloc.get_traced_memory()[1]
        return await super().handle_DATA(server, session, envelope)

    async def _stamped(
        self, session: Session, envelope: Envelope, raw: bytes, queue_id: str, mail_from: str
    ) -> tuple[authcheck.Verdict, bytes]:
        stamped = await super()._stamped(session, envelope, raw, queue_id, mail_from)
        self.peaks["stamped"] = tracemalloc.get_traced_memory()[1]
        return stamped


def stream(port: int, user: TestUser, size: int) -> bytes:
    """Send a message of about ``size`` bytes, 64 lines at a time; the final reply."""
    with in_data(port, user) as dialogue:
        dialogue.send(b"Subject: big\r\n\r\n")
        chunk = LINE * 64
        for _ in range(-(-size // len(chunk))):  # rounded up
            dialogue.send(chunk)
        return dialogue.command(b".")


async def test_memory_large_message_is_held_once_as_it_arrives_and_replaced_by_its_stamped_copy() -> None:
    user = await mail_user()
    await set_quota(user, 1 << 30)
    handler = Measured(get_settings())
    async with in_process_listener(lambda _settings: handler) as port:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            reply = await asyncio.to_thread(stream, port, user, SIZE)
        finally:
            tracemalloc.stop()
    assert reply.startswith(b"250 2.0.0")
    # aiosmtpd held a bytearray per line, then their join, then the unstuffed copy: over 2x
    assert handler.peaks["read"] - base < 1.25 * SIZE
    # the message, and for a moment its stamped copy (the header parse copies no body)
    assert handler.peaks["stamped"] - base < 2.25 * SIZE
    [message] = await messages_in(user)
    assert message.size > SIZE


async def test_memory_oversized_data_is_thrown_away_as_it_comes_and_refused_at_the_dot() -> None:
    user = await mail_user()
    settings = get_settings().model_copy(update={"mail_max_message_bytes": 100_000})
    async with in_process_listener(InboundHandler, settings=settings) as port:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            reply = await asyncio.to_thread(stream, port, user, SIZE)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert reply.startswith(b"552 5.3.4")  # in its place in the dialogue, after the dot
    assert peak < MIB  # nothing of the 8 MiB was kept past the 100,000 bytes allowed
    assert await messages_in(user) == []
