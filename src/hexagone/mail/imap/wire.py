"""Writing IMAP data items: strings (quoted when they can be, literals otherwise), NIL,
lists, dates and mailbox names, as bytes ready for the socket."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from hexagone.mail.imap import utf7
from hexagone.mail.imap.arguments import MONTHS

_NEEDS_LITERAL = re.compile(rb"[\r\n\x80-\xff]")
not_plain = re.compile(r"[^ !#-\[\]-~]").search  # a character a quoted string cannot hold as it is
_ESCAPE = re.compile(rb'(["\\])')
MAX_QUOTED = 1000
_MONTHS = [m.encode() for m in MONTHS]


def string(value: str | bytes) -> bytes:
    """A quoted string, or a literal for 8-bit, line ends and long text."""
    if isinstance(value, str):
        if len(value) <= MAX_QUOTED and not not_plain(value):  # the common case: printable ASCII
            return b'"' + value.encode() + b'"'
        data = value.encode("utf-8", "surrogateescape")
    else:
        data = value
    if b"\0" in data:  # never in a literal (RFC 3501 9): sent as 0x80, as message bodies are
        data = data.replace(b"\0", b"\x80")
    if len(data) > MAX_QUOTED or _NEEDS_LITERAL.search(data):
        return b"{%d}\r\n%b" % (len(data), data)
    return b'"' + _ESCAPE.sub(rb"\\\1", data) + b'"'


_ATOM = re.compile(r"[!#$&'+-Z^-z|~]+").fullmatch  # ATOM-CHARs (a few more are quoted: "}")


def astring(value: str) -> bytes:
    """An astring as an atom when it can be one (RFC 3501 9), as Dovecot writes ACL
    identifiers and rights (some clients, IMAPClient's getacl among them, read them
    without unquoting), quoted or literal otherwise."""
    return value.encode() if _ATOM(value) else string(value)


def nstring(value: str | bytes | None) -> bytes:
    return b"NIL" if value is None else string(value)


def plist(items: Iterable[bytes]) -> bytes:
    return b"(" + b" ".join(items) + b")"


def internal_date(value: datetime | str) -> bytes:
    """``"17-Jul-1996 02:44:25 +0000"``: internal dates are kept in UTC. ``value`` may be
    the column read as text (ISO 8601, without a zone on SQLite, with one on PostgreSQL)."""
    if isinstance(value, str):
        # "2024-01-01 08:02:31[.ffffff]" (SQLite, UTC) or the same ending in "+00" (PostgreSQL
        # in UTC): cut and pasted, a tenth of the cost of parsing; other zones are converted.
        if len(value) >= 19 and (
            len(value) == 19
            or (value[19] == "." and "+" not in value[19:] and "-" not in value[19:])
            or value.endswith("+00")
        ):
            return b'"%s-%b-%s %s +0000"' % (
                value[8:10].encode(),
                _MONTHS[int(value[5:7]) - 1],
                value[0:4].encode(),
                value[11:19].encode(),
            )
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return b'"%02d-%b-%04d %02d:%02d:%02d +0000"' % (
        value.day,
        _MONTHS[value.month - 1],
        value.year,
        value.hour,
        value.minute,
        value.second,
    )


def mailbox(name: str) -> bytes:
    """A folder name as a quoted string: in modified UTF-7, or in UTF-8 once the session
    enabled UTF8=ACCEPT (RFC 6855 3 lets quoted strings hold it then; a name holds no
    control character, :func:`~.arguments.decode_mailbox` refuses them)."""
    if not utf7.utf8_names.get():
        return string(utf7.encode(name))
    return b'"' + _ESCAPE.sub(rb"\\\1", name.encode()) + b'"'
