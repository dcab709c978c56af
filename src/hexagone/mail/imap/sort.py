"""SORT's criteria (RFC 5256 section 3, with RFC 5957's DISPLAYFROM and DISPLAYTO) and
the ordering of the found messages by them.

Everything is read from the message rows, never from the stored messages, and only the
columns the criteria need (:func:`columns_for`): ``sent_date``, ``internal_date`` and
``size`` for the dates and sizes, so sorting a 5,000-message folder by date reads a few
numbers a message; the stored ``header`` block for subjects and addresses. Those are read
from the block as Dovecot reads them, so that a client sees the order it saw before: the
first field of its name, 8-bit bytes taken as UTF-8 (U+FFFD where they are not), encoded
words decoded, a group's name standing for its first address, and an address without a
domain shown as ``mailbox@``. Ties are broken by the order of the messages in the folder,
whichever way a key is reversed (RFC 5256 3).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from hexagone.mail import addresslist
from hexagone.mail.imap.parser import Atom, CommandError, Token
from hexagone.mail.imap.subject import base_subject, casemap
from hexagone.mail.models import Message

KEYS = ("ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO")
_COLUMNS: dict[str, tuple[Any, ...]] = {
    "ARRIVAL": (Message.internal_date,),
    "CC": (Message.header,),
    "DATE": (Message.sent_date, Message.internal_date),
    "FROM": (Message.header,),
    "SIZE": (Message.size,),
    "SUBJECT": (Message.header,),
    "TO": (Message.header,),
    "DISPLAYFROM": (Message.header,),
    "DISPLAYTO": (Message.header,),
}
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_QUOTED_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
# a group's "display-name :" before any address (RFC 5322 3.4)


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    reverse: bool = False


def parse_criteria(tokens: list[Token]) -> list[SortKey]:
    """``(REVERSE DATE SUBJECT)`` read into keys; BAD for an unknown or dangling key. A key
    named again is dropped: the first already ordered by it, so at most nine remain however
    many the client sends."""
    keys: list[SortKey] = []
    reverse = False
    for token in tokens:
        if not isinstance(token, Atom):
            raise CommandError("Invalid sort criterion")
        name = token.upper()
        if name == "REVERSE" and not reverse:
            reverse = True
            continue
        if name not in KEYS:
            raise CommandError(f"Unknown sort criterion {name[:40]}")
        if all(key.name != name for key in keys):
            keys.append(SortKey(name, reverse))
        reverse = False
    if reverse or not keys:
        raise CommandError("Missing sort criterion")
    return keys


def columns_for(keys: Sequence[SortKey]) -> list[Any]:
    """The row columns the keys read (the UID is always there)."""
    return list(dict.fromkeys(column for key in keys for column in _COLUMNS[key.name]))


def utc(value: datetime) -> datetime:
    """A stored date as naive UTC (SQLite gives naive values, PostgreSQL aware ones)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def sent_date(row: Any) -> datetime:
    """RFC 5256 2.2: the Date header in UTC, else the internal date."""
    return utc(row.sent_date if row.sent_date is not None else row.internal_date)


def decode_field(value: bytes) -> str:
    """A field's raw value as text, as Dovecot decodes it: encoded words (RFC 2047) in
    their charset, even when they hold raw 8-bit bytes, the space between two of them
    dropped, every other byte read as UTF-8 (U+FFFD where it is not)."""
    parts: list[str] = []
    position, after_word = 0, False
    for word in _ENCODED_WORD.finditer(value):
        between = value[position : word.start()]
        if not (after_word and not between.strip()):
            parts.append(between.decode("utf-8", "replace"))
        parts.append(_decoded_word(word))
        position, after_word = word.end(), True
    parts.append(value[position:].decode("utf-8", "replace"))
    return "".join(parts).replace("\r", "").replace("\n", "")


def _decoded_word(word: re.Match[bytes]) -> str:
    charset, encoding, data = word.group(1).split(b"*")[0].decode("ascii", "replace"), word.group(2), word.group(3)
    if encoding in b"Qq":
        data = _QUOTED_BYTE.sub(lambda hexa: bytes([int(hexa.group(1), 16)]), data.replace(b"_", b" "))
    else:
        try:
            data = base64.b64decode(data + b"=" * (-len(data) % 4))
        except binascii.Error:
            return word.group().decode("utf-8", "replace")
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def raw_field(header: bytes, name: bytes) -> bytes | None:
    """The value of the first ``name`` field of a header block, folding and all."""
    match = _field_pattern(name).search(header or b"")
    return match.group(1) if match else None


@cache
def _field_pattern(name: bytes) -> re.Pattern[bytes]:
    """A field at the start of a line (a continuation line starts with a space or a tab),
    with its continuation lines; the name in any case, spaces allowed before the colon."""
    return re.compile(rb"^" + re.escape(name) + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def subject_of(row: Any) -> str:
    """The decoded Subject of a row with a ``header`` column."""
    return decode_field(raw_field(row.header, b"subject") or b"")


def first_address(header: bytes, name: bytes) -> tuple[str, str, str | None] | None:
    """(display name, mailbox, domain) of the first address of a field, or of its first
    group (name and domain empty, the group's name as the mailbox); the domain is empty
    when the address has none."""
    raw = raw_field(header, name)
    return None if raw is None else _first_address(raw)


@lru_cache(maxsize=4096)  # a folder's senders repeat: parsing costs more than looking up
def _first_address(raw: bytes) -> tuple[str, str, str | None] | None:
    """Read with the ENVELOPE's address parser (:mod:`hexagone.mail.addresslist`, Dovecot's
    grammar), so that sorting and ENVELOPE agree on what the first address is, down to the
    placeholders it fills in for a missing part (``MISSING_DOMAIN``…), which Dovecot sorts
    by too."""
    addresses = addresslist.parse(raw)
    if not addresses or (first := addresses[0]).mailbox is None:
        return None
    if first.is_group_marker:
        return "", _utf8(b" ".join(first.mailbox.replace(b'"', b"").split())), None
    return decode_field(first.name or b""), _utf8(first.mailbox), _utf8(first.domain or b"")


def _utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _mailbox(field: bytes) -> Callable[[Any], str]:
    """The addr-mailbox of the first address of ``field`` (empty when there is none)."""

    def key(row: Any) -> str:
        address = first_address(row.header, field)
        return casemap(address[1]) if address else ""

    return key


def _display(field: bytes) -> Callable[[Any], str]:
    """RFC 5957: the display name of the first address, else its addr-spec."""

    def key(row: Any) -> str:
        address = first_address(row.header, field)
        if address is None:
            return ""
        name, mailbox, domain = address
        return casemap(name or (mailbox if domain is None else f"{mailbox}@{domain}"))

    return key


_KEY_OF: dict[str, Callable[[Any], Any]] = {
    "ARRIVAL": lambda row: utc(row.internal_date),
    "CC": _mailbox(b"cc"),
    "DATE": sent_date,
    "FROM": _mailbox(b"from"),
    "SIZE": lambda row: row.size,
    "SUBJECT": lambda row: casemap(base_subject(subject_of(row))[0]),
    "TO": _mailbox(b"to"),
    "DISPLAYFROM": _display(b"from"),
    "DISPLAYTO": _display(b"to"),
}


def sort_rows(rows: Sequence[Any], keys: Sequence[SortKey]) -> list[Any]:
    """The rows (given in folder order) ordered by the keys, ties in folder order: one
    stable sort per key, the last key first."""
    ordered = list(rows)
    for key in reversed(keys):
        ordered.sort(key=_KEY_OF[key.name], reverse=key.reverse)
    return ordered
