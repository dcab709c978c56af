"""The MIME header fields BODYSTRUCTURE reports, read as Dovecot 2.3 reads them.

Clients compare what an IMAP server says about a message with what they saw before (the
same message on the old Dovecot server, in their cache), so a MIME field is read exactly
as Dovecot's ``rfc822-parser.c`` and ``rfc2231-parser.c`` read it: type, subtype,
parameter names and values as the message wrote them (case kept, RFC 2231 pieces joined
into one ``name*`` but left encoded, 8-bit bytes untouched), and the same answer for
every broken field (a parameter without ``=`` dropped, a Content-Type with junk after
the subtype kept as an empty type). Everything works on bytes; a NUL ends a token, as in
C strings, and becomes U+FFFD in a quoted string or a whole value.
"""

from __future__ import annotations

from dataclasses import dataclass

# Dovecot's rfc822_atext_chars: 1 atext, 2 letters and digits (and 8-bit), 4 atext that
# MIME counts among its tspecials ("/", "=", "?").
_ATEXT = bytes(
    [0] * 33
    + [1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 4]  # ! " # $ % & ' ( ) * + , - . /
    + [2] * 10
    + [0, 0, 0, 4, 0, 4, 0]  # : ; < = > ? @
    + [2] * 26
    + [0, 0, 0, 1, 1, 1]  # [ \ ] ^ _ `
    + [2] * 26
    + [1, 1, 1, 1, 0]  # { | } ~ DEL
    + [2] * 128
)
_LWSP = b" \t\r\n"
_REPLACEMENT = "\ufffd".encode()  # what Dovecot puts for a NUL where it keeps the text
Params = list[tuple[bytes, bytes]]


def _c_string(value: bytes) -> bytes:
    """What a C string holds of ``value``: the bytes before the first NUL."""
    nul = value.find(b"\0")
    return value if nul < 0 else value[:nul]


