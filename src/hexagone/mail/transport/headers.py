"""Header fields of a raw message, read and rewritten on the bytes.

A relay must change a message as little as possible (a DKIM signature covers its header
fields byte for byte), so adding a trace field, dropping ``Bcc:`` or a forged
``Authentication-Results:`` works on the raw header block, field by field, and leaves
every other byte as it came. Reading goes through :mod:`email` with ``compat32``, the
policy that never raises on a malformed header.

A message may weigh tens of megabytes and these run on every one: nothing here copies the
body. Reading looks at the header block alone, and a removal that finds nothing to
remove returns the very bytes it was given.
"""

from __future__ import annotations

import email
import email.utils
import re
from collections.abc import Callable
from email.message import Message
from email.policy import compat32

_END_OF_HEADER = re.compile(rb"\r?\n\r?\n")


def header_end(raw: bytes) -> int:
    """Where the header block ends: after its last line end (the blank line and the body
    follow)."""
    if raw.startswith((b"\r\n", b"\n")):
        return 0
    found = _END_OF_HEADER.search(raw)
    if found is None:
        return len(raw)
    return found.start() + (2 if raw[found.start() : found.start() + 2] == b"\r\n" else 1)


def header_of(raw: bytes) -> bytes:
    """The header block with its last line end, without copying the body."""
    return raw[: header_end(raw)]


def split(raw: bytes) -> tuple[bytes, bytes]:
    """(header block with its last line end, the rest: blank line and body). The rest is
    a copy: for a large message, prefer :func:`header_of`."""
    cut = header_end(raw)
    return raw[:cut], raw[cut:]


def fields(header: bytes) -> list[bytes]:
    """The header block cut into fields, each with its continuation lines."""
    result: list[list[bytes]] = []
    for line in header.splitlines(keepends=True):
        if result and line[:1] in (b" ", b"\t"):
            result[-1].append(line)  # joined once at the end: ``+=`` per line is quadratic
        else:
            result.append([line])
    return [b"".join(lines) for lines in result]


def field_name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def remove(raw: bytes, drop: Callable[[str, bytes], bool]) -> bytes:
    """``raw`` without the header fields for which ``drop(name, field)`` is true; ``raw``
    itself when there is none (no copy of a large body for nothing)."""
    cut = header_end(raw)
    every = fields(raw[:cut])
    kept = [f for f in every if not drop(field_name(f), f)]
    if len(kept) == len(every):
        return raw
    return b"".join([*kept, memoryview(raw)[cut:]])


def prepend(raw: bytes, *new_fields: str) -> bytes:
    """``raw`` with fields put on top, in the order given (trace fields go first): the
    one copy of the message that adding to it costs."""
    return "".join(f"{f}\r\n" for f in new_fields).encode("utf-8") + raw


def parse(raw: bytes) -> Message:
    """The header fields as an :class:`email.message.Message` (the body is not parsed)."""
    return email.message_from_bytes(header_of(raw), policy=compat32)


def addresses(message: Message, name: str) -> list[str]:
    """The addresses of every ``name`` field (``From``, ``To``…), lowercased."""
    values = [str(v) for v in message.get_all(name, [])]
    return [address.lower() for _, address in email.utils.getaddresses(values) if "@" in address]


def fold(name: str, parts: list[str]) -> str:
    """``Name: part1;\\r\\n\\tpart2…``: one field folded between its parts."""
    return f"{name}: " + ";\r\n\t".join(parts)
