"""ManageSieve's grammar (RFC 5804 section 4): commands read off the connection and
split into words, responses written back.

A command is a line of space-separated words: atoms (the command name, numbers) and
strings, either quoted (``"..."`` with ``\\"`` and ``\\\\`` as the only escapes) or
literals (``{n+}`` then CRLF then n octets, the command going on after them). A
synchronizing ``{n}`` is taken the same way: ManageSieve has no continuation request for
it to wait for. Strings are UTF-8.

The bytes come through IMAP's :class:`~hexagone.mail.imap.connection.Connection` (the
same buffering, back-pressure, write timeout and STARTTLS that drops what was sent in
clear behind the command), with a :func:`framer` that only cuts lines: this grammar
reads its own literals by length.

Bounds keep any input from holding more of the server than a command needs: a line
longer than :data:`MAX_LINE`, more than :data:`MAX_LITERALS` literals in one command, or a
literal over the session's limit cannot be skipped cheaply, so they end the connection
(:class:`Fatal`, answered with BYE); a command that is read whole but does not parse is
a :class:`CommandError` (NO), and the session goes on.
"""

from __future__ import annotations

import re

from hexagone.mail.imap import parser
from hexagone.mail.imap.connection import Connection

MAX_LINE = 8 * 1024
MAX_LITERALS = 3  # PUTSCRIPT and RENAMESCRIPT take two strings
MAX_NUMBER = 4294967296  # RFC 5804 "number"
LITERAL_RE = re.compile(rb"\{(\d{1,10})\+?\}\Z")
ATOM_RE = re.compile(rb"[^\x00-\x20\x7f\"{}()%*\\]+")


class Fatal(Exception):
    """Input the session cannot resynchronise after: answered with BYE, then closed."""


class CommandError(Exception):
    """A command refused: answered ``NO [(code)] "text"``, the session goes on."""

    def __init__(self, text: str, code: str | None = None):
        super().__init__(text)
        self.text = text
        self.code = code

    def response(self) -> bytes:
        return response("NO", self.text, self.code)


class Atom(str):
    """An unquoted word: a command name or a number."""

    __slots__ = ()


Word = Atom | str  # a plain ``str`` is a string (quoted or literal)


def framer() -> parser.Framer:
    """The connection's framer: used for its bounded lines only, never for IMAP commands."""
    return parser.Framer(lambda _command: 0, max_line=MAX_LINE)


async def _read_exactly(conn: Connection, size: int) -> bytes:
    assert conn.framer is not None
    buffer = conn.framer.buffer
    while len(buffer) < size:
        await conn.wait_data()
    data = bytes(buffer[:size])
    del buffer[:size]
    return data


async def read_command(conn: Connection, literal_limit: int) -> list[bytes]:
    """One command's raw pieces: line fragments alternating with literals' octets (a
    fragment is followed by a literal when it ended with ``{n+}``, kept in it)."""
    pieces: list[bytes] = []
    while True:
        line: bytes | None
        try:
            line = await conn.read_line()
        except parser.CommandError:  # too long while its end had not come
            line = None
        if line is None or len(line) > MAX_LINE:  # or too long but whole in one read
            raise Fatal("Line too long")
        pieces.append(line)
        announced = LITERAL_RE.search(line)
        if announced is None:
            return pieces
        size = int(announced[1])
        if len(pieces) > 2 * MAX_LITERALS - 1:
            raise Fatal("Too many literals in one command")
        if size > literal_limit:
            raise Fatal("Literal too large")
        pieces.append(await _read_exactly(conn, size))


def words(pieces: list[bytes]) -> list[Word]:
    """The words of a command read by :func:`read_command`."""
    found: list[Word] = []
    for index in range(0, len(pieces), 2):
        line = pieces[index]
        if index and line and not line.startswith(b" "):
            raise CommandError("Words must be separated by a space")
        literal = pieces[index + 1] if index + 1 < len(pieces) else None
        if literal is not None:
            announced = LITERAL_RE.search(line)
            assert announced is not None
            line = line[: announced.start()]
            if line and not line.endswith(b" "):
                raise CommandError("A literal must start a word")
        found += _line_words(line)
        if literal is not None:
            found.append(_text(literal))
    return found


def _line_words(line: bytes) -> list[Word]:
    found: list[Word] = []
    pos = 0
    while pos < len(line):
        if line[pos] == 0x20:
            pos += 1
            continue
        if line[pos] == 0x22:  # '"'
            text, pos = _quoted(line, pos + 1)
            found.append(text)
        elif (atom := ATOM_RE.match(line, pos)) is not None:
            found.append(Atom(atom[0].decode("ascii", "replace")))
            pos = atom.end()
        else:
            raise CommandError("Invalid character in command")
        if pos < len(line) and line[pos] != 0x20:
            raise CommandError("Words must be separated by a space")
    return found


def _quoted(line: bytes, pos: int) -> tuple[str, int]:
    """The quoted string starting at ``pos`` (after its quote) and the position after it."""
    out = bytearray()
    while pos < len(line):
        char = line[pos]
        if char == 0x22:
            return _text(bytes(out)), pos + 1
        if char == 0x5C:  # backslash: only "\"" and "\\" (QUOTED-SPECIALS)
            if pos + 1 >= len(line) or line[pos + 1] not in b'"\\':
                raise CommandError("Invalid escape in quoted string")
            pos += 1
            char = line[pos]
        elif char == 0:
            raise CommandError("NUL in quoted string")
        out.append(char)
        pos += 1
    raise CommandError("Unterminated quoted string")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("Strings must be UTF-8") from None


class Args:
    """A command's arguments, taken in order by the handler."""

    def __init__(self, args: list[Word]):
        self._args = args
        self._pos = 0

    def more(self) -> bool:
        return self._pos < len(self._args)

    def _next(self, what: str) -> Word:
        if not self.more():
            raise CommandError(f"Missing {what}")
        word = self._args[self._pos]
        self._pos += 1
        return word

    def string(self, what: str) -> str:
        word = self._next(what)
        if isinstance(word, Atom):
            raise CommandError(f"The {what} must be a quoted string or a literal")
        return word

    def number(self, what: str) -> int:
        word = self._next(what)
        if not (isinstance(word, Atom) and word.isascii() and word.isdigit() and int(word) <= MAX_NUMBER):
            raise CommandError(f"The {what} must be a number")
        return int(word)

    def end(self) -> None:
        if self.more():
            raise CommandError("Too many arguments")


# --- responses -------------------------------------------------------------------------

MAX_QUOTED = 1024  # RFC 5804 "quoted": longer strings go as literals


def string(text: str) -> bytes:
    """``text`` as a ManageSieve string: quoted when it may be, else a literal."""
    data = text.encode("utf-8")
    if len(data) <= MAX_QUOTED and not any(c in data for c in b"\r\n\0"):
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return b"{%d}\r\n%b" % (len(data), data)


MAX_TEXT = 300  # characters of a response's human-readable text


def response(status: str, text: str | None = None, code: str | None = None) -> bytes:
    """``OK``, ``NO`` or ``BYE``, with an optional response code and human-readable text,
    always one quoted string on the line: a message from elsewhere (a parser quoting the
    script) loses its control characters and is cut to :data:`MAX_TEXT` characters."""
    out = status.encode()
    if code:
        out += b" (" + code.encode() + b")"
    if text:
        printable = "".join(c if c.isprintable() else " " for c in text)
        out += b" " + string(" ".join(printable.split())[:MAX_TEXT])
    return out + b"\r\n"
