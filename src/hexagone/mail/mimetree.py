"""The MIME tree of a message, split where Dovecot 2.3 splits it.

IMAP clients cache BODYSTRUCTURE and fetch parts by number (``BODY[2.1]``), so a server
that takes over mailboxes from Dovecot must cut every message into the same parts, with
the same byte ranges, even when the message breaks MIME's rules. This module walks the
raw bytes as Dovecot's ``message-parser.c`` does:

- A boundary line is any line that *starts* with ``--`` and the boundary of an enclosing
  multipart (RFC 2046 5.1.1: "An exact match of the entire candidate line is not
  required"); when several match, the longest wins, so nested boundaries that share a
  prefix split right, and one longer than 80 characters is cut to 80. It closes every
  part inside the multipart it belongs to, and the ``[CR]LF`` before it is not part of
  the body that ends there. Inside a part's header too, such a line ends the header.
- A multipart opens its boundary only once its header is complete (a blank line): one
  without boundary, or whose boundary never comes, has no parts (IMAP then shows one
  empty text/plain part). A body before the first boundary, and after the closing one,
  belongs to the multipart itself.
- Content-* fields count only in a MIME entity: one with MIME-Version or Content-Type,
  or a part of a multipart. Elsewhere the entity is text/plain (message/rfc822 in a
  multipart/digest).
- A body's size counts a line feed without its carriage return as two bytes, since IMAP
  sends the message with CRLF line ends; its line count is its number of line feeds.

:func:`structure` gives the tree as the JSON stored with the message (the root also has
``"v"``, :data:`VERSION`)::

    {"type": "text", "subtype": "plain",        # lower case, what the part is (webmail)
     "content_type": ["TEXT", "Plain"],         # as written; absent without Content-Type
     "params": [["CharSet", "UTF-8"]],          # Content-Type parameters, as written
     "id": ..., "description": ..., "md5": ..., "location": ...,  # when present
     "encoding": "8Bit", "disposition": ["attachment", [["filename", "a.pdf"]]],
     "language": ["fr"],
     "header_start": 120, "body_start": 180, "end": 260,  # offsets in the raw message
     "size": 80, "lines": 2,                    # as IMAP counts them
     "parts": [...],                            # a multipart (at least one)
     "message": {...}, "envelope": {...}}       # a message/rfc822 (envelope: mime.py)

Header values keep their raw bytes (:mod:`hexagone.mail.rawtext`); a key is absent when
the part has no such field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hexagone.mail import mimeheader
from hexagone.mail.rawtext import to_text as text

VERSION = 2  # of the JSON below: a stored tree of an older version is parsed again (``hexagone mail reparse``)
MAX_NESTED = 100  # Dovecot's message_max_nested_mime_parts
MAX_PARTS = 10000  # and message_max_total_mime_parts
MAX_BOUNDARY = 80  # longer boundaries are cut (RFC 2046 allows 70), as Dovecot cuts them
MAX_BOUNDARY_LINE = MAX_BOUNDARY + 4  # what Dovecot reads of a last line without a line feed

TEXT, MULTIPART, RFC822, DIGEST = 1, 2, 4, 8
_NSTRINGS = {b"id": "id", b"md5": "md5", b"description": "description", b"location": "location"}


@dataclass
class _Fields:
    """The Content-* fields of one entity, the first of each (Content-Disposition: the
    first with parameters, as Dovecot reads it)."""

    content_type: mimeheader.ContentType | None = None
    nstrings: dict[str, bytes] = field(default_factory=dict)
    encoding: bytes | None = None
    disposition: tuple[bytes, mimeheader.Params] | None = None
    language: list[bytes] | None = None

    def add(self, name: bytes, value: bytes) -> None:
        """A ``Content-<name>`` field (``name`` in lower case)."""
        if name == b"type":
            if self.content_type is None:
                self.content_type = mimeheader.content_type(value)
        elif name in _NSTRINGS:
            self.nstrings.setdefault(_NSTRINGS[name], mimeheader.unfolded(value))
        elif name == b"transfer-encoding":
            if self.encoding is None:
                self.encoding = mimeheader.transfer_encoding(value)
        elif name == b"language":
            if self.language is None:
                self.language = mimeheader.language(value)
        elif name == b"disposition" and not (self.disposition and self.disposition[1]):
            self.disposition = mimeheader.disposition(value) or self.disposition


class _Part:
    __slots__ = ("body_start", "children", "cut_end", "depth", "end", "fields", "flags", "mime", "parent", "start")

    def __init__(self, start: int, parent: _Part | None, mime: bool):
        self.start = self.body_start = self.end = start
        self.parent = parent
        self.depth: int = parent.depth + 1 if parent else 0
        self.mime = mime
        self.children: list[_Part] = []
        self.fields = _Fields()
        self.flags = 0
        self.cut_end: int | None = None  # where it ends when a boundary cut its header


@dataclass(slots=True)
class _Boundary:
    value: bytes
    part: _Part


class _Walker:
    def __init__(self, raw: bytes):
        self.raw = raw
        self.boundaries: list[_Boundary] = []  # innermost last
        self.values: tuple[bytes, ...] = ()  # theirs
        self.longest = 0  # of them
        self.count = 1

    def run(self) -> _Part:
        root = part = _Part(0, None, mime=False)
        position = 0
        while True:
            position, opened = self.header(part, position)
            if not opened and part.flags & RFC822:
                if part.depth + 1 < MAX_NESTED and self.count < MAX_PARTS:
                    part = self.child(part, position, mime=False)
                    continue
                part.flags &= ~RFC822
            found = self.body(part, position)
            if found is None:
                return root
            part, position = found
            part = self.child(part, position, mime=True)

    def child(self, parent: _Part, start: int, mime: bool) -> _Part:
        self.count += 1
        part = _Part(start, parent, mime)
        parent.children.append(part)
        return part

    def header(self, part: _Part, position: int) -> tuple[int, bool]:
        """Read the header at ``position``; the position where the body is read from,
        and whether the part opened a multipart boundary. A boundary line of an
        enclosing multipart ends the header, or the body right after the blank line: the
        line feed before it then belongs to that boundary, not to the header."""
        raw = self.raw
        newline = 0  # of the last line read
        cut = False
        opened = None
        while position < len(raw):
            if self.cut(part, position):
                cut = True
                break
            if raw[position] == 0x0A or raw.startswith(b"\r\n", position):
                newline = 1 if raw[position] == 0x0A else 2
                position += newline
                opened = self.settle(part, complete=True)
                cut = self.cut(part, position)
                break
            position, newline = self.field(part, position)
        part.body_start = position - newline if cut else position
        if cut:
            part.cut_end = part.body_start
        return position, self.settle(part, complete=False) if opened is None else opened

    def cut(self, part: _Part, position: int) -> bool:
        """Whether the line at ``position`` is a boundary of a multipart enclosing ``part``."""
        if not self.boundaries or not self.raw.startswith(b"--", position):
            return False
        found = self.boundary_at(position)
        return found is not None and found[0].part is not part

    def field(self, part: _Part, position: int) -> tuple[int, int]:
        """One header field, continuation lines included: its position after, and the
        size of its last line feed."""
        raw = self.raw
        line, position, newline = self.line(position)
        name, colon, value = line.partition(b":")
        if colon:
            name = name.rstrip(b" \t")
            stripped = value.lstrip(b" \t")
            value = stripped if stripped or not value else value[1:]
        pieces = [value]  # joined once: adding each continuation line to the value was quadratic
        while position < len(raw) and raw[position] in b" \t":
            pieces.append(b"\r\n" if newline == 2 else b"\n")
            line, position, newline = self.line(position)
            pieces.append(line)
        if len(pieces) > 1:
            value = b"".join(pieces)
        name = name.lower()
        if name == b"mime-version":
            part.mime = True
        elif name.startswith(b"content-"):
            part.mime |= name == b"content-type"
            part.fields.add(name[8:], value)
        return position, newline

    def line(self, position: int) -> tuple[bytes, int, int]:
        """The line at ``position`` without its line end; the position after; the size of its line end."""
        raw = self.raw
        feed = raw.find(b"\n", position)
        if feed < 0:
            return raw[position:], len(raw), 0
        newline = 2 if feed > position and raw[feed - 1] == 0x0D else 1
        return raw[position : feed + 1 - newline], feed + 1, newline

    def settle(self, part: _Part, complete: bool) -> bool:
        """The end of a header: what the part is, and whether its boundary opens."""
        content_type = part.fields.content_type
        flags = 0
        if content_type is not None:
            kind = content_type.text.lower()
            if kind == b"message/rfc822":
                flags = RFC822
            elif kind.startswith(b"text") and kind[4:5] in (b"", b"/"):
                flags = TEXT
            elif kind.startswith(b"multipart/"):
                flags = MULTIPART | (DIGEST if kind == b"multipart/digest" else 0)
        if not part.mime:  # Content-* fields mean nothing outside MIME
            flags, part.fields = 0, _Fields()
        if content_type is None or not part.mime:
            flags |= RFC822 if part.parent and part.parent.flags & DIGEST else TEXT
        part.flags = flags
        if not flags & MULTIPART or content_type is None or content_type.params is None:
            return False
        boundary = next((v[:MAX_BOUNDARY] for k, v in content_type.params if k.lower() == b"boundary"), None)
        if boundary is None or not complete:
            return False
        if part.depth + 1 >= MAX_NESTED:
            part.flags &= ~MULTIPART
            return False
        self.boundaries.append(_Boundary(boundary, part))
        self.opened()
        return True

    def body(self, part: _Part, position: int) -> tuple[_Part, int] | None:
        """Read bodies from ``position`` up to the next boundary that opens a part: the
        multipart and the position of the new part's header, or None at the end."""
        raw = self.raw
        while self.boundaries:
            found = self.next_boundary(position)
            if found is None:
                break
            start, boundary, close = found
            # the [CR]LF before the boundary line belongs to it
            end = start
            if start > position:
                end = start - 2 if start - 2 >= position and raw[start - 2] == 0x0D else start - 1
            while part is not boundary.part:
                assert part.parent is not None, "a boundary belongs to an enclosing part"
                part.end = end if part.cut_end is None else part.cut_end
                part = part.parent
            index = next(i for i in range(len(self.boundaries) - 1, -1, -1) if self.boundaries[i] is boundary)
            if len(self.boundaries) > (index if close else index + 1):
                del self.boundaries[index if close else index + 1 :]
                self.opened()
            feed = raw.find(b"\n", start)
            position = len(raw) if feed < 0 else feed + 1
            if self.boundaries and self.boundaries[-1].part is part and self.count < MAX_PARTS:
                return part, position
        while part is not None:  # everything still open ends with the message
            part.end = len(raw) if part.cut_end is None else part.cut_end
            part = part.parent  # type: ignore[assignment]
        return None

    def opened(self) -> None:
        """Note what the open boundaries are, after one came or went."""
        self.values = tuple(boundary.value for boundary in self.boundaries)
        self.longest = max(map(len, self.values), default=0)

    def next_boundary(self, position: int) -> tuple[int, _Boundary, bool] | None:
        """The first boundary line at or after ``position`` (a line start)."""
        raw = self.raw
        if raw.startswith(b"--", position) and (found := self.boundary_at(position)) is not None:
            return position, *found
        feed = raw.find(b"\n--", position)
        while feed >= 0:
            if (found := self.boundary_at(feed + 1)) is not None:
                return feed + 1, *found
            feed = raw.find(b"\n--", feed + 1)
        return None

    def boundary_at(self, start: int) -> tuple[_Boundary, bool] | None:
        """The boundary the line at ``start`` (beginning with ``--``) is a delimiter of,
        and whether it is the closing one."""
        raw = self.raw
        feed = raw.find(b"\n", start + 2)
        trailing = False
        if feed < 0:
            size = min(len(raw) - start - 2, MAX_BOUNDARY_LINE)
        else:
            size = feed - start - 2
            if size > 0 and raw[feed - 1] == 0x0D:
                size -= 1
            trailing = size > 2 and raw[start + size : start + size + 2] == b"--"
        if not raw.startswith(self.values, start + 2, start + 2 + size):
            return None  # the common case, and a line of no boundary among many, at C's speed
        best = None
        for boundary in reversed(self.boundaries):
            length = len(boundary.value)
            if (
                length <= size
                and raw.startswith(boundary.value, start + 2)
                and (best is None or len(best.value) < length)
            ):
                best = boundary
                if length in (size, self.longest) or (trailing and length == size - 2):
                    break  # nothing longer can match
        if best is None:
            return None
        after = start + 2 + len(best.value)
        return best, size >= len(best.value) + 2 and raw.startswith(b"--", after)


