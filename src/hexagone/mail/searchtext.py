"""What IMAP SEARCH BODY and TEXT look into, taken out of a message once, at delivery.

RFC 3501 says only "contains the specified string in the body" (BODY) or "in the header
or body" (TEXT); clients expect what Dovecot 2.3 does, which the differential tests
compare with: the body of every text part (any ``text/*``, and ``message/*`` other than an
embedded message, whose own parts count), wherever it sits (an attachment, a forwarded
message), transfer-decoded and read in its charset, HTML as written; for TEXT also every
header field of every part and embedded message, its encoded words decoded.

Both texts are kept in lower case: searches are case-insensitive, and SQLite's
``lower()`` folds ASCII letters only, so the text is folded here, once, as the search
string is (in Python), and a search for "CAFÉ" finds "café" on either database.

Multipart preambles and epilogues and non-text parts are not searched. The text is capped
at :data:`SEARCH_TEXT_LIMIT` characters, so that a huge message costs the database a
bounded row, and each part is read from its first :data:`PART_SOURCE_LIMIT` bytes only, so
that parsing a message never holds more than a few MiB (issue 13); parts past the cap are
not decoded at all.

This module walks the structure :mod:`hexagone.mail.mime` made; the decoding of a part
(transfer encoding, charset) is handed in, since ``mime`` owns it and imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hexagone.mail import envelope, rawtext

SEARCH_TEXT_LIMIT = 1_000_000  # characters
PART_HEADERS_LIMIT = 100_000
PART_SOURCE_LIMIT = 512 << 10  # encoded bytes of one part read for the search text

Node = dict[str, Any]


def searched_leaves(node: Node) -> Iterator[Node]:
    """The parts whose body SEARCH BODY looks into, in order."""
    if "parts" in node:
        for part in node["parts"]:
            yield from searched_leaves(part)
    elif "message" in node:
        yield from searched_leaves(node["message"])
    elif str(node.get("type", "")).lower() in ("text", "message"):
        yield node


def body_text(raw: bytes, structure: Node, decode: Callable[[bytes, Node], str]) -> str:
    """The searched bodies, one after the other (``decode(data, node)`` reads one leaf into
    text: :func:`hexagone.mail.mime.part_text`)."""
    pieces: list[str] = []
    length = 0
    for leaf in searched_leaves(structure):
        if length >= SEARCH_TEXT_LIMIT:
            break
        if leaf["body_start"] < leaf["end"]:
            pieces.append(decode(*_leaf_source(raw, leaf)).lower())
            length += len(pieces[-1]) + 1
    return "\n".join(pieces)[:SEARCH_TEXT_LIMIT]


def _leaf_source(raw: bytes, leaf: Node) -> tuple[bytes, Node]:
    """A leaf as a small message of its own: the two fields its decoding needs, then its
    body (cut at the last line end within :data:`PART_SOURCE_LIMIT` bytes). Everything before the
    blank line is header, as Dovecot reads it: a line there that is not a field does not
    start the body."""
    block = raw[leaf["header_start"] : leaf["body_start"]]
    wanted = {b"content-type", b"content-transfer-encoding"}
    header = b"".join(name + b": " + value + b"\r\n" for name, value in envelope.header_values(block, wanted))
    start, end = leaf["body_start"], leaf["end"]
    if end - start > PART_SOURCE_LIMIT:  # a line longer than that is cut
        end = raw.rfind(b"\n", start, start + PART_SOURCE_LIMIT) + 1 or start + PART_SOURCE_LIMIT
    data = header + b"\r\n" + raw[start:end]
    return data, {**leaf, "header_start": 0, "body_start": len(header) + 2, "end": len(data)}


def _inner_entities(node: Node) -> Iterator[Node]:
    for part in node.get("parts", ()):
        yield part
        yield from _inner_entities(part)
    if "message" in node:
        yield node["message"]
        yield from _inner_entities(node["message"])


def part_headers(raw: bytes, structure: Node, decode: Callable[[str], str]) -> str:
    """``name: value`` lines of the header fields of every part but the top one (whose
    header block the message row keeps whole); ``decode`` decodes a field's value."""
    lines: list[str] = []
    length = 0
    for node in _inner_entities(structure):
        block = raw[node["header_start"] : node["body_start"]]
        for name, value in envelope.header_values(block):
            lines.append((name.decode("latin-1") + ": " + decode(rawtext.readable(value))).lower())
            length += len(lines[-1]) + 1
        if length >= PART_HEADERS_LIMIT:
            break
    return "\n".join(lines)[:PART_HEADERS_LIMIT]
