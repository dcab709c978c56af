"""ENVELOPE, BODYSTRUCTURE and ``BODY[section]`` from what delivery stored.

:mod:`hexagone.mail.mime` kept, for every MIME part, its header fields and the byte
offsets of its header and body in the raw message; this module turns that JSON into IMAP
syntax and cuts sections out of the raw bytes, without parsing the message again. The top
header block is also a column of the message row, so a section that needs only it
(``HEADER``, ``HEADER.FIELDS``) never opens the blob.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hexagone.mail import rawtext
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.wire import MAX_QUOTED, not_plain, plist, string

SECTION_TEXTS = ("", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME")
_WITH_FIELDS_RE = re.compile(r"([^ ]*) \((.*)\)", re.S)
_FIELD_NAME_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s()"]+)')
_LINE_END = re.compile(rb"(?<=\n)")

Node = dict[str, Any]


# --- ENVELOPE and BODYSTRUCTURE ---------------------------------------------------------


def _text(value: str | None) -> str:
    """An nstring as text: NIL, a quoted string, or (8-bit, long, line ends) a literal whose
    bytes ride through as Latin-1 characters. The stored text gives back the header's own
    bytes (:mod:`hexagone.mail.rawtext`). Every ENVELOPE has about twenty of them, so plain
    ASCII takes one regular expression test and one concatenation."""
    if value is None:
        return "NIL"
    if len(value) <= MAX_QUOTED and not not_plain(value):
        return '"' + value + '"'
    return string(rawtext.to_bytes(value)).decode("latin-1")


def _addresses(value: list[list[str | None]] | None) -> str:
    """An address list: ``((name adl mailbox host)(…))``, the addresses side by side."""
    if not value:
        return "NIL"
    return (
        "("
        + "".join(["(" + _text(a[0]) + " " + _text(a[1]) + " " + _text(a[2]) + " " + _text(a[3]) + ")" for a in value])
        + ")"
    )


def envelope(env: dict[str, Any]) -> bytes:
    get = env.get
    return (
        "("
        + _text(get("date"))
        + " "
        + _text(get("subject"))
        + " "
        + _addresses(get("from"))
        + " "
        + _addresses(get("sender"))
        + " "
        + _addresses(get("reply-to"))
        + " "
        + _addresses(get("to"))
        + " "
        + _addresses(get("cc"))
        + " "
        + _addresses(get("bcc"))
        + " "
        + _text(get("in-reply-to"))
        + " "
        + _text(get("message-id"))
        + ")"
    ).encode("latin-1")


def _string(value: str) -> bytes:
    """A stored header value as the message wrote it (see :mod:`hexagone.mail.rawtext`)."""
    return string(rawtext.to_bytes(value))


def _nstring(value: str | None) -> bytes:
    return b"NIL" if value is None else _string(value)


def _params(params: list[list[str]] | None, default_charset: bool = False) -> bytes:
    """A parameter list; a text part without a charset says ``"charset" "us-ascii"``,
    the default RFC 2046 4.1.2 gives it (Dovecot says so too, and clients rely on it)."""
    items = [_string(item) for pair in params or () for item in pair]
    if default_charset and not any(key.isascii() and key.lower() == "charset" for key, _ in params or ()):
        items += [b'"charset"', b'"us-ascii"']
    return plist(items) if items else b"NIL"


def _disposition(node: Node) -> bytes:
    disposition = node.get("disposition")
    if not disposition:
        return b"NIL"
    return plist([_string(disposition[0]), _params(disposition[1])])


def _language(node: Node) -> bytes:
    """Always a list: RFC 3501's body-fld-lang allows a lone string for one tag, and
    Dovecot (whose answers clients have cached) always sends the list."""
    tags = node.get("language")
    if isinstance(tags, str):  # a tree stored before version 2
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return plist(_string(tag) for tag in tags) if tags else b"NIL"


def _extension(node: Node) -> list[bytes]:
    return [_disposition(node), _language(node), _nstring(node.get("location"))]


def _content_type(node: Node, legacy: bool) -> list[str] | None:
    """The type and subtype as written, None when the part has no Content-Type (or is
    no MIME entity). A tree stored before version 2 only has them in lower case."""
    return [node["type"], node["subtype"]] if legacy else node.get("content_type")


def body_structure(node: Node, extensible: bool = True, legacy: bool | None = None) -> bytes:
    """BODYSTRUCTURE (``extensible``) or BODY of one entity, recursively, written as
    Dovecot 2.3 writes it (``imap-bodystructure.c``). ``node`` is the root of a tree
    :mod:`hexagone.mail.mimetree` made, or of an older one (``legacy``: no version)."""
    if legacy is None:
        legacy = "v" not in node
    if "parts" in node:
        out = b"(" + b"".join([body_structure(part, extensible, legacy) for part in node["parts"]])
        out += b" " + _string((_content_type(node, legacy) or ["", ""])[1])
        if extensible:
            out += b" " + b" ".join([_params(node.get("params")), *_extension(node)])
        return out + b")"
    if "message" in node:
        kind, text = [b'"message"', b'"rfc822"'], False
    elif (content_type := _content_type(node, legacy)) is None:
        kind, text = [b'"text"', b'"plain"'], True
    else:
        kind, text = [_string(content_type[0]), _string(content_type[1])], content_type[0].lower() == "text"
    fields = [
        *kind,
        _params(node.get("params"), default_charset=text),
        _nstring(node.get("id")),
        _nstring(node.get("description")),
        _string(node.get("encoding") or "7bit"),
        b"%d" % node["size"],
    ]
    if "message" in node:
        fields += [
            envelope(node.get("envelope") or {}),
            body_structure(node["message"], extensible, legacy),
            b"%d" % node["lines"],
        ]
    elif text:
        fields.append(b"%d" % node["lines"])
    if extensible:
        fields += [_nstring(node.get("md5")), *_extension(node)]
    return plist(fields)


# --- sections ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """A parsed ``section`` of ``BODY[section]``."""

    path: tuple[int, ...]
    text: str  # "", HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> Section:
        head, names = spec, None
        if match := _WITH_FIELDS_RE.fullmatch(spec):
            head, names = match.group(1), match.group(2)
        parts = head.split(".") if head else []
        path: list[int] = []
        while parts and parts[0].isdigit() and parts[0].isascii():
            if parts[0].startswith("0") or len(parts[0]) > 9:
                raise CommandError("Invalid part number")
            path.append(int(parts.pop(0)))
        text = ".".join(parts).upper()
        if not all(parts) or text not in SECTION_TEXTS:
            raise CommandError("Invalid section")
        if text == "MIME" and not path:
            raise CommandError("MIME needs a part number")
        if text.startswith("HEADER.FIELDS"):
            if names is None:
                raise CommandError("HEADER.FIELDS needs a list of field names")
            fields = tuple(m.group(1) if m.group(1) is not None else m.group(2) for m in _FIELD_NAME_RE.finditer(names))
            if not fields or any(not f.isascii() or not f for f in fields):
                raise CommandError("Invalid header field list")
            return cls(tuple(path), text, tuple(f.upper() for f in fields))
        if names is not None:
            raise CommandError("Invalid section")
        return cls(tuple(path), text)

    def names_a_part_of(self, structure: Node) -> bool:
        """Whether the message has the part this section names (a CATENATE URL must)."""
        return not self.path or _resolve(structure, self.path) is not None

    def __str__(self) -> str:
        spec = ".".join(str(n) for n in self.path)
        if self.text:
            spec += ("." if spec else "") + self.text
        if self.fields:
            spec += " (" + " ".join(self.fields) + ")"
        return spec

    @property
    def header_only(self) -> bool:
        """True when the stored header block suffices (no need to read the blob)."""
        return not self.path and self.text.startswith("HEADER")

    def extract(self, structure: Node, raw: bytes) -> bytes:
        """The section's bytes; empty when the message has no such part (as Dovecot does)."""
        if not self.path and not self.text:  # BODY[]: FETCH reads no structure for it
            return raw
        node = _resolve(structure, self.path) if self.path else structure
        if node is None:
            return b""
        if self.text == "MIME":
            return raw[node["header_start"] : node["body_start"]]
        if not self.text:
            return raw[node["body_start"] : node["end"]] if self.path else raw
        if self.path:  # HEADER and TEXT of a part apply to an encapsulated message only
            node = node.get("message")
            if node is None:
                return b""
        if self.text == "TEXT":
            return raw[node["body_start"] : node["end"]]
        return self.from_header(raw[node["header_start"] : node["body_start"]])

    def from_header(self, header: bytes) -> bytes:
        """HEADER or HEADER.FIELDS[.NOT] of a header block (blank line included)."""
        if self.text == "HEADER":
            return header
        wanted = {f.lower().encode() for f in self.fields}
        exclude = self.text == "HEADER.FIELDS.NOT"
        kept = [block for name, block in header_fields(header) if (name in wanted) != exclude]
        return b"".join(kept) + b"\r\n"


def header_fields(header: bytes) -> list[tuple[bytes, bytes]]:
    """(lower-case name, raw bytes with continuation lines) of each field of a block."""
    fields: list[tuple[bytes, bytes]] = []
    for line in _LINE_END.split(header):
        if not line or line in (b"\r\n", b"\n"):
            if line:
                break
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line)
        else:
            fields.append((line.split(b":", 1)[0].strip().lower(), line))
    return fields


def _resolve(structure: Node, path: tuple[int, ...]) -> Node | None:
    """The entity a part number names (RFC 3501 6.4.5): a multipart's children count from
    1; a single-part entity has only part 1, itself (so ``1.1`` of a leaf is the leaf, as
    Dovecot answers); an encapsulated message's parts are those of its body."""
    node = structure
    for depth, number in enumerate(path):
        if depth and "message" in node:
            node = node["message"]
        if "parts" in node:
            if number > len(node["parts"]):
                return None
            node = node["parts"][number - 1]
        elif number != 1:
            return None
    return node