class _Writer:
    """The parts as JSON nodes. A node has a key only for a field the part has; a part
    is let go once written, and equal strings are one object: a message of ten
    thousand parts stays well under its own size."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.strings: dict[bytes, str] = {}

    def text(self, value: bytes) -> str:
        found = self.strings.get(value)
        if found is None:
            found = self.strings[value] = text(value)
        return found

    def params(self, params: mimeheader.Params) -> list[list[str]] | None:
        return [[self.text(key), self.text(value)] for key, value in params] or None

    def node(self, part: _Part) -> dict[str, Any]:
        raw, fields = self.raw, part.fields
        lines = raw.count(b"\n", part.body_start, part.end)
        node: dict[str, Any] = {"type": "text", "subtype": "plain"}
        if (content_type := fields.content_type) is not None:
            node["content_type"] = [self.text(content_type.type), self.text(content_type.subtype)]
            if content_type.params:
                node["params"] = self.params(content_type.params)
            if content_type.type and content_type.subtype:
                node["type"], node["subtype"] = (
                    self.text(content_type.type.lower()),
                    self.text(content_type.subtype.lower()),
                )
        node.update((name, self.text(value)) for name, value in fields.nstrings.items())
        if fields.encoding:
            node["encoding"] = self.text(fields.encoding)
        if fields.disposition:
            node["disposition"] = [self.text(fields.disposition[0]), self.params(fields.disposition[1])]
        if fields.language:
            node["language"] = [self.text(tag) for tag in fields.language]
        node.update(
            header_start=part.start,
            body_start=part.body_start,
            end=part.end,
            size=part.end - part.body_start + lines - raw.count(b"\r\n", part.body_start, part.end),
            lines=lines,
        )
        children = part.children[::-1]
        part.children.clear()
        if part.flags & MULTIPART:
            node["type"] = "multipart"
            node["parts"] = [self.node(children.pop()) for _ in range(len(children))] or [_empty(part.body_start)]
        elif part.flags & RFC822:
            node["type"], node["subtype"] = "message", "rfc822"
            node["message"] = self.node(children.pop())
        return node


def _empty(position: int) -> dict[str, Any]:
    """The part IMAP shows in a multipart that has none: empty text/plain."""
    return {
        "type": "text",
        "subtype": "plain",
        "header_start": position,
        "body_start": position,
        "end": position,
        "size": 0,
        "lines": 0,
    }


def structure(raw: bytes) -> dict[str, Any]:
    """The MIME tree of the message ``raw`` as JSON; never raises."""
    node = _Writer(raw).node(_Walker(raw).run())
    node["v"] = VERSION
    return node
