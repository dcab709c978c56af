"""IMAP command parser: bytes from the wire become commands. Pure, no I/O, fuzzable.

The :class:`Framer` is fed whatever the socket delivers and hands out, one at a time,
the events the connection must act on: a complete :class:`Command`, a request to send a
continuation (a synchronizing literal was announced and accepted), or a :class:`Refused`
answer (a line or literal too large, a command that does not parse). Literals are read
by length, never scanned, so a literal may hold any byte; a command is assembled from its
line fragments and literals before it is tokenised.

Limits are part of the grammar here, so that no input makes the server hold more than
it allows: a line longer than ``max_line`` is refused and skipped without being kept, a
literal larger than the command's limit is refused (``NO [TOOBIG]``) and, when the client
sends it anyway (LITERAL+), skipped byte by byte. Nothing raises out of :meth:`next_event`.

A literal's bytes are moved out of the input buffer as they arrive, into a
:class:`io.BytesIO` whose value is taken without a copy, and :class:`Literal` wraps that
``bytes`` object rather than copying it into a subclass: a 50 MiB APPEND is held once,
not once per step. A literal of :data:`LARGE_LITERAL` bytes or more is announced by a
:class:`LargeLiteral` event before it is read, so that the session can bound how many
are read at once (see :mod:`.literals`).

Tokens: :class:`Atom` (a ``str``; a fetch item with its ``[...]`` section such as
``BODY.PEEK[HEADER.FIELDS (FROM)]<0.10>`` is one atom; elsewhere ``[`` is an ordinary
atom character, unbalanced or not), :class:`Quoted` (``bytes``),
:class:`Literal` (``bytes(literal)`` gives its bytes), and ``list`` for a parenthesised
list. No token holds a NUL but a literal's (RFC 3501 9: ``CHAR8`` excludes it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

MAX_LINE = 64 * 1024
MAX_COMMAND = 1024 * 1024  # all of a command but its literals' limit
LITERAL_RE = re.compile(rb"(~?)\{(\d{1,20})(\+?)\}\Z")  # "~": a literal8 (RFC 3516, RFC 6855)
TAG_RE = re.compile(r"[\x21\x23-\x24\x26-\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+")  # ASTRING-CHAR but "+"
SEPARATORS = b' ()"'
# The fetch items followed by a bracketed section (RFC 3501 "section", RFC 3516
# "section-binary"): the only place where "[" opens a group that runs, spaces and
# parentheses included, to its "]". Anywhere else "[" is an ATOM-CHAR like any other.
SECTION_ITEMS = frozenset({b"BODY", b"BODY.PEEK", b"BINARY", b"BINARY.PEEK", b"BINARY.SIZE"})
LARGE_LITERAL = 4 * 1024 * 1024  # a literal this large is announced (LargeLiteral) before it is read
_SKIP_TAIL = 40  # what an overlong line keeps of its end, to see a literal announced there


class CommandError(Exception):
    """A command that cannot be carried out; answered with its tag, the session goes on."""

    def __init__(self, text: str, *, status: str = "BAD", code: str | None = None):
        super().__init__(text)
        self.text = text
        self.status = status
        self.code = code

    def completion(self) -> str:
        code = f"[{self.code}] " if self.code else ""
        return f"{self.status} {code}{self.text}"

    def response(self, tag: str) -> bytes:
        return f"{tag} {self.completion()}\r\n".encode()


class Atom(str):
    """An unquoted word: a command name, a flag, a number, a sequence set, a fetch item."""

    __slots__ = ()


class Quoted(bytes):
    __slots__ = ()


class Literal:
    """A literal's bytes, wrapped rather than copied (see the module docstring)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray):
        self.data = bytes(data)  # the same object when given bytes

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Literal):
            return self.data == other.data
        return isinstance(other, bytes) and self.data == other

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"Literal({self.data[:40]!r}{'...' if len(self.data) > 40 else ''})"


class Literal8(Literal):
    """A literal8 (``~{n}``, RFC 3516): binary content, NUL allowed."""

    __slots__ = ()


Token: TypeAlias = "Atom | Quoted | Literal | list[Token]"  # a parenthesised list holds tokens


@dataclass(slots=True)
class Command:
    tag: str
    name: str  # upper case; "UID FETCH" for the UID variants
    args: list[Token]


@dataclass(slots=True)
class Continue:
    """A synchronizing literal was accepted: the client waits for ``+`` before sending it."""


@dataclass(slots=True)
class LargeLiteral:
    """A literal of at least :data:`LARGE_LITERAL` bytes was announced and accepted; with
    ``sync`` the client waits for ``+``, which the session sends once it may read it."""

    size: int
    sync: bool


@dataclass(slots=True)
class Refused:
    """A command refused before it was complete; send ``response`` and read on."""

    tag: str
    error: CommandError

    @property
    def response(self) -> bytes:
        return self.error.response(self.tag)


Event = Command | Continue | LargeLiteral | Refused
CONTINUE = Continue()


