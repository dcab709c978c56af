"""RFC 5322 address lists read the way IMAP servers read them, on the raw bytes.

``email.utils.getaddresses`` flattens groups, decodes nothing consistently and gives up on
broken input in its own way; an IMAP ENVELOPE must instead keep each address as the
message wrote it (display names still RFC 2047-encoded, 8-bit bytes untouched), keep
groups in RFC 3501's group syntax, and read broken lists exactly as the servers clients
were built against do. This parser follows the grammar of RFC 5322 3.4 with the
tolerance of Dovecot 2.3, the reference our differential tests compare with:

- a comment after a bare ``addr-spec`` is its display name (``a@b (Ann)``);
- an address without a domain gets the host ``MISSING_DOMAIN``, one without a mailbox
  the mailbox ``MISSING_MAILBOX`` (a NIL host would mean group syntax to a client);
- an angle address that cannot be read gets the host ``SYNTAX_ERROR``, and reading stops
  at the first thing that is not an address;
- a group is its start ``(None, None, name, None)``, its members, and its end
  ``(None, None, None, None)``.

:func:`parse` never raises; a value is read once, front to back.
"""

from __future__ import annotations

from dataclasses import dataclass

_ATEXT = frozenset(b"!#$%&'*+-/=?^_`{|}~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") | frozenset(
    range(0x80, 0x100)
)
_SPACE = frozenset(b" \t\r\n")
MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
SYNTAX_ERROR = b"SYNTAX_ERROR"
INVALID_ROUTE = b"INVALID_ROUTE"
_AT, _DOT, _QUOTE, _COMMA, _SEMICOLON, _COLON, _LT, _GT = b'@."' + b",;:<>"
_OPEN, _CLOSE, _BACKSLASH, _LF, _CR, _BRACKET, _CLOSE_BRACKET = b"()\\\n\r[]"


@dataclass(slots=True)
class Address:
    """One entry of an address list, as IMAP's ENVELOPE has it: a group start has only a
    ``mailbox`` (the group's name), a group end has nothing."""

    name: bytes | None = None
    route: bytes | None = None
    mailbox: bytes | None = None
    domain: bytes | None = None
    invalid: bool = False

    @property
    def is_group_marker(self) -> bool:
        return self.domain is None


def parse(value: bytes) -> list[Address]:
    """The addresses of one header value (folding and all)."""
    return _Parser(value).addresses()


