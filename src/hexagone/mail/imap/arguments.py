"""Reading a command's arguments: a cursor over its tokens that knows the IMAP types
(astring, mailbox, sequence set, date, flag list) and answers BAD for anything else."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from hexagone.mail.imap import utf7
from hexagone.mail.imap.parser import Atom, CommandError, Literal, Literal8, Quoted, Token

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_MONTH = {m.upper(): i + 1 for i, m in enumerate(MONTHS)}
_DATE_RE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_DATE_TIME_RE = re.compile(r"([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_SET_RE = re.compile(r"(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*")
MAX_NUMBER = 2**63 - 1
MAX_NZ = 2**32 - 1
STAR = 0  # "*" in a sequence set: the largest number in use


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A parsed ``seq-set``: ranges whose bounds may be :data:`STAR`, in the order given;
    or ``$`` (RFC 5182: ``saved``), the messages the last ``RETURN (SAVE)`` kept, which
    only the selected folder knows (:meth:`.Selected.uid_ranges`)."""

    ranges: tuple[tuple[int, int], ...]
    saved: bool = False

    @classmethod
    def parse(cls, text: str) -> SequenceSet:
        if text == "$":
            return cls((), saved=True)
        if not _SET_RE.fullmatch(text):
            raise CommandError("Invalid sequence set")

        def number(word: str) -> int:
            if word == "*":
                return STAR
            if not 1 <= int(word) <= MAX_NZ:
                raise CommandError("Invalid number in a sequence set")
            return int(word)

        ranges = []
        for item in text.split(","):
            first, _, last = item.partition(":")
            lo = number(first)
            ranges.append((lo, number(last) if last else lo))
        return cls(tuple(ranges))

    def resolved(self, largest: int) -> list[tuple[int, int]]:
        """Ranges with ``*`` replaced by ``largest``, each as (low, high)."""
        out = []
        for lo, hi in self.ranges:
            lo = largest if lo == STAR else lo
            hi = largest if hi == STAR else hi
            out.append((min(lo, hi), max(lo, hi)))
        return out

    def __str__(self) -> str:
        def show(n: int) -> str:
            return "*" if n == STAR else str(n)

        if self.saved:
            return "$"
        return ",".join(show(lo) if lo == hi else f"{show(lo)}:{show(hi)}" for lo, hi in self.ranges)


def format_uid_set(uids: list[int]) -> str:
    """``1:3,7`` for [1, 2, 3, 7], keeping the order given (COPYUID pairs by position)."""
    parts: list[str] = []
    start = prev = None
    for uid in uids:
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts)


def parse_date(text: str) -> date:
    match = _DATE_RE.fullmatch(text)
    if not match or match.group(2).upper() not in _MONTH:
        raise CommandError("Invalid date")
    try:
        return date(int(match.group(3)), _MONTH[match.group(2).upper()], int(match.group(1)))
    except ValueError:
        raise CommandError("Invalid date") from None


def parse_date_time(text: str) -> datetime:
    match = _DATE_TIME_RE.fullmatch(text)
    if not match or match.group(2).upper() not in _MONTH:
        raise CommandError("Invalid date-time")
    day, _, year, hour, minute, second, sign, zh, zm = match.groups()
    offset = timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    try:
        local = datetime(
            int(year),
            _MONTH[match.group(2).upper()],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise CommandError("Invalid date-time") from None
    return local.astimezone(UTC)


def decode_mailbox(raw: bytes) -> str:
    """A mailbox name from the wire: modified UTF-7, or UTF-8 (RFC 6855) when 8-bit or
    once the session enabled UTF8=ACCEPT."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("Mailbox name is neither modified UTF-7 nor UTF-8") from None
    if text.isascii() and not utf7.utf8_names.get():
        try:
            text = utf7.decode(text)
        except utf7.Utf7Error:
            raise CommandError("Invalid modified UTF-7 in a mailbox name") from None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise CommandError("Control character in a mailbox name")
    return "INBOX" + text[5:] if text.upper() == "INBOX" or text.upper().startswith("INBOX/") else text


class Args:
    """The arguments of one command, read left to right."""

    __slots__ = ("pos", "tokens")

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.tokens)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self, what: str) -> Token:
        if self.pos >= len(self.tokens):
            raise CommandError(f"Missing {what}")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def end(self) -> None:
        if self.more():
            raise CommandError("Too many arguments")

    def atom(self, what: str) -> str:
        token = self.next(what)
        if not isinstance(token, Atom):
            raise CommandError(f"Invalid {what}")
        return token

    def keyword(self, what: str) -> str:
        return self.atom(what).upper()

    def astring(self, what: str) -> bytes:
        token = self.next(what)
        if isinstance(token, Atom):
            return token.encode()
        if isinstance(token, Quoted | Literal) and not isinstance(token, Literal8):
            return bytes(token)
        raise CommandError(f"Invalid {what}")  # a literal8 is message data only (RFC 3516 4.3)

    def text(self, what: str) -> str:
        try:
            return self.astring(what).decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"Invalid UTF-8 in {what}") from None

    def mailbox(self) -> str:
        return decode_mailbox(self.astring("mailbox name"))

    def number(self, what: str, maximum: int = MAX_NUMBER) -> int:
        text = self.atom(what)
        if not text.isdigit() or not text.isascii() or int(text) > maximum:
            raise CommandError(f"Invalid {what}")
        return int(text)

    def sequence_set(self) -> SequenceSet:
        return SequenceSet.parse(self.atom("sequence set"))

    def list(self, what: str) -> list[Token]:
        token = self.next(what)
        if not isinstance(token, list):
            raise CommandError(f"Invalid {what}")
        return token

    def date(self) -> date:
        token = self.next("date")
        if isinstance(token, list):
            raise CommandError("Invalid date")
        return parse_date(bytes(token).decode("ascii", "replace") if isinstance(token, Quoted | Literal) else token)

    def flags(self) -> builtins.list[str]:  # builtins: the method list above shadows the type here
        """A parenthesised flag list, or a single flag."""
        token = self.next("flag list")
        items = token if isinstance(token, list) else [token]
        flags = []
        for item in items:
            if not isinstance(item, Atom) or not item:
                raise CommandError("Invalid flag")
            flags.append(str(item))
        return flags
