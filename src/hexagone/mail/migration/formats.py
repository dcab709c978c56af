"""How IMAP flags, folder names and line ends are written in mbox and Maildir files, the
same way for export and import so that a round trip gives back what went out.

- mbox (one file per folder, ``Archive/2024.mbox``): messages end lines with LF, body
  lines that look like a separator are quoted the mboxrd way (``>From `` gains one ``>``
  on export and loses it on import, so the quoting is reversible), and flags travel in
  the ``Status:`` (``R`` seen, ``O`` old) and ``X-Status:`` (``A`` answered, ``F``
  flagged, ``T`` draft, ``D`` deleted) headers that Dovecot, mutt and Thunderbird read,
  keywords in ``X-Keywords:``. The internal date is the date of the ``From `` line.
- Maildir (Maildir++ folders ``.Archive.2024``): flags are the info letters (``D``
  draft, ``F`` flagged, ``R`` replied, ``S`` seen, ``T`` trashed, ``P`` passed ↔
  ``$Forwarded``), keywords the letters ``a``–``z`` named in ``dovecot-keywords`` as
  Dovecot does, and the internal date is the file's modification time.

IMAP messages end lines with CRLF; files keep LF, as mail tools expect.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from urllib.parse import unquote

from imapclient import imap_utf7

MBOX_SUFFIX = ".mbox"
MBOX_FLAG_HEADERS = (b"status", b"x-status", b"x-keywords", b"x-uid", b"x-imap", b"x-imapbase")
_STATUS = {"\\Seen": "R"}
_X_STATUS = {"\\Answered": "A", "\\Flagged": "F", "\\Draft": "T", "\\Deleted": "D"}
MAILDIR_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
    "$Forwarded": "P",
}
KEYWORD_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_QUOTED_FROM = re.compile(rb"^(>*From )", re.M)
_UNQUOTED_FROM = re.compile(rb"^>(>*From )", re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


# --- line ends and From quoting -----------------------------------------------------------


def to_crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def to_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def quote_from(data: bytes) -> bytes:
    """mboxrd: every line that is ``From `` after any number of ``>`` gains one ``>``."""
    return _QUOTED_FROM.sub(rb">\1", data)


def unquote_from(data: bytes) -> bytes:
    return _UNQUOTED_FROM.sub(rb"\1", data)


# --- mbox status headers ------------------------------------------------------------------


def split_header(raw: bytes) -> tuple[bytes, bytes]:
    """(header block with its final line end, the rest starting at the blank line)."""
    found = _HEADER_END.search(raw)
    if found is None:
        return raw, b""
    end = found.start() + (2 if raw[found.start() : found.start() + 2] == b"\r\n" else 1)
    return raw[:end], raw[end:]


def _header_lines(header: bytes) -> list[bytes]:
    """Header fields with their folded continuation lines, each with its line end."""
    fields: list[bytes] = []
    for line in header.splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def mbox_status_headers(flags: Iterable[str]) -> bytes:
    flags = list(flags)
    status = "".join(letter for flag, letter in _STATUS.items() if flag in flags) + "O"
    x_status = "".join(letter for flag, letter in _X_STATUS.items() if flag in flags)
    keywords = [f for f in flags if not f.startswith("\\")]
    lines = [f"Status: {status}\n"]
    if x_status:
        lines.append(f"X-Status: {x_status}\n")
    if keywords:
        lines.append(f"X-Keywords: {' '.join(keywords)}\n")
    return "".join(lines).encode()


def mbox_flags(raw: bytes) -> tuple[list[str], bytes]:
    """The flags an mbox message carries in its status headers, and the message without
    those headers (they describe the mailbox, not the message)."""
    header, rest = split_header(raw)
    flags: list[str] = []
    kept = []
    for line in _header_lines(header):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name not in MBOX_FLAG_HEADERS:
            kept.append(line)
            continue
        text = value.decode("ascii", "replace").strip()
        if name == b"status":
            flags += [flag for flag, letter in _STATUS.items() if letter in text]
        elif name == b"x-status":
            flags += [flag for flag, letter in _X_STATUS.items() if letter in text]
        elif name == b"x-keywords":
            flags += [k for k in re.split(r"[\s,]+", text) if k]
    return flags, b"".join(kept) + rest


# --- Maildir flags and keywords -----------------------------------------------------------


def maildir_info(flags: Iterable[str], keyword_letters: dict[str, str]) -> str:
    """The letters after ``:2,`` (sorted, as the Maildir specification asks)."""
    letters = {MAILDIR_LETTERS[f] for f in flags if f in MAILDIR_LETTERS}
    letters |= {keyword_letters[f] for f in flags if f in keyword_letters}
    return "".join(sorted(letters))


def maildir_flags(info: str, keywords_by_letter: dict[str, str]) -> list[str]:
    by_letter = {letter: flag for flag, letter in MAILDIR_LETTERS.items()}
    return [
        by_letter.get(letter) or keywords_by_letter[letter]
        for letter in info
        if letter in by_letter or letter in keywords_by_letter
    ]


def read_dovecot_keywords(text: str) -> dict[str, str]:
    """``dovecot-keywords`` lines (``0 $Label1``) as letter → keyword."""
    found = {}
    for line in text.splitlines():
        number, _, keyword = line.partition(" ")
        if number.isdigit() and int(number) < len(KEYWORD_LETTERS) and keyword.strip():
            found[KEYWORD_LETTERS[int(number)]] = keyword.strip()
    return found


def write_dovecot_keywords(keywords: Sequence[str]) -> str:
    return "".join(f"{i} {keyword}\n" for i, keyword in enumerate(keywords[: len(KEYWORD_LETTERS)]))


# --- folder names ---------------------------------------------------------------------------


def _escape(part: str, special: str) -> str:
    """``%`` and the ``special`` characters percent-encoded; everything else (accents
    included) kept, so that names stay readable on disk."""
    return "".join(f"%{ord(ch):02X}" if ch == "%" or ch in special else ch for ch in part)


def maildir_folder(parts: Sequence[str]) -> str:
    """A Maildir++ folder name (``Archive.2024``): ``.`` separates levels, so a ``.`` or
    ``%`` inside a name is percent-encoded, and so is ``&``, which would read as the start
    of Dovecot's modified UTF-7."""
    return ".".join(_escape(part, "./&") for part in parts)


def maildir_parts(name: str) -> list[str]:
    """The inverse of :func:`maildir_folder`; Dovecot's modified UTF-7 names
    (``Re&AOc-us``) are decoded too."""
    parts = []
    for part in name.split("."):
        if "&" in part and part.isascii():
            with contextlib.suppress(ValueError, UnicodeError):
                part = imap_utf7.decode(part.encode())
        parts.append(unquote(part))
    return parts


def mbox_file(parts: Sequence[str]) -> str:
    """``Archive/2024.mbox``: one directory level per folder level (a leading ``.`` is
    encoded, so that no name is hidden or climbs out of the export directory)."""
    return "/".join(_escape(part[:1], "./") + _escape(part[1:], "/") for part in parts) + MBOX_SUFFIX


def mbox_parts(relative: str) -> list[str]:
    return [unquote(part) for part in relative.removesuffix(MBOX_SUFFIX).split("/")]
