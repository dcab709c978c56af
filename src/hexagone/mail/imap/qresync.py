"""QRESYNC (RFC 7162 3.2): the SELECT/EXAMINE parameter a client sends to resynchronise a
folder it has cached, and the UID sets the VANISHED responses name.

The server keeps no record of expunged UIDs. What it knows is which UIDs are still
there, and that every UID below ``UIDNEXT`` was given once: so the UIDs a client asks
about that are below ``UIDNEXT`` and gone are reported as vanished, whenever they went.
RFC 7162 3.2.5.2 and 3.2.6 allow a server without expunge history to answer so (the
client may be told of UIDs it already knew were gone, never left unaware of one). When
the client's modseq is the folder's highest nothing has changed since, and nothing is
reported. ``seq-match-data`` is checked for its syntax only: it helps servers that do
not know exactly what vanished, and this one does.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from hexagone.mail.imap.arguments import STAR, Args, SequenceSet
from hexagone.mail.imap.parser import Atom, CommandError, Token


@dataclass(frozen=True, slots=True)
class Resync:
    """``QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])``."""

    uidvalidity: int
    modseq: int
    known: SequenceSet | None

    def ranges(self, uid_next: int) -> list[tuple[int, int]]:
        """The UID ranges the client asks about, below ``uid_next``: its known UIDs, or
        every UID the folder has given when it sent none."""
        if self.known is None:
            return [(1, uid_next - 1)] if uid_next > 1 else []
        return given(self.known, uid_next)


def given(uids: SequenceSet, uid_next: int) -> list[tuple[int, int]]:
    """The ranges of a UID set cut to the UIDs the folder has given, ``*`` being the last
    of them: not the highest still there, or an expunge of the newest message would go
    unreported (the fault Cyrus has, cyrus-imapd issue 6071)."""
    top = uid_next - 1
    return [(lo, min(hi, top)) for lo, hi in uids.resolved(top) if lo <= top]


def parse_resync(tokens: list[Token]) -> Resync:
    """The parenthesised list after ``QRESYNC``; BAD for anything RFC 7162 7 forbids."""
    args = Args(tokens)
    uidvalidity = args.number("UIDVALIDITY", maximum=2**32 - 1)
    if uidvalidity == 0:
        raise CommandError("Invalid UIDVALIDITY")
    modseq = args.number("mod-sequence")
    known = _set(args, "known UIDs") if args.more() else None
    if args.more():
        match = Args(args.list("sequence match data"))
        numbers, uids = _set(match, "known sequence set"), _set(match, "known UID set")
        match.end()
        if _count(numbers) != _count(uids):
            raise CommandError("Known sequence set and known UID set differ in size")
    args.end()
    return Resync(uidvalidity, modseq, known)


def _set(args: Args, what: str) -> SequenceSet:
    token = args.next(what)
    if not isinstance(token, Atom):
        raise CommandError(f"Invalid {what}")
    found = SequenceSet.parse(token)
    if any(STAR in pair for pair in found.ranges):
        raise CommandError(f"No * in {what}")
    return found


def _count(numbers: SequenceSet) -> int:
    return sum(hi - lo + 1 for lo, hi in numbers.resolved(0))


def missing(uids: array[int], ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``ranges`` that hold no UID of ``uids`` (sorted)."""
    gone: list[tuple[int, int]] = []
    for lo, hi in ranges:
        expected = lo
        for index in range(bisect_left(uids, lo), bisect_right(uids, hi)):
            if uids[index] > expected:
                gone.append((expected, uids[index] - 1))
            expected = uids[index] + 1
        if expected <= hi:
            gone.append((expected, hi))
    return gone


def format_ranges(ranges: list[tuple[int, int]]) -> str:
    """``1:3,7`` for UID ranges, sorted and merged where they touch or overlap."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return ",".join(str(lo) if lo == hi else f"{lo}:{hi}" for lo, hi in merged)