def _tag_of(line: bytes) -> str:
    word = line.split(b" ", 1)[0].decode("ascii", "replace")
    return word if TAG_RE.fullmatch(word) else "*"


def _name_of(line: bytes) -> str:
    words = line.split(b" ", 3)
    name = words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""
    if name == "UID" and len(words) > 2:
        name += " " + words[2].decode("ascii", "replace").upper()
    return name


class Framer:
    """Cuts the byte stream into commands (see the module docstring).

    ``literal_limit(name)`` gives the largest literal the named command may carry (the
    session lowers it before login); ``max_line`` bounds each line fragment.
    """

    __slots__ = (
        "_binary",
        "_discard",
        "_literal",
        "_overlong",
        "_parts",
        "_scanned",
        "_sink",
        "_size",
        "buffer",
        "literal_limit",
        "max_command",
        "max_line",
    )

    def __init__(
        self, literal_limit: Callable[[str], int], *, max_line: int = MAX_LINE, max_command: int = MAX_COMMAND
    ):
        self.buffer = bytearray()
        self.literal_limit = literal_limit
        self.max_line = max_line
        self.max_command = max_command
        self._parts: list[bytes] = []  # line, literal, line, literal, …, line
        self._binary: list[int] = []  # indexes in _parts of the literal8s
        self._literal: int | None = None  # bytes still due for the literal being read
        self._sink: io.BytesIO | None = None  # where the literal being read goes
        self._discard = False  # skipping the rest of a refused command
        self._overlong = False  # skipping the rest of a line that was too long
        self._scanned = 0  # bytes of the buffer known to hold no newline
        self._size = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def clear(self) -> None:
        """Forget everything buffered (after STARTTLS nothing sent in clear may count)."""
        self.buffer.clear()
        self._reset()

    @property
    def idle(self) -> bool:
        """True between commands, with nothing buffered."""
        return not self.buffer and not self._parts and self._literal is None and not self._discard

    def _reset(self) -> None:
        self._parts = []
        self._binary = []
        self._literal = None
        self._sink = None
        self._discard = False
        self._overlong = False
        self._scanned = 0
        self._size = 0

    def read_line(self) -> bytes | None:
        """A raw line outside the command grammar (an AUTHENTICATE response, IDLE's
        ``DONE``), without its line end; None until one is complete. A line longer than
        ``max_line`` raises :class:`CommandError` and is skipped."""
        end = self.buffer.find(b"\n", self._scanned)
        if end < 0:
            if len(self.buffer) > self.max_line:
                self._overlong = True
                del self.buffer[:]
                self._scanned = 0
                raise CommandError("Line too long")
            self._scanned = len(self.buffer)
            return None
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        self._scanned = 0
        if self._overlong:
            self._overlong = False
            raise CommandError("Line too long")
        return line[:-1] if line.endswith(b"\r") else line

    def next_event(self) -> Event | None:
        """The next thing to act on, or None when more bytes are needed."""
        buf = self.buffer
        while True:
            if self._literal is not None:
                due = self._literal
                if self._discard:
                    taken = min(due, len(buf))
                    del buf[:taken]
                    if taken < due:
                        self._literal = due - taken
                        return None
                    self._literal = None
                    continue
                if not self._take_literal(due):
                    return None
                continue
            end = buf.find(b"\n", self._scanned)
            if end < 0:
                return self._partial_line()
            line = bytes(buf[:end])
            del buf[: end + 1]
            self._scanned = 0
            if line.endswith(b"\r"):
                line = line[:-1]
            match = LITERAL_RE.search(line)
            if self._overlong:  # the end of a line already refused
                self._overlong = False
                self._discard = True
            if self._discard:
                if match is not None and match.group(3):
                    self._literal = int(match.group(2))  # sent anyway: skip it
                else:
                    self._reset()
                continue
            self._size += len(line)
            if match is None:
                if not self._parts and not line.strip():
                    continue  # a stray empty line between commands
                self._parts.append(line)
                return self._complete()
            self._parts.append(line[: match.start()])
            size, plus = int(match.group(2)), bool(match.group(3))
            if match.group(1):
                self._binary.append(len(self._parts))  # the index the literal will have
            first = self._parts[0]
            limit = self.literal_limit(_name_of(first))
            error = None
            if line[match.start() - 1 : match.start()] not in (b" ", b"("):
                error = CommandError("Misplaced literal")
            elif size > limit or self._size + size > self.max_command + limit:
                error = CommandError("Literal too large", status="NO", code="TOOBIG")
            if error is not None:
                refused = Refused(_tag_of(first), error)
                if plus:
                    self._discard = True
                    self._literal = size
                else:
                    self._reset()
                return refused
            self._size += size
            self._literal = size
            self._sink = io.BytesIO()
            if size >= LARGE_LITERAL:
                return LargeLiteral(size, not plus)
            if not plus:
                return CONTINUE

    def _take_literal(self, due: int) -> bool:
        """Move what has arrived of the literal being read to its sink; True once whole."""
        buf, sink = self.buffer, self._sink
        assert sink is not None
        taken = min(due, len(buf))
        if taken:
            with memoryview(buf) as view:
                sink.write(view[:taken])
            del buf[:taken]
        if taken < due:
            self._literal = due - taken
            return False
        self._parts.append(sink.getvalue())  # the sink's own bytes, not a copy
        self._literal = None
        self._sink = None
        return True

    def _partial_line(self) -> Refused | None:
        buf = self.buffer
        if len(buf) <= self.max_line:
            self._scanned = len(buf)
            return None
        refused = None
        if not self._overlong and not self._discard:
            first = self._parts[0] if self._parts else bytes(buf[:200])
            refused = Refused(_tag_of(first), CommandError("Line too long"))
        self._overlong = True
        del buf[: len(buf) - _SKIP_TAIL]
        self._scanned = 0
        return refused

    def _complete(self) -> Event:
        parts, binary = self._parts, self._binary
        self._reset()
        try:
            return tokenize(parts, binary)
        except CommandError as error:
            return Refused(_tag_of(parts[0]), error)


