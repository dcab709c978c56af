"""Raw header bytes as text a JSON column can hold, and back, byte for byte.

IMAP passes header text through as the message wrote it (RFC 3501 never asks a server to
transcode): a Latin-1 subject goes out as Latin-1 bytes, as Dovecot sends it. The parsed
envelope is stored as JSON, which holds text, not bytes, and PostgreSQL refuses NUL and
lone surrogates in it. So the bytes are kept as text by a reversible mapping:

- valid UTF-8 is read as what it says (an SMTPUTF8 name stays readable in the column);
- every byte that is not part of valid UTF-8, and NUL, becomes one code point of the
  private-use block U+F700-U+F7FF (byte ``b`` is U+F700 + ``b``);
- a character of that block written in the message itself is escaped the same way, byte
  by byte, so that :func:`to_bytes` never mistakes it for an escape.

``to_bytes(to_text(data)) == data`` for any ``data``. A string made some other way (rows
stored before this mapping, decoded text) is written as UTF-8, as before.
"""

from __future__ import annotations

import re

_BLOCK = re.compile("[\uf700-\uf7ff]")
_ESCAPES = re.compile("[\x00\udc80-\udcff]")  # NUL, and surrogateescape's undecodable bytes
_ESCAPED = re.compile("[\uf700\uf780-\uf7ff]")


def _escape_bytes(match: re.Match[str]) -> str:
    return "".join(chr(0xF700 + byte) for byte in match.group().encode("utf-8"))


def _escape_undecodable(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0xF700 + (code - 0xDC00 if code >= 0xDC80 else 0))


def _unescape(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0xF700
    return "\x00" if code == 0 else chr(0xDC00 + code)


def to_text(data: bytes) -> str:
    """``data`` as text that :func:`to_bytes` turns back into exactly ``data``."""
    if data.isascii() and b"\x00" not in data:
        return data.decode("ascii")
    text = data.decode("utf-8", "surrogateescape")
    text = _BLOCK.sub(_escape_bytes, text)
    return _ESCAPES.sub(_escape_undecodable, text)


def to_bytes(text: str) -> bytes:
    """The bytes :func:`to_text` read ``text`` from (any other text as UTF-8)."""
    if text.isascii():
        return text.encode("ascii")
    return _ESCAPED.sub(_unescape, text).encode("utf-8", "surrogateescape")


def readable(data: bytes) -> str:
    """Header bytes for people and for searching: UTF-8, else (legacy 8-bit mail that
    declares no charset) Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
