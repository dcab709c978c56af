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

from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.wire import MAX_QUOTED, not_plain, nstring, plist, string

SECTION_TEXTS = ("", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME")
_WITH_FIELDS_RE = re.compile(r"([^ ]*) \((.*)\)", re.S)
_FIELD_NAME_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s()"]+)')
_LINE_END = re.compile(rb"(?<=\n)")

Node = dict[str, Any]


# --- ENVELOPE and BODYSTRUCTURE ---------------------------------------------------------


def _text(value: str | None) -> str:
    """An nstring as text: NIL, a quoted string, or (8-bit, long, line ends) a literal whose
    bytes ride through as Latin-1 characters. Every ENVELOPE has about twenty of them, so
    plain ASCII takes one regular expression test and one concatenation."""
    if value is None:
        return "NIL"
    if len(value) <= MAX_QUOTED and not not_plain(value):
        return '"' + value + '"'
    return string(value).decode("latin-1")


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


def _params(params: list[list[str]] | None) -> bytes:
    if not params:
        return b"NIL"
    return plist(string(item) for pair in params for item in pair)


def _disposition(node: Node) -> bytes:
    disposition = node.get("disposition")
    if not disposition:
        return b"NIL"
    return plist([string(disposition[0]), _params(disposition[1])])


def _language(node: Node) -> bytes:
    value = node.get("language")
    if not value:
        return b"NIL"
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if len(tags) == 1:
        return string(tags[0])
    return plist(string(t) for t in tags)


def _extension(node: Node) -> list[bytes]:
    return [_disposition(node), _language(node), nstring(node.get("location"))]


def body_structure(node: Node, extensible: bool = True) -> bytes:
    """BODYSTRUCTURE (``extensible``) or BODY of one entity, recursively."""
    if "parts" in node:
        out = b"(" + b"".join([body_structure(part, extensible) for part in node["parts"]])
        out += b" " + string(node["subtype"])
        if extensible:
            out += b" " + b" ".join([_params(node.get("params")), *_extension(node)])
        return out + b")"
    fields = [
        string(node["type"]),
        string(node["subtype"]),
        _params(node.get("params")),
        nstring(node.get("id")),
        nstring(node.get("description")),
        string(node.get("encoding") or "7BIT"),
        b"%d" % node["size"],
    ]
    if "message" in node:
        fields += [
            envelope(node.get("envelope") or {}),
            body_structure(node["message"], extensible),
            b"%d" % node["lines"],
        ]
    elif node["type"] == "text":
        fields.append(b"%d" % node["lines"])
    if extensible:
        fields += [nstring(node.get("md5")), *_extension(node)]
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
    1; a single-part entity has only part 1, itself; an encapsulated message's parts are
    those of its body."""
    node = structure
    for depth, number in enumerate(path):
        if depth and "message" in node:
            node = node["message"]
        elif depth and "parts" not in node:
            return None
        if "parts" in node:
            if number > len(node["parts"]):
                return None
            node = node["parts"][number - 1]
        elif number != 1:
            return None
    return node
