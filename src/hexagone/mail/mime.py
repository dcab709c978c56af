"""Reading a message once, at delivery, into what IMAP and the webmail ask for later.

Python's :mod:`email` package parses headers, parameters (RFC 2231), encoded words
(RFC 2047) and transfer encodings; what it does not give is *where* each MIME part lies
in the raw bytes, and IMAP needs exactly that: ``BODY[1.2.MIME]``, ``BODY[2.TEXT]<0.100>``
and BODYSTRUCTURE's octet and line counts all refer to the original bytes, untouched.
So this module walks the boundaries itself, on the bytes, and hands each part's header
block to :mod:`email` (``compat32``, the policy that never raises on a malformed header).

Memory stays well under the message's size whatever its shape (issue 13: a 45 MiB message
once cost ten times that): the walk keeps offsets, not copies; :mod:`email`, which costs
about ten times what it reads, only ever reads a header block cut to :data:`HEADER_LIMIT`
and, for the text extract, the first :data:`TEXT_SOURCE_LIMIT` bytes of a text part; and
the extract stops decoding parts once it has :data:`TEXT_LIMIT` characters.

:func:`parse` never raises on any input: a broken message still gets a structure (a
missing boundary makes a one-part multipart, a header without a blank line is all
header), so a delivery is never refused because a sender's MIME was wrong.

A structure node is plain JSON (stored in the message row)::

    {"type": "text", "subtype": "plain", "params": [["charset", "utf-8"]], "id": None,
     "description": None, "encoding": "7BIT", "md5": None, "disposition": None,
     "language": None, "location": None, "lines": 3, "size": 120,
     "header_start": 0, "body_start": 250, "end": 370,
     "parts": [...],                     # multipart only
     "envelope": {...}, "message": {...}  # message/rfc822 only
    }
"""

from __future__ import annotations

import binascii
import contextlib
import email
import email.header
import email.parser
import email.utils
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message as EmailMessage
from email.message import _decode_uu  # type: ignore[attr-defined]  # private helper, absent from typeshed
from email.policy import compat32
from typing import Any

from hexagone.mail.mimetext import strip_tags

MAX_DEPTH = 20
MAX_PARTS = 1000
TEXT_LIMIT = 100_000
PREVIEW_LENGTH = 200
# Header fields beyond this are not read (Exchange's MaxHeaderSize default); the header
# block is still stored and served whole.
HEADER_LIMIT = 256 << 10
# Encoded bytes of one text part read for the extract: TEXT_LIMIT characters at up to
# 4 bytes each in UTF-8, a third more in base64 (quoted-printable or HTML may need more:
# the extract of such a huge part is then shorter, never wrong in what it shows).
TEXT_SOURCE_LIMIT = 640 << 10
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
WINDOW = 1 << 20  # bytes of a large part handled at a time
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_FOREIGN_SURROGATE = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")  # not one of surrogateescape's
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Header blocks are read with ``headersonly``: for a multipart header, ``email`` would
# otherwise compile a regular expression for its boundary (a new one per message).
_HEADERS = email.parser.BytesParser(policy=compat32)


@dataclass
class Parsed:
    """Everything the message row keeps about a message."""

    header: bytes
    envelope: dict[str, Any]
    structure: dict[str, Any]
    subject: str = ""
    from_addr: str = ""
    to_addrs: str = ""
    cc_addrs: str = ""
    bcc_addrs: str = ""
    sent_date: datetime | None = None
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    preview: str = ""
    has_attachments: bool = False


def clean(value: str) -> str:
    """A string PostgreSQL will store: no NUL, no lone surrogate. Raw 8-bit header bytes
    (SMTPUTF8 mail) reach us from ``email`` as surrogate escapes: they are read as UTF-8.
    Other lone surrogates (UTF-7 can encode them) become U+FFFD. A string without any is
    returned as it is, not copied twice more."""
    value = value.replace("\x00", "")
    if not _SURROGATE.search(value):
        return value
    value = _FOREIGN_SURROGATE.sub("\ufffd", value)
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def decode_header_value(value: str | None) -> str:
    """Human text of a header (RFC 2047 words decoded, folding removed)."""
    if not value:
        return ""
    try:
        text = str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        text = value
    return clean(_SPACES.sub(" ", text).strip())


