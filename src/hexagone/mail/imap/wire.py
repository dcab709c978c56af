"""Writing IMAP data items: strings (quoted when they can be, literals otherwise), NIL,
lists, dates and mailbox names, as bytes ready for the socket."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from hexagone.mail.imap import utf7
from hexagone.mail.imap.arguments import MONTHS

_NEEDS_LITERAL = re.compile(rb"[\x00\r\n\x80-\xff]")
_NEEDS_LITERAL_UTF8 = re.compile(rb"[\x00\r\n]")
_ESCAPE = re.compile(rb'(["\\])')
MAX_QUOTED = 1000


def string(value: str | bytes, *, utf8: bool = False) -> bytes:
    """A quoted string, or a literal for 8-bit (unless UTF8=ACCEPT), line ends and long text."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    pattern = _NEEDS_LITERAL_UTF8 if utf8 else _NEEDS_LITERAL
    if len(data) > MAX_QUOTED or pattern.search(data):
        return b"{%d}\r\n%b" % (len(data), data)
    return b'"' + _ESCAPE.sub(rb"\\\1", data) + b'"'


def nstring(value: str | bytes | None, *, utf8: bool = False) -> bytes:
    return b"NIL" if value is None else string(value, utf8=utf8)


def literal(data: bytes) -> bytes:
    return b"{%d}\r\n%b" % (len(data), data)


def plist(items: Iterable[bytes]) -> bytes:
    return b"(" + b" ".join(items) + b")"


def internal_date(value: datetime) -> bytes:
    """``"17-Jul-1996 02:44:25 +0000"``: internal dates are kept in UTC."""
    value = value.astimezone(UTC)
    return b'"%02d-%s-%04d %02d:%02d:%02d +0000"' % (value.day, MONTHS[value.month - 1].encode(), value.year,
                                                    value.hour, value.minute, value.second)


def mailbox(name: str, *, utf8: bool = False) -> bytes:
    """A folder name as a quoted string: modified UTF-7, or UTF-8 once the client enabled it."""
    return string(name if utf8 else utf7.encode(name), utf8=utf8)