class Reader:
    """A cursor over one header value, with the primitives of ``rfc822-parser.c``: each
    returns 1 when more follows, 0 at the end, -1 on a syntax error."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    @property
    def more(self) -> bool:
        return self.pos < len(self.data)

    def peek(self) -> int:
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def skip_comment(self) -> int:
        level = 1
        data = self.data
        self.pos += 1
        while self.pos < len(data):
            char = data[self.pos]
            if char == 0x28:  # (
                level += 1
            elif char == 0x29:  # )
                level -= 1
                if level == 0:
                    self.pos += 1
                    return 1 if self.more else 0
            elif char == 0x5C:  # backslash
                self.pos += 1
                if self.pos >= len(data):
                    return -1
            self.pos += 1
        return -1

    def skip_lwsp(self) -> int:
        data = self.data
        while self.pos < len(data):
            char = data[self.pos]
            if char in _LWSP:
                self.pos += 1
            elif char == 0x28:
                if self.skip_comment() < 0:
                    return -1
            else:
                break
        return 1 if self.more else 0

    def _run(self, tspecials: bool, dot: bool) -> bytes:
        start = self.pos
        data = self.data
        mask = 3 if tspecials else 7
        while self.pos < len(data) and (_ATEXT[data[self.pos]] & mask or (dot and data[self.pos] == 0x2E)):
            self.pos += 1
        return data[start : self.pos]

    def mime_token(self) -> tuple[int, bytes]:
        """A MIME token (RFC 2045: atext less the tspecials, dots allowed), maybe empty."""
        token = self._run(True, True)
        return self.skip_lwsp(), token

    def atom(self) -> tuple[int, bytes]:
        if not self.more or not _ATEXT[self.data[self.pos]]:
            return -1, b""
        token = self._run(False, False)
        return self.skip_lwsp(), token

    def quoted_string(self) -> tuple[int, bytes]:
        """The content of a quoted string: quoted pairs undone, folding (CR)LFs removed,
        a NUL replaced by U+FFFD."""
        data = self.data
        self.pos += 1
        out = bytearray()
        start = self.pos
        while self.pos < len(data):
            char = data[self.pos]
            if char == 0x22:  # closing quote
                out += data[start : self.pos]
                self.pos += 1
                return self.skip_lwsp(), bytes(out)
            if char == 0x00:  # Dovecot's replacement for a NUL
                out += data[start : self.pos] + _REPLACEMENT
                start = self.pos + 1
            elif char == 0x0A:
                end = self.pos - 1 if self.pos > start and data[self.pos - 1] == 0x0D else self.pos
                out += data[start:end]
                start = self.pos + 1
            elif char == 0x5C:
                self.pos += 1
                if self.pos >= len(data):
                    return -1, bytes(out)
                out += data[start : self.pos - 1]
                start = self.pos
            self.pos += 1
        return -1, bytes(out)

    def content_param(self) -> tuple[int, bytes, bytes]:
        """``; name=value`` (value a token, a quoted string, or Dovecot's allowance for
        an unquoted encoded word ``name==?utf-8?…``)."""
        if not self.more:
            return 0, b"", b""
        if self.peek() != 0x3B:  # ;
            return -1, b"", b""
        self.pos += 1
        if self.skip_lwsp() <= 0:
            return -1, b"", b""
        found, key = self.mime_token()
        if found <= 0 or self.peek() != 0x3D:  # =
            return -1, b"", b""
        self.pos += 1
        found = self.skip_lwsp()
        value = b""
        if found <= 0:
            pass  # no value
        elif self.peek() == 0x22:
            found, value = self.quoted_string()
        elif self.peek() == 0x3D:
            start = self.pos
            while self.more and self.peek() not in b"; \t\r\n":
                self.pos += 1
            value = self.data[start : self.pos]
        else:
            found, value = self.mime_token()
        return (-1 if found < 0 else 1), key, value


def params(reader: Reader) -> Params:
    """The parameters after a type or a disposition, as ``rfc2231_parse`` gives them:
    plain ones in order, then the RFC 2231 ones (``name*``, ``name*0``, ``name*1*``…)
    sorted and each name's pieces joined into ``name`` (or ``name*`` when a piece is
    encoded; values stay encoded). A name whose pieces are not numbered 0, 1, 2… is
    given piece by piece. A broken parameter is skipped a byte at a time."""
    result: Params = []
    pieces: list[tuple[bytes, int, bool, bytes]] = []  # (name, index, encoded, value)
    index, extended = 0, False  # carried over from one parameter to the next, as Dovecot does
    while (found := reader.content_param())[0] != 0:
        status, key, value = found
        if status < 0:
            if not reader.more:
                break
            reader.pos += 1
            continue
        key, value = _c_string(key), _c_string(value)
        star = key.find(b"*")
        if star < 0:
            result.append((key, value))
            continue
        position = star
        if position + 1 < len(key):
            position += 1
            index = 0
            while position < len(key) and 0x30 <= key[position] <= 0x39:
                index = index * 10 + key[position] - 0x30
                position += 1
        extended = position < len(key) and key[position] == 0x2A
        position += extended
        if position == len(key):
            pieces.append((key[:star], index, extended, value))
        else:
            result.append((key, value))
    return result + _joined(pieces)


def _joined(pieces: list[tuple[bytes, int, bool, bytes]]) -> Params:
    pieces.sort(key=lambda piece: (piece[0], piece[1]))
    result: Params = []
    start = 0
    while start < len(pieces):
        name = pieces[start][0].lower()
        stop = start
        while stop < len(pieces) and pieces[stop][0].lower() == name:
            stop += 1
        group = pieces[start:stop]
        start = stop
        encoded = any(piece[2] for piece in group)
        if any(piece[1] != number for number, piece in enumerate(group)):
            result += [(b"%s*%d%s" % (key, i, b"*" if ext else b""), value) for key, i, ext, value in group]
            continue
        value = b"''" if encoded and not group[0][2] else b""
        value += b"".join(v.replace(b"%", b"%25") if encoded and not ext else v for _, _, ext, v in group)
        result.append((group[0][0] + (b"*" if encoded else b""), value))
    return result


@dataclass
class ContentType:
    """A Content-Type as Dovecot keeps it: ``text`` is what its parser returned (maybe
    only the type, maybe empty when the field was broken), ``params`` only when it parsed."""

    text: bytes
    params: Params | None

    @property
    def type(self) -> bytes:
        return self.text.partition(b"/")[0]

    @property
    def subtype(self) -> bytes:
        return self.text.partition(b"/")[2]


def content_type(value: bytes) -> ContentType:
    reader = Reader(value)
    if reader.skip_lwsp() <= 0:
        return ContentType(b"", None)
    found, main = reader.mime_token()
    if found <= 0:
        return ContentType(main, None)  # "text" alone: the type is kept
    if not main or reader.peek() != 0x2F:  # /
        return ContentType(b"", None)
    reader.pos += 1
    if reader.skip_lwsp() <= 0:
        return ContentType(b"", None)
    found, sub = reader.mime_token()
    if found < 0 or not sub or (found > 0 and reader.peek() != 0x3B):
        return ContentType(b"", None)
    return ContentType(_c_string(main + b"/" + sub), params(reader))


def transfer_encoding(value: bytes) -> bytes | None:
    """A lone token, else nothing (the part is then said to be 7bit)."""
    reader = Reader(value)
    reader.skip_lwsp()
    found, token = reader.mime_token()
    return _c_string(token) or None if found == 0 and token else None


def disposition(value: bytes) -> tuple[bytes, Params] | None:
    reader = Reader(value)
    reader.skip_lwsp()
    found, token = reader.mime_token()
    if found < 0:
        return None
    return _c_string(token), params(reader)


def language(value: bytes) -> list[bytes] | None:
    """The atoms of a comma-separated list, up to the first that is not one."""
    reader = Reader(value)
    reader.skip_lwsp()
    tags = []
    while True:
        found, tag = reader.atom()
        if found < 0:
            break
        tags.append(_c_string(tag))
        if not reader.more or reader.peek() != 0x2C:  # ,
            break
        reader.pos += 1
        reader.skip_lwsp()
    return tags or None


def unfolded(value: bytes) -> bytes:
    """A value sent as an nstring (Content-ID, -Description, -MD5, -Location): without
    its line breaks, a NUL replaced by U+FFFD."""
    return value.replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", _REPLACEMENT)