def _header_text(value: object) -> str:
    """A header value as text. ``compat32`` hands 8-bit headers (SMTPUTF8 mail, or
    legacy Latin-1) over as ``Header`` objects whose ``str()`` loses the bytes: they are
    read as UTF-8 here, else as Latin-1."""
    if not isinstance(value, email.header.Header):
        return str(value)
    text = []
    for chunk, charset in email.header.decode_header(value):
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        for candidate in (charset if charset and charset != "unknown-8bit" else "utf-8", "utf-8", "latin-1"):
            try:
                text.append(chunk.decode(candidate))
                break
            except (LookupError, UnicodeDecodeError):
                continue
    return "".join(text)


def _raw_header(msg: EmailMessage, name: str) -> str | None:
    value = msg.get(name)
    if value is None:
        return None
    return clean(_SPACES.sub(" ", _header_text(value).replace("\r", "").replace("\n", " ")).strip())


def _addresses(msg: EmailMessage, name: str) -> list[list[str | None]] | None:
    """IMAP envelope addresses: ``[name, adl, mailbox, host]``; names stay encoded."""
    values = msg.get_all(name)
    if not values:
        return None
    result: list[list[str | None]] = []
    for display, addr in email.utils.getaddresses([_SPACES.sub(" ", _header_text(v)) for v in values]):
        if not display and not addr:
            continue
        mailbox, _, host = addr.rpartition("@") if "@" in addr else (addr, "", "")
        result.append([clean(display) or None, None, clean(mailbox) or None, clean(host) or None])
    return result or None


def envelope_of(msg: EmailMessage) -> dict[str, Any]:
    sender = _addresses(msg, "from")
    return {
        "date": _raw_header(msg, "date"),
        "subject": _raw_header(msg, "subject"),
        "from": sender,
        "sender": _addresses(msg, "sender") or sender,
        "reply-to": _addresses(msg, "reply-to") or sender,
        "to": _addresses(msg, "to"),
        "cc": _addresses(msg, "cc"),
        "bcc": _addresses(msg, "bcc"),
        "in-reply-to": _raw_header(msg, "in-reply-to"),
        "message-id": _raw_header(msg, "message-id"),
    }


def _line_cut(raw: bytes, start: int, end: int, limit: int) -> int:
    """``end``, or if ``raw[start:end]`` is longer than ``limit``, the end of its last
    whole line within ``limit`` bytes (a line longer than that is cut)."""
    if end - start <= limit:
        return end
    return raw.rfind(b"\n", start, start + limit) + 1 or start + limit


def _split_header(raw: bytes, start: int, end: int) -> tuple[int, EmailMessage]:
    """Where the body of the entity at ``raw[start:end]`` begins, and its parsed header
    (the fields within :data:`HEADER_LIMIT` bytes)."""
    for newline in (b"\r\n", b"\n"):
        if raw.startswith(newline, start) and start + len(newline) <= end:  # no header at all
            header_end, body_start = start, start + len(newline)
            break
    else:
        match = _BLANK_LINE.search(raw, start, end)
        header_end, body_start = (match.start(), match.end()) if match else (end, end)
    header_end = _line_cut(raw, start, header_end, HEADER_LIMIT)
    headers = _HEADERS.parsebytes(raw[start:header_end] + b"\r\n\r\n", headersonly=True)
    return body_start, headers


def _params(msg: EmailMessage, header: str) -> list[list[str]] | None:
    params = msg.get_params(header=header, failobj=None)
    if not params:
        return None
    result = []
    for key, value in params[1:]:
        if isinstance(value, tuple):
            value = email.utils.collapse_rfc2231_value(value)
        result.append([clean(str(key)), clean(str(value))])
    return result or None


