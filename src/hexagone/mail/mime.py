"""Reading a message once, at delivery, into what IMAP and the webmail ask for later.

The MIME tree is cut by :mod:`hexagone.mail.mimetree`, on the raw bytes, where Dovecot
cuts it: IMAP needs *where* each part lies (``BODY[1.2.MIME]``, ``BODY[2.TEXT]<0.100>``
and BODYSTRUCTURE's octet and line counts all refer to the original bytes, untouched).
Python's :mod:`email` package (``compat32``, the policy that never raises on a malformed
header) reads the header fields of the message and of the messages it holds, and decodes
the text parts.

Memory stays well under the message's size whatever its shape (issue 13: a 45 MiB message
once cost ten times that): the walk keeps offsets, not copies; :mod:`email`, which costs
about ten times what it reads, only ever reads a header block cut to :data:`HEADER_LIMIT`
and, for the text extract, the first :data:`TEXT_SOURCE_LIMIT` bytes of a text part; and
the extract stops decoding parts once it has :data:`TEXT_LIMIT` characters.

:func:`parse` never raises on any input: a broken message still gets a structure (a
multipart whose boundary never comes has one empty part, a header without a blank line
is all header), so a delivery is never refused because a sender's MIME was wrong.

The structure is plain JSON (stored in the message row), described in
:mod:`hexagone.mail.mimetree`; header values in it may hold raw 8-bit bytes
(:mod:`hexagone.mail.rawtext`): :func:`filename_of` and :func:`part_text` read them.
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
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import Message as EmailMessage
from email.message import _decode_uu  # type: ignore[attr-defined]  # private helper, absent from typeshed
from email.policy import compat32
from typing import Any

from hexagone.mail import envelope, mimetree, rawtext, searchtext
from hexagone.mail.mimetext import strip_tags

TEXT_LIMIT = 100_000
PREVIEW_LENGTH = 200
# Header fields beyond this are not read (Exchange's MaxHeaderSize default); the header
# block is still stored and served whole.
HEADER_LIMIT = 256 << 10
# Encoded bytes of one text part read for the extract: TEXT_LIMIT characters at up to
# 4 bytes each in UTF-8, a third more in base64 (quoted-printable or HTML may need more:
# the extract of such a huge part is then shorter, never wrong in what it shows).
TEXT_SOURCE_LIMIT = 640 << 10
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
    sent_date: datetime | None = None  # in UTC
    sent_on: date | None = None  # the day of the Date field in its own time zone (SEARCH SENTON)
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""  # the readable extract
    search_text: str = ""  # what SEARCH BODY looks into (hexagone.mail.searchtext)
    part_headers: str = ""  # and SEARCH TEXT besides the header and the bodies
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


def _line_cut(raw: bytes, start: int, end: int, limit: int) -> int:
    """``end``, or if ``raw[start:end]`` is longer than ``limit``, the end of its last
    whole line within ``limit`` bytes (a line longer than that is cut)."""
    if end - start <= limit:
        return end
    return raw.rfind(b"\n", start, start + limit) + 1 or start + limit


def _headers(raw: bytes, start: int, end: int) -> EmailMessage:
    """The fields of the header block ``raw[start:end]`` (those within
    :data:`HEADER_LIMIT` bytes) as :mod:`email` reads them."""
    end = _line_cut(raw, start, end, HEADER_LIMIT)
    return _HEADERS.parsebytes(raw[start:end] + b"\r\n\r\n", headersonly=True)


def _with_envelopes(raw: bytes, node: dict[str, Any]) -> None:
    """Give every message/rfc822 node of the tree the ENVELOPE of the message it holds."""
    pending = [node]
    while pending:
        node = pending.pop()
        if "message" in node:
            inner = node["message"]
            node["envelope"] = envelope.envelope_of(_header_block(raw, inner))
            pending.append(inner)
        pending += node.get("parts", ())


def leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "parts" in node:
        return [leaf for part in node["parts"] for leaf in leaves(part)]
    return [node]


def is_attachment(node: dict[str, Any]) -> bool:
    disposition = (node.get("disposition") or [""])[0]
    if disposition.lower() == "attachment":
        return True
    if node["type"] in ("text", "multipart"):
        return False
    return filename_of(node) is not None or node["type"] != "message"


def filename_of(node: dict[str, Any]) -> str | None:
    """The file name a part gives itself: Content-Disposition's ``filename``, else
    Content-Type's ``name``; RFC 2231 (``filename*``) over RFC 2047 or plain text."""
    for params in ((node.get("disposition") or [None, None])[1], node.get("params")):
        found = {key.lower(): value for key, value in reversed(params or ())}
        for key in ("filename*", "name*"):
            if key in found:
                return _rfc2231_text(found[key]) or None
        for key in ("filename", "name"):
            if key in found:
                return decode_header_value(rawtext.readable(rawtext.to_bytes(found[key]))) or None
    return None


