"""How many large literals (APPENDs of big messages) one server process reads at once.

A message is held in memory while it is read, parsed and stored, so ten clients each
appending 50 MiB at the same moment would cost the process half a gigabyte and more. A
session that announces a literal of :data:`~hexagone.mail.imap.parser.LARGE_LITERAL`
bytes or more waits for one of :data:`MAX_LARGE_LITERALS` permits before it reads the
literal (before it sends ``+``; a LITERAL+ client's bytes wait in the kernel, since the
session stops reading), and gives it back once the command is answered. Small literals
never wait.
"""

from __future__ import annotations

import asyncio

MAX_LARGE_LITERALS = 4

_permits = asyncio.Semaphore(MAX_LARGE_LITERALS)


class LiteralPermit:
    """One session's hold on a permit: taken at most once, given back at most once."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held = False

    async def take(self) -> None:
        if not self.held:
            await _permits.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            _permits.release()