def _delimiters(raw: bytes, body_start: int, end: int, boundary: str) -> list[tuple[int, int, bool]]:
    """(line start, line end, is close) of each boundary line in the body: a line that is
    ``--boundary``, or ``--boundary--`` for the last, with optional trailing blanks. Found
    with ``bytes.find`` rather than a regular expression: every message has boundaries of
    its own, and compiling a pattern for each cost more than the rest of the parse."""
    marker = b"--" + boundary.encode("utf-8", "replace")
    found = []
    position = body_start
    while (start := raw.find(marker, position, end)) >= 0:
        position = start + len(marker)
        if start > 0 and raw[start - 1] != 0x0A:  # not at the start of a line
            continue
        close = raw.startswith(b"--", position, end)
        after = position + 2 if close else position
        while after < end and raw[after] in b" \t":
            after += 1
        if after < end and raw[after] == 0x0D:
            after += 1
        if after < end and raw[after] != 0x0A:  # more on the line: not a boundary
            continue
        line_end = after + 1 if raw.startswith(b"\n", after) else after
        found.append((start, line_end, close))
        if close:
            break
    return found


def _strip_newline_before(raw: bytes, position: int, floor: int) -> int:
    """The CRLF before a boundary line belongs to the boundary, not to the part."""
    if position - 2 >= floor and raw[position - 2 : position] == b"\r\n":
        return position - 2
    if position - 1 >= floor and raw[position - 1 : position] == b"\n":
        return position - 1
    return position


class _Walker:
    def __init__(self, raw: bytes):
        self.raw = raw
        self.count = 0

    def entity(
        self, start: int, end: int, default_type: str = "text/plain", depth: int = 0
    ) -> tuple[dict[str, Any], EmailMessage]:
        """The structure node of the entity at ``raw[start:end]``, and its parsed header."""
        self.count += 1
        raw = self.raw
        body_start, headers = _split_header(raw, start, end)
        content_type = headers.get_content_type() if headers.get("content-type") else default_type
        maintype, _, subtype = content_type.partition("/")
        disposition = headers.get_content_disposition()
        node: dict[str, Any] = {
            "type": maintype,
            "subtype": subtype,
            "params": _params(headers, "content-type"),
            "id": _raw_header(headers, "content-id"),
            "description": _raw_header(headers, "content-description"),
            "encoding": (_raw_header(headers, "content-transfer-encoding") or "7BIT").upper(),
            "md5": _raw_header(headers, "content-md5"),
            "disposition": [disposition, _params(headers, "content-disposition")] if disposition else None,
            "language": _raw_header(headers, "content-language"),
            "location": _raw_header(headers, "content-location"),
            "header_start": start,
            "body_start": body_start,
            "end": end,
            "size": end - body_start,
            "lines": raw.count(b"\n", body_start, end) + (1 if end > body_start and raw[end - 1 : end] != b"\n" else 0),
        }
        if maintype == "multipart" and depth < MAX_DEPTH:
            node["parts"] = self.children(headers, subtype, body_start, end, depth)
        elif content_type == "message/rfc822" and depth < MAX_DEPTH and self.count < MAX_PARTS:
            inner, inner_headers = self.entity(body_start, end, "text/plain", depth + 1)
            node["envelope"] = envelope_of(inner_headers)
            node["message"] = inner
        return node, headers

    def children(
        self, headers: EmailMessage, subtype: str, body_start: int, end: int, depth: int
    ) -> list[dict[str, Any]]:
        boundary = headers.get_boundary()
        child_type = "message/rfc822" if subtype == "digest" else "text/plain"
        delimiters = _delimiters(self.raw, body_start, end, boundary) if boundary else []
        if not delimiters:
            # No usable boundary: the whole body is one plain part, as mail clients show it.
            return [self._bare_part(body_start, end)]
        parts = []
        for (_, line_end, is_close), following in zip(delimiters, [*delimiters[1:], None], strict=True):
            if is_close or self.count >= MAX_PARTS:
                break
            part_end = end if following is None else _strip_newline_before(self.raw, following[0], line_end)
            parts.append(self.entity(line_end, part_end, child_type, depth + 1)[0])
        return parts or [self._bare_part(body_start, end)]

    def _bare_part(self, start: int, end: int) -> dict[str, Any]:
        node, _ = self.entity(end, end)
        node.update(
            {
                "header_start": start,
                "body_start": start,
                "size": end - start,
                "lines": self.raw.count(b"\n", start, end),
            }
        )
        return node


def leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "parts" in node:
        return [leaf for part in node["parts"] for leaf in leaves(part)]
    return [node]


def is_attachment(node: dict[str, Any]) -> bool:
    disposition = (node.get("disposition") or [None])[0]
    if disposition == "attachment":
        return True
    if node["type"] in ("text", "multipart"):
        return False
    return filename_of(node) is not None or node["type"] != "message"


def filename_of(node: dict[str, Any]) -> str | None:
    for params in ((node.get("disposition") or [None, None])[1], node.get("params")):
        for key, value in params or ():
            if key.lower() in ("filename", "name"):
                return decode_header_value(value) or None
    return None


def decode_part(raw: bytes, node: dict[str, Any]) -> bytes:
    """The content of a leaf, transfer-decoded (base64, quoted-printable, uuencode) exactly
    as ``email``'s ``get_payload(decode=True)`` decodes it, without the copies that cost
    nine times a large attachment: ``email`` reads the header block only (where it sees
    the body begin, and the encoding), and the body is decoded straight from ``raw``."""
    start, body_start, end = node["header_start"], node["body_start"], node["end"]
    if start == body_start:
        return raw[body_start:end]
    header_end = _line_cut(raw, start, body_start, HEADER_LIMIT)
    headers = _HEADERS.parsebytes(raw[start:header_end], headersonly=True)
    maintype = headers.get_content_maintype()
    if maintype == "message":  # ``email`` parses the body as a message: nothing to decode
        return raw[body_start:end]
    if maintype == "multipart":  # a leaf only past MAX_DEPTH: rare enough for the long way
        payload = email.message_from_bytes(raw[start:end], policy=compat32).get_payload(decode=True)
        return payload if isinstance(payload, bytes) else raw[body_start:end]
    # A line of the header block that is not a header starts the body for ``email``.
    begins = body_start - len(headers.get_payload()) if header_end == body_start else body_start
    encoding = str(headers.get("content-transfer-encoding", "")).lower()
    if encoding == "quoted-printable":
        return quopri.decodestring(memoryview(raw)[begins:end])
    if encoding == "base64":
        return _decode_base64(raw, begins, end)
    if encoding in ("x-uuencode", "uuencode", "uue", "x-uue"):
        with contextlib.suppress(ValueError):
            return _decode_uu(raw[begins:end])
    return raw[begins:end]


def _decode_base64(raw: bytes, start: int, end: int) -> bytes:
    """``raw[start:end]`` decoded as ``email`` decodes base64 (``decode_b`` of the lines
    joined: strict with its padding fixed, else lenient, else lenient with more padding,
    else the joined text as it is) with one copy of the text instead of four: the lines
    are joined into a buffer of the exact size, a megabyte at a time, and ``binascii``
    decodes the buffer in place."""
    encoded = bytearray(end - start - raw.count(b"\r", start, end) - raw.count(b"\n", start, end))
    filled = 0
    for chunk_start in range(start, end, WINDOW):
        piece = raw[chunk_start : min(chunk_start + WINDOW, end)].translate(None, b"\r\n")
        encoded[filled : filled + len(piece)] = piece
        filled += len(piece)
    size = len(encoded)
    encoded += b"==="[: 4 - size % 4] if size % 4 else b""
    with contextlib.suppress(binascii.Error):
        return binascii.a2b_base64(encoded, strict_mode=True)
    del encoded[size:]
    for padding in (b"", b"=="):
        encoded += padding
        with contextlib.suppress(binascii.Error):
            return binascii.a2b_base64(encoded)
    del encoded[size:]
    return bytes(encoded)


