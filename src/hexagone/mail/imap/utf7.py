"""Modified UTF-7 (RFC 3501 5.1.3): how IMAP4rev1 clients spell non-ASCII folder names.

Printable ASCII stands for itself except ``&``, written ``&-``; any other run of
characters is UTF-16BE, base64 with ``,`` instead of ``/`` and no padding, between ``&``
and ``-``. Folder names are stored as plain Unicode; this module converts at the wire.

A session that enabled UTF8=ACCEPT (RFC 6855 3) spells them in UTF-8 instead, both ways,
and ``&`` is then an ordinary character: :data:`utf8_names` says so. It is a context
variable because each session runs in an asyncio task of its own (a value set there is
that session's) and names are read and written in many places that know nothing of the
session, as the protocol language is (:mod:`hexagone.core.i18n`).
"""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar

utf8_names: ContextVar[bool] = ContextVar("imap_utf8_names", default=False)


class Utf7Error(ValueError):
    """A name that is not valid modified UTF-7."""


def encode(name: str) -> str:
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = "".join(run).encode("utf-16-be", "surrogatepass")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def decode(name: str) -> str:
    """The Unicode name; raises :class:`Utf7Error` for 8-bit or malformed input."""
    out: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if not 0x20 <= ord(char) <= 0x7E:
            raise Utf7Error("characters outside printable ASCII must be encoded")
        if char != "&":
            out.append(char)
            i += 1
            continue
        end = name.find("-", i + 1)
        if end < 0:
            raise Utf7Error("unterminated shift sequence")
        chunk = name[i + 1 : end]
        i = end + 1
        if not chunk:
            out.append("&")
            continue
        text = chunk.replace(",", "/")
        try:
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            decoded = data.decode("utf-16-be")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise Utf7Error("invalid base64 in a shift sequence") from exc
        if not decoded or any(0x20 <= ord(c) <= 0x7E for c in decoded) or encode(decoded) != "&" + chunk + "-":
            raise Utf7Error("not the canonical encoding")
        out.append(decoded)
    return "".join(out)