def tokenize(parts: list[bytes], binary: list[int] | tuple[int, ...] = ()) -> Command:
    """Tokens of a whole command: ``parts`` alternates line fragments and literals;
    ``binary`` lists the indexes of the literals sent as literal8 (``~{n}``)."""
    stack: list[list[Token]] = [[]]
    for index, part in enumerate(parts):
        if index % 2:
            stack[-1].append(Literal8(part) if index in binary else Literal(part))
            continue
        _scan(part, stack, after_literal=index > 0, before_literal=index < len(parts) - 1)
    if len(stack) != 1:
        raise CommandError("Unbalanced parentheses")
    tokens = stack[0]
    if not tokens or not isinstance(tokens[0], Atom) or not TAG_RE.fullmatch(tokens[0]):
        raise CommandError("Missing or invalid tag")
    if len(tokens) < 2 or not isinstance(tokens[1], Atom):
        raise CommandError("Missing command")
    tag, name, args = str(tokens[0]), tokens[1].upper(), tokens[2:]
    if name == "UID":
        if not args or not isinstance(command := args.pop(0), Atom):
            raise CommandError("Missing command after UID")
        name = "UID " + command.upper()
    if name != "APPEND" and any(b"\0" in part for i, part in enumerate(parts) if i % 2 and i not in binary):
        raise CommandError("NUL in a literal")  # APPEND's message is stored as received (as Dovecot does)
    return Command(tag, name, args)


def _scan(line: bytes, stack: list[list[Token]], *, after_literal: bool, before_literal: bool) -> None:
    """Add the tokens of one line fragment to ``stack`` (the open lists)."""
    i, n = 0, len(line)
    expect_separator = after_literal
    while i < n:
        c = line[i]
        if c == 0x20:
            i += 1
            expect_separator = False
            continue
        if c == 0x29:  # ")"
            if len(stack) == 1:
                raise CommandError("Unbalanced parentheses")
            closed = stack.pop()
            stack[-1].append(closed)
            i += 1
            expect_separator = True
            continue
        if expect_separator:
            raise CommandError("Missing space between arguments")
        if c == 0x28:  # "("
            stack.append([])
            i += 1
        elif c == 0x22:  # '"'
            quoted, i = _quoted(line, i + 1)
            stack[-1].append(quoted)
            expect_separator = True
        else:
            atom, i = _atom(line, i)
            stack[-1].append(atom)
            expect_separator = True
    if before_literal and expect_separator:
        raise CommandError("Missing space before a literal")


def _quoted(line: bytes, i: int) -> tuple[Quoted, int]:
    out = bytearray()
    n = len(line)
    while i < n:
        c = line[i]
        if c == 0x22:
            return Quoted(out), i + 1
        if c == 0x5C:  # backslash
            if i + 1 >= n or line[i + 1] not in (0x22, 0x5C):
                raise CommandError("Invalid escape in a quoted string")
            out.append(line[i + 1])
            i += 2
            continue
        if c in (0, 0x0D, 0x0A):  # TEXT-CHAR excludes CR and LF, CHAR excludes NUL
            raise CommandError("Invalid character in a quoted string")
        out.append(c)
        i += 1
    raise CommandError("Unterminated quoted string")


def _atom(line: bytes, i: int) -> tuple[Atom, int]:
    start, n = i, len(line)
    while i < n:
        c = line[i]
        if c in SEPARATORS:
            break
        if c < 0x20 or c == 0x7F:
            raise CommandError("Control character in a command")
        if c >= 0x80:
            raise CommandError("8-bit characters belong in quoted strings or literals")
        if c == 0x7B:  # "{" not at the end of the line
            raise CommandError("Misplaced literal")
        if c == 0x5B and line[start:i].upper() in SECTION_ITEMS:  # a section spec runs to its "]"
            close = line.find(b"]", i)
            if close < 0:
                raise CommandError("Unterminated [")
            if any(b >= 0x80 or b < 0x20 for b in line[i:close]):
                raise CommandError("Invalid character in a section")
            i = close + 1
            continue
        i += 1
    return Atom(line[start:i].decode("ascii")), i