def part_text(raw: bytes, node: dict[str, Any]) -> str:
    """A text leaf as a string, in its declared charset (UTF-8, then Latin-1, as fallbacks).
    The decoded bytes are let go before the string is cleaned."""
    charset = {k.lower(): v for k, v in node.get("params") or ()}.get("charset", "utf-8")
    return clean(_as_text(decode_part(raw, node), charset))


def _as_text(data: bytes, charset: str) -> str:
    for candidate in (charset, "utf-8", "latin-1"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def _text_source(raw: bytes, node: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """A leaf with its header block cut to :data:`HEADER_LIMIT` and its body to
    :data:`TEXT_SOURCE_LIMIT` (at line ends, so that no quoted-printable or base64 line is
    split), as bytes and the node that describes them; a leaf within both limits as it is."""
    start, body_start, end = node["header_start"], node["body_start"], node["end"]
    header_cut = _line_cut(raw, start, body_start, HEADER_LIMIT)
    body_cut = _line_cut(raw, body_start, end, TEXT_SOURCE_LIMIT)
    if (header_cut, body_cut) == (body_start, end):
        return raw, node
    header = raw[start:header_cut] + (b"\r\n\r\n" if header_cut < body_start else b"")
    return header + raw[body_start:body_cut], {
        **node,
        "header_start": 0,
        "body_start": len(header),
        "end": len(header) + body_cut - body_start,
    }


def _text_of(raw: bytes, structure: dict[str, Any]) -> str:
    """The first :data:`TEXT_LIMIT` characters of the plain text parts, else of the HTML
    parts without their tags, joined by newlines; parts past the limit are not decoded."""
    texts = [leaf for leaf in leaves(structure) if leaf["type"] == "text" and not is_attachment(leaf)]
    chosen = [leaf for leaf in texts if leaf["subtype"] == "plain"]
    html = not chosen
    if html:
        chosen = [leaf for leaf in texts if leaf["subtype"] == "html"]
    pieces: list[str] = []
    length = -1  # that of "\n".join(pieces)
    for leaf in chosen:
        if length >= TEXT_LIMIT:
            break
        text = part_text(*_text_source(raw, leaf))
        pieces.append(strip_tags(text) if html else text)
        length += 1 + len(pieces[-1])
    return "\n".join(pieces)[:TEXT_LIMIT]


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _display_addresses(msg: EmailMessage, name: str) -> str:
    values = msg.get_all(name) or []
    people = []
    for display, addr in email.utils.getaddresses([_header_text(v) for v in values]):
        display = decode_header_value(display)
        if addr or display:
            people.append(f"{display} <{addr}>" if display and addr else (addr or display))
    return clean(", ".join(people))


def message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def parse(raw: bytes) -> Parsed:
    """Read ``raw`` (a whole RFC 5322 message) into a :class:`Parsed`; never raises."""
    structure, headers = _Walker(raw).entity(0, len(raw))
    header_end = structure["body_start"]
    text = _text_of(raw, structure)
    in_reply_to = message_ids(_raw_header(headers, "in-reply-to"))
    return Parsed(
        header=raw[:header_end],
        envelope=envelope_of(headers),
        structure=structure,
        subject=decode_header_value(_raw_header(headers, "subject"))[:2000],
        from_addr=_display_addresses(headers, "from")[:2000],
        to_addrs=_display_addresses(headers, "to")[:10000],
        cc_addrs=_display_addresses(headers, "cc")[:10000],
        bcc_addrs=_display_addresses(headers, "bcc")[:10000],
        sent_date=_date(_raw_header(headers, "date")),
        message_id=(message_ids(_raw_header(headers, "message-id")) or [""])[0][:500],
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=message_ids(_raw_header(headers, "references"))[-50:],
        text=text,
        preview=_SPACES.sub(" ", text).strip()[:PREVIEW_LENGTH],
        has_attachments=any(is_attachment(leaf) for leaf in leaves(structure)),
    )
