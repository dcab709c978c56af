"""The IMAP ENVELOPE of a header block (RFC 3501 7.4.2), read once at delivery.

Read from the raw bytes, not through :mod:`email`: an envelope passes the header text on
as the message wrote it (encoded words still encoded, 8-bit bytes untouched, see
:mod:`hexagone.mail.rawtext` for how they are stored), and a header block that
:mod:`email` gives up on (a first line that is not a field) still has its fields. The rules
are those of Dovecot 2.3, which the differential tests compare with:

- Date, Subject, In-Reply-To, Message-ID: the last such field; its value unfolded (line
  breaks removed); Subject also with runs of white space made one space and trimmed;
- From, Sender, Reply-To, To, Cc, Bcc: the addresses of every such field, in order
  (:mod:`hexagone.mail.addresslist`), display names with white space runs made one space;
  Sender and Reply-To are From's when the message has none;
- a NUL byte is U+FFFD.

The JSON kept in the message row::

    {"date": str | None, "subject": ..., "from": [[name, adl, mailbox, host], ...] | None,
     "sender": ..., "reply-to": ..., "to": ..., "cc": ..., "bcc": ...,
     "in-reply-to": str | None, "message-id": str | None}
"""

from __future__ import annotations

import re
from typing import Any

from hexagone.mail import addresslist, rawtext

STRING_FIELDS = {b"date": "date", b"subject": "subject", b"in-reply-to": "in-reply-to", b"message-id": "message-id"}
ADDRESS_FIELDS = {
    b"from": "from",
    b"sender": "sender",
    b"reply-to": "reply-to",
    b"to": "to",
    b"cc": "cc",
    b"bcc": "bcc",
}
_LINE = re.compile(rb"[^\n]*\n?")
_BREAKS = re.compile(rb"\r?\n")
_SPACES = re.compile(rb"[ \t\r\n]+")
_REPLACEMENT = "\ufffd".encode()

Address = list[str | None]


def header_values(block: bytes, wanted: set[bytes] | None = None) -> list[tuple[bytes, bytes]]:
    """(lower-case name, value unfolded) of each field of a header block, in order, up to
    the blank line; only the fields named in ``wanted`` when given. A line that is not a
    field (no colon) is skipped, and does not end the block."""
    fields: list[tuple[bytes, bytes]] = []
    keep = False
    for match in _LINE.finditer(block):
        line = match.group()
        if not line or line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t"):
            if keep:
                fields[-1] = (fields[-1][0], fields[-1][1] + line)
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t").lower()
        keep = bool(colon) and (wanted is None or name in wanted)
        if keep:
            fields.append((name, value.lstrip(b" \t")))
    return [(name, _BREAKS.sub(b"", value).replace(b"\x00", _REPLACEMENT)) for name, value in fields]


def _for_humans(value: bytes) -> bytes:
    return _SPACES.sub(b" ", value).strip(b" ")


def _text(value: bytes | None) -> str | None:
    return None if value is None else rawtext.to_text(value)


def _address(address: addresslist.Address) -> Address:
    name = None if address.name is None else _for_humans(address.name)
    return [_text(name), _text(address.route), _text(address.mailbox), _text(address.domain)]


def envelope_of(block: bytes) -> dict[str, Any]:
    """The envelope of the header block ``block`` (a message's, or an embedded one's)."""
    strings: dict[str, bytes] = {}
    addresses: dict[str, list[addresslist.Address]] = {}
    for name, value in header_values(block, {*STRING_FIELDS, *ADDRESS_FIELDS}):
        if name in STRING_FIELDS:
            strings[STRING_FIELDS[name]] = value
        else:
            addresses.setdefault(ADDRESS_FIELDS[name], []).extend(addresslist.parse(value))
    if "subject" in strings:
        strings["subject"] = _for_humans(strings["subject"])
    lists = {key: [_address(a) for a in found] or None for key, found in addresses.items()}
    sender = lists.get("from")
    return {
        "date": _text(strings.get("date")),
        "subject": _text(strings.get("subject")),
        "from": sender,
        "sender": lists.get("sender") or sender,
        "reply-to": lists.get("reply-to") or sender,
        "to": lists.get("to"),
        "cc": lists.get("cc"),
        "bcc": lists.get("bcc"),
        "in-reply-to": _text(strings.get("in-reply-to")),
        "message-id": _text(strings.get("message-id")),
    }


def address_line(block: bytes, name: bytes) -> bytes:
    """Every address of the fields called ``name`` as one line (:func:`addresslist.write`):
    what SEARCH FROM/TO/CC/BCC look into, once decoded, as Dovecot's search does. A group
    keeps its name and an address without a domain reads ``mailbox@MISSING_DOMAIN``."""
    found = [a for _, value in header_values(block, {name}) for a in addresslist.parse(value)]
    return addresslist.write(found)
