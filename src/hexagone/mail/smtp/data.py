"""The DATA block of a transaction, read into one buffer, and the bound on large ones.

aiosmtpd keeps a DATA block as a list of one ``bytearray`` per line (each with its own
object overhead), joins it into ``original_content`` and then unstuffs the dots: about
three times a message's size while it ends. Here each line is dot-unstuffed as it comes
(RFC 5321 4.5.2) and written to one :class:`io.BytesIO`, whose ``getvalue()`` hands its
own buffer over without a copy: the message is held once.

What is refused stops being kept at once: past the size limit, on a line longer than the
stream allows, or when no slot for a large transfer frees in time, the buffer is dropped
and the rest of the block is read and thrown away up to the final dot, so that the
refusal comes in its place in the dialogue (RFC 5321 allows the server to answer at the
end of the data) and the session goes on. Memory stays bounded by the size limit.

A transfer becomes *large* once it has brought :data:`LARGE_BYTES`; a process holds at
most :data:`LARGE_SLOTS` large transfers at once (with the delivery that follows them).
A further one waits for a slot without reading (TCP holds the sender back), and after
:data:`SLOT_WAIT` seconds is refused with ``452 4.3.1``, a temporary failure that the
sender retries later. Small messages never wait.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

LARGE_BYTES = 8 << 20
LARGE_SLOTS = 4  # 45 MiB messages: six sent at once peak at +654 MiB in a process, not +1,504
SLOT_WAIT = 60.0  # well under the 5-minute idle timeout, which is not reset meanwhile

# aiosmtpd's own replies (the session adds their enhanced codes, 5.5.2 and 5.3.4)
TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
TOO_BIG = "552 Error: Too much mail data"
BUSY = "452 4.3.1 Too many large messages at once, try again later"


class Transfers:
    """The slots for large transfers of one process, shared by its listeners."""

    def __init__(self, *, slots: int = LARGE_SLOTS, threshold: int = LARGE_BYTES, wait: float = SLOT_WAIT):
        self.threshold = threshold
        self.wait = wait
        self._free = asyncio.Semaphore(slots)

    async def enter(self) -> bool:
        """Take a slot, waiting at most :attr:`wait` seconds; False if none freed."""
        try:
            await asyncio.wait_for(self._free.acquire(), self.wait)
        except TimeoutError:
            return False
        return True

    def leave(self) -> None:
        self._free.release()

    @property
    def full(self) -> bool:
        """Whether every slot is taken."""
        return self._free.locked()


TRANSFERS = Transfers()


class Block:
    """One DATA block as it arrives. :meth:`close` it once the message is delivered (or
    refused): it gives its large-transfer slot back."""

    def __init__(self, *, limit: int | None, transfers: Transfers):
        self.limit = limit
        self.transfers = transfers
        self.received = 0  # bytes on the wire, dots and line ends included, as SIZE counts
        self.refusal: str | None = None
        self._buffer = io.BytesIO()
        self._slot = False

    async def read(self, reader: asyncio.StreamReader, arrived: Callable[[], None]) -> None:
        """Read up to the line holding a single dot; ``arrived`` is called as data comes
        (the session's idle timer)."""
        line_start = True
        while True:
            try:
                line = await reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as error:  # no line end within the stream's limit
                self.refuse(TOO_LONG)
                self.received += len(await reader.read(error.consumed))
                line_start = False
                arrived()
                continue
            if line_start and line == b".\r\n":
                return
            arrived()
            await self._keep(line[1:] if line_start and line[:1] == b"." else line, len(line))
            line_start = True

    async def _keep(self, line: bytes, wire_size: int) -> None:
        self.received += wire_size
        if self.refusal is not None:
            return
        if self.limit and self.received > self.limit:
            self.refuse(TOO_BIG)
            return
        if not self._slot and self.received > self.transfers.threshold:
            self._slot = await self.transfers.enter()
            if not self._slot:
                self.refuse(BUSY)
                return
        self._buffer.write(line)

    def refuse(self, reply: str) -> None:
        """Keep nothing more: the block ends with ``reply``."""
        if self.refusal is None:
            self.refusal = reply
            self._buffer = io.BytesIO()
            self._give_back()

    def content(self) -> bytes:
        """The message, unstuffed (the buffer itself, not a copy)."""
        content = self._buffer.getvalue()
        self._buffer = io.BytesIO()
        return content

    def close(self) -> None:
        self._buffer = io.BytesIO()
        self._give_back()

    def _give_back(self) -> None:
        if self._slot:
            self._slot = False
            self.transfers.leave()