class _Parser:
    """A cursor over ``data``. Methods return as the grammar's reader in Dovecot does:
    1 when something follows, 0 at the end of the value, -1 on a syntax error."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.comment: bytearray | None = None  # the last comment read, while an addr-spec is
        self.found: list[Address] = []
        self.addr = Address()

    # --- lexical level (RFC 5322 3.2) ---------------------------------------------------

    def _at(self) -> int:
        return self.data[self.pos] if self.pos < self.end else -1

    def skip_comment(self) -> int:
        if self.comment is not None:
            del self.comment[:]
        self.pos += 1
        start, level = self.pos, 1
        while self.pos < self.end:
            char = self.data[self.pos]
            if char == _OPEN:
                level += 1
            elif char == _CLOSE:
                level -= 1
                if level == 0:
                    if self.comment is not None:
                        self.comment += self.data[start : self.pos]
                    self.pos += 1
                    return 1 if self.pos < self.end else 0
            elif char == _BACKSLASH:
                if self.comment is not None:
                    self.comment += self.data[start : self.pos]
                start = self.pos + 1
                self.pos += 1
                if self.pos >= self.end:
                    return -1
            self.pos += 1
        return -1

    def skip_space(self) -> int:
        """Folding white space and comments."""
        while self.pos < self.end:
            char = self.data[self.pos]
            if char in _SPACE:
                self.pos += 1
            elif char == _OPEN:
                if self.skip_comment() < 0:
                    return -1
            else:
                break
        return 1 if self.pos < self.end else 0

    def _atext_run(self, dots: bool) -> bytes:
        start = self.pos
        data, end = self.data, self.end
        while self.pos < end and (data[self.pos] in _ATEXT or (dots and data[self.pos] == _DOT)):
            self.pos += 1
        return data[start : self.pos]

    def dot_atom(self, out: bytearray) -> int:
        """RFC 5322's dot-atom, with RFC 822's white space around the dots."""
        if self._at() not in _ATEXT:
            return -1
        while True:
            out += self._atext_run(dots=False)
            if self.pos >= self.end:
                return 0
            if (ret := self.skip_space()) <= 0:
                return ret
            if self.data[self.pos] != _DOT:
                return 1
            self.pos += 1
            out.append(_DOT)
            if (ret := self.skip_space()) <= 0:
                return ret

    def quoted_string(self, out: bytearray) -> int:
        """A quoted-string's content: escapes removed, folding line breaks removed."""
        self.pos += 1
        start = self.pos
        data = self.data
        while self.pos < self.end:
            char = data[self.pos]
            if char == _QUOTE:
                out += data[start : self.pos]
                self.pos += 1
                return self.skip_space()
            if char == _LF:
                stop = self.pos - 1 if self.pos > start and data[self.pos - 1] == _CR else self.pos
                out += data[start:stop]
                start = self.pos + 1
            elif char == _BACKSLASH:
                self.pos += 1
                if self.pos >= self.end:
                    return -1
                out += data[start : self.pos - 1]
                start = self.pos
            self.pos += 1
        return -1

    def phrase(self, out: bytearray) -> int:
        """Words (atoms, dots and quoted strings) joined by single spaces."""
        if self.pos >= self.end:
            return 0
        if self.data[self.pos] == _DOT:
            return -1
        while True:
            if self.data[self.pos] == _QUOTE:
                ret = self.quoted_string(out)
            else:
                out += self._atext_run(dots=True)
                ret = self.skip_space() if self.pos < self.end else 0
            if ret <= 0:
                return ret
            char = self.data[self.pos]
            if char not in _ATEXT and char not in (_QUOTE, _DOT):
                break
            out.append(0x20)
        return self.skip_space()

    def domain_literal(self, out: bytearray) -> int:
        start = self.pos
        while self.pos < self.end:
            char = self.data[self.pos]
            if char == _BACKSLASH:
                self.pos += 1
                if self.pos >= self.end:
                    break
            elif char == _CLOSE_BRACKET:
                self.pos += 1
                out += self.data[start : self.pos]
                return self.skip_space()
            self.pos += 1
        return -1

    def domain(self, out: bytearray) -> int:
        self.pos += 1  # the "@"
        if self.skip_space() <= 0:
            return -1
        if self.data[self.pos] == _BRACKET:
            return self.domain_literal(out)
        return self.dot_atom(out)

    # --- addresses (RFC 5322 3.4) -------------------------------------------------------

    def local_part(self) -> int:
        out = bytearray()
        ret = self.quoted_string(out) if self._at() == _QUOTE else self.dot_atom(out)
        if ret < 0:
            return -1
        self.addr.mailbox = bytes(out)
        return ret

    def parse_domain(self) -> int:
        out = bytearray()
        if (ret := self.domain(out)) < 0:
            return -1
        self.addr.domain = bytes(out)
        return ret

    def route(self) -> int:
        """obs-domain-list: ``@a,@b`` before the ``:`` of an angle address."""
        out = bytearray()
        while True:
            if self.pos >= self.end:
                return 0
            if self.data[self.pos] != _AT:
                break
            if out:
                out.append(_COMMA)
            out.append(_AT)
            if (ret := self.domain(out)) <= 0:
                return ret
            while self.skip_space() > 0 and self.data[self.pos] == _COMMA:
                self.pos += 1
        self.addr.route = bytes(out)
        return 1

    def angle_addr(self) -> int:
        self.pos += 1  # the "<"
        if self.skip_space() <= 0:
            return -1
        if self.data[self.pos] == _AT:
            if self.route() > 0 and self.data[self.pos] == _COLON:
                self.pos += 1
            else:
                self.addr.route = INVALID_ROUTE
                if self.pos >= self.end:
                    return -1
            if self.skip_space() <= 0:
                return -1
        if self.data[self.pos] != _GT:  # "<>" is no address, but it is read as one
            if self.local_part() <= 0:
                return -1
            if self.data[self.pos] == _AT and self.parse_domain() <= 0:
                return -1
        if self.data[self.pos] != _GT:
            return -1
        self.pos += 1
        return self.skip_space()

    def name_addr(self) -> int:
        out = bytearray()
        if self.phrase(out) <= 0 or self.data[self.pos] != _LT:
            return -1
        self.addr.name = bytes(out) or None
        if self.angle_addr() < 0:
            self.addr.domain = SYNTAX_ERROR
            self.addr.invalid = True
        return 1 if self.pos < self.end else 0

    def addr_spec(self) -> int:
        self.comment = bytearray()
        quoted = self._at() == _QUOTE
        out = bytearray()
        ret = self.quoted_string(out) if quoted else self.dot_atom(out)
        if ret >= 0:
            self.addr.mailbox = bytes(out)
        else:
            self.addr.invalid = True
        after_domain = None
        if ret != 0 and self._at() == _AT:
            after_domain = self.parse_domain()
            if after_domain <= 0:
                ret = after_domain
        if self.comment:
            self.addr.name = bytes(self.comment)
        elif after_domain is None:
            # A lone word is a mailbox without a domain; more words make it a name.
            out.append(0x20)
            length = len(out)
            self.phrase(out)
            if len(out) != length:
                self.addr.mailbox = None
                self.addr.name = bytes(out)
            elif not quoted:
                self.addr.domain = b""
            self.addr.invalid = True
            ret = -1
        self.comment = None
        return ret

    def add(self, address: Address) -> None:
        self.found.append(address)
        self.addr = Address()

    def add_fixed(self) -> None:
        address = self.addr
        if address.mailbox is None:
            address.mailbox, address.invalid = MISSING_MAILBOX, True
        if not address.domain:
            address.domain, address.invalid = MISSING_DOMAIN, True
        self.add(address)

    def mailbox(self) -> int:
        start = self.pos
        if (ret := self.name_addr()) < 0:
            self.pos = start
            ret = self.addr_spec()
            address = self.addr
            if address.invalid and address.name is None and address.mailbox is not None and address.domain is None:
                address.name, address.mailbox = address.mailbox, None
        if ret < 0:
            self.addr.invalid = True
        self.add_fixed()
        return ret

    def group(self) -> int:
        out = bytearray()
        if self.phrase(out) <= 0 or self.data[self.pos] != _COLON:
            return -1
        self.pos += 1
        ret = self.skip_space()
        self.add(Address(mailbox=bytes(out), invalid=ret <= 0))
        if ret > 0 and self.data[self.pos] != _SEMICOLON:
            while True:
                self.mailbox()  # a broken member: go on with the next
                if self._at() != _COMMA:
                    break
                self.pos += 1
                if self.skip_space() <= 0:
                    ret = -1
                    break
        if ret >= 0:
            if self._at() != _SEMICOLON:
                ret = -1
            else:
                self.pos += 1
                ret = self.skip_space()
        self.add(Address(invalid=ret < 0))
        return 0 if ret == 0 else 1

    def address(self) -> int:
        start = self.pos
        if (ret := self.group()) < 0:
            self.pos = start
            self.addr = Address()
            ret = self.mailbox()
        return ret

    def addresses(self) -> list[Address]:
        if self.skip_space() <= 0:
            return []
        while self.address() != 0:
            if self._at() != _COMMA:
                break
            self.pos += 1
            if (ret := self.skip_space()) <= 0:
                if ret < 0:  # ends in an unclosed comment
                    self.add_fixed()
                break
        return self.found


def write(addresses: list[Address]) -> bytes:
    """The list as one line of text: ``Name <mailbox@domain>``, ``mailbox@domain``, and
    ``group: members;`` (names as parsed: still RFC 2047-encoded)."""
    pieces: list[bytes] = []
    in_group = False
    for address in addresses:
        if address.is_group_marker:
            if not in_group:
                pieces.append((b", " if pieces else b"") + (address.mailbox or b"") + b":")
                first_member = True
            else:
                pieces.append(b";")
            in_group = not in_group
            continue
        text = (address.mailbox or b"") + b"@" + (address.domain or b"")
        if address.route:
            text = address.route + b":" + text
        if address.name or address.route:
            text = (address.name + b" " if address.name else b"") + b"<" + text + b">"
        separator = b" " if in_group and first_member else b", " if pieces else b""
        first_member = False
        pieces.append(separator + text)
    return b"".join(pieces)