def _rfc2231_text(value: str) -> str:
    """An RFC 2231 value (``charset'language'percent-encoded``) as text."""
    charset, _, encoded = email.utils.decode_rfc2231(rawtext.to_bytes(value).decode("latin-1"))
    return clean(_as_text(urllib.parse.unquote_to_bytes(encoded.encode("latin-1")), charset or "utf-8"))


MAX_CALENDAR_PART = 256 * 1024  # an invitation; a larger text/calendar part is an attachment
MAX_CALENDAR_PARTS = 4


def calendar_parts(raw: bytes, structure: dict[str, Any]) -> list[str]:
    """The ``text/calendar`` parts of a message (iMIP, RFC 6047), decoded to text, for the
    calendar to read the invitations and replies a message carries; at most a few small
    ones (a message is not a calendar dump)."""
    found: list[str] = []
    stack = [structure]
    while stack and len(found) < MAX_CALENDAR_PARTS:
        node = stack.pop(0)
        if node.get("parts"):
            stack[:0] = node["parts"]
        elif (
            node.get("type") == "text"
            and node.get("subtype") == "calendar"
            and node.get("size", 0) <= MAX_CALENDAR_PART
        ):
            charset = next((str(v) for k, v in node.get("params", []) if str(k).lower() == "charset"), "utf-8")
            found.append(clean(_as_text(decode_part(raw, node), charset)))
    return found


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
    if maintype == "multipart":  # a leaf only past mimetree.MAX_NESTED: rare enough for the long way
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
    """The Date field as written, in its own time zone (UTC when it names none)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    try:
        parsed.astimezone(UTC)  # a zone that pushes the year out of range is no date
    except (OverflowError, ValueError):
        return None
    return parsed


def _addresses_text(block: bytes, name: bytes) -> str:
    """The addresses of the fields ``name`` as the search columns keep them: one line,
    display names decoded (:func:`hexagone.mail.envelope.address_line`)."""
    return decode_header_value(rawtext.readable(envelope.address_line(block, name)))


def _header_block(raw: bytes, node: dict[str, Any]) -> bytes:
    """The header block of an entity, cut as :mod:`email` reads it."""
    return raw[node["header_start"] : _line_cut(raw, node["header_start"], node["body_start"], HEADER_LIMIT)]


def message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def parse(raw: bytes) -> Parsed:
    """Read ``raw`` (a whole RFC 5322 message) into a :class:`Parsed`; never raises."""
    structure = mimetree.structure(raw)
    header_end = structure["body_start"]
    headers = _headers(raw, 0, header_end)
    _with_envelopes(raw, structure)
    text = _text_of(raw, structure)
    in_reply_to = message_ids(_raw_header(headers, "in-reply-to"))
    block = _header_block(raw, structure)
    sent = _date(_raw_header(headers, "date"))
    return Parsed(
        header=raw[:header_end],
        envelope=envelope.envelope_of(block),
        structure=structure,
        subject=decode_header_value(_raw_header(headers, "subject"))[:2000],
        from_addr=_addresses_text(block, b"from")[:2000],
        to_addrs=_addresses_text(block, b"to")[:10000],
        cc_addrs=_addresses_text(block, b"cc")[:10000],
        bcc_addrs=_addresses_text(block, b"bcc")[:10000],
        sent_date=sent.astimezone(UTC) if sent else None,
        sent_on=sent.date() if sent else None,
        message_id=(message_ids(_raw_header(headers, "message-id")) or [""])[0][:500],
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=message_ids(_raw_header(headers, "references"))[-50:],
        text=text,
        search_text=searchtext.body_text(raw, structure, part_text),
        part_headers=searchtext.part_headers(raw, structure, decode_header_value),
        preview=_SPACES.sub(" ", text).strip()[:PREVIEW_LENGTH],
        has_attachments=any(is_attachment(leaf) for leaf in leaves(structure)),
    )
