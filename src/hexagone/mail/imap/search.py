"""SEARCH criteria (RFC 3501 6.4.4, with CONDSTORE's MODSEQ and RFC 4731's RETURN
options) read into a small tree that :mod:`hexagone.mail.imap.query` turns into SQL.

A search holds at most :data:`MAX_KEYS` keys (``NO [LIMIT]`` beyond, RFC 5530): each key
is a term of the SQL statement, and a statement of thousands of terms costs the database
more than any client's need justifies (SQLite refuses one deeper than 1,000 levels).

Strings are decoded in the announced charset (UTF-8 or US-ASCII; anything else is
``NO [BADCHARSET]``). Sequence sets stay unresolved here: they mean different messages
in different sessions, so the session maps them when it runs the search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hexagone.mail.imap.arguments import Args, SequenceSet, parse_date
from hexagone.mail.imap.parser import Atom, CommandError, Literal, Quoted, Token

CHARSETS = ("UTF-8", "US-ASCII")
FLAG_KEYS = {
    "ANSWERED": ("answered", True),
    "DELETED": ("deleted", True),
    "DRAFT": ("draft", True),
    "FLAGGED": ("flagged", True),
    "SEEN": ("seen", True),
    "UNANSWERED": ("answered", False),
    "UNDELETED": ("deleted", False),
    "UNDRAFT": ("draft", False),
    "UNFLAGGED": ("flagged", False),
    "UNSEEN": ("seen", False),
}
ADDRESS_KEYS = {"FROM": "from_addr", "TO": "to_addrs", "CC": "cc_addrs", "BCC": "bcc_addrs", "SUBJECT": "subject"}
DATE_KEYS = {
    "BEFORE": ("internal_date", "<"),
    "ON": ("internal_date", "="),
    "SINCE": ("internal_date", ">="),
    "SENTBEFORE": ("sent_date", "<"),
    "SENTON": ("sent_date", "="),
    "SENTSINCE": ("sent_date", ">="),
}
RETURN_OPTIONS = ("MIN", "MAX", "COUNT", "ALL", "SAVE")
MAX_DEPTH = 50
MAX_KEYS = 250


@dataclass(frozen=True, slots=True)
class Criterion:
    """One search key: ``kind`` names it, ``args`` are its already typed arguments."""

    kind: str  # all, flag, keyword, field, header, body, text, date, size, uid, seq, recent, new, old, modseq
    args: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    node: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And:
    nodes: tuple[Node, ...]


Node = Criterion | Not | Or | And


@dataclass(slots=True)
class SearchRequest:
    criteria: Node
    returns: list[str] | None = None  # None: a plain SEARCH answer; a list: ESEARCH
    charset: str = "US-ASCII"
    uses_modseq: bool = False
    options: set[str] = field(default_factory=set)


def parse_search(args: Args) -> SearchRequest:
    returns: list[str] | None = None
    if isinstance(args.peek(), Atom) and args.peek().upper() == "RETURN":  # type: ignore[union-attr]
        args.next("RETURN")
        returns = []
        for option in args.list("RETURN options"):
            if not isinstance(option, Atom) or option.upper() not in RETURN_OPTIONS:
                raise CommandError("Unknown RETURN option")
            returns.append(option.upper())
        if not returns:
            returns = ["ALL"]
    charset = "US-ASCII"
    if isinstance(args.peek(), Atom) and args.peek().upper() == "CHARSET":  # type: ignore[union-attr]
        args.next("CHARSET")
        charset = args.text("charset").upper()
        if charset not in CHARSETS:
            raise CommandError("Unsupported charset", status="NO", code="BADCHARSET (UTF-8 US-ASCII)")
    reader = _Reader(args.tokens[args.pos :], charset)
    nodes = []
    while reader.more():
        nodes.append(reader.key(0))
    if not nodes:
        raise CommandError("Missing search criteria")
    args.pos = len(args.tokens)
    criteria = nodes[0] if len(nodes) == 1 else And(tuple(nodes))
    return SearchRequest(criteria, returns, charset, reader.uses_modseq)


class _Reader:
    def __init__(self, tokens: list[Token], charset: str):
        self.tokens = tokens
        self.pos = 0
        self.charset = charset
        self.uses_modseq = False
        self.keys = 0

    def more(self) -> bool:
        return self.pos < len(self.tokens)

    def _next(self, what: str) -> Token:
        if self.pos >= len(self.tokens):
            raise CommandError(f"Missing {what}")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _string(self, what: str) -> str:
        token = self._next(what)
        if isinstance(token, list):
            raise CommandError(f"Invalid {what}")
        data = token.encode() if isinstance(token, Atom) else bytes(token)
        try:
            return data.decode("utf-8" if self.charset == "UTF-8" else "ascii")
        except UnicodeDecodeError:
            raise CommandError(
                f"{what} is not valid {self.charset}", status="NO", code="BADCHARSET (UTF-8 US-ASCII)"
            ) from None

    def _atom(self, what: str) -> str:
        token = self._next(what)
        if not isinstance(token, Atom):
            raise CommandError(f"Invalid {what}")
        return token

    def _number(self, what: str) -> int:
        text = self._atom(what)
        if not text.isdigit() or not text.isascii() or int(text) > 2**63 - 1:
            raise CommandError(f"Invalid {what}")
        return int(text)

    def _date(self) -> date:
        token = self._next("date")
        if isinstance(token, list):
            raise CommandError("Invalid date")
        return parse_date(bytes(token).decode("ascii", "replace") if isinstance(token, Quoted | Literal) else token)

    def key(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise CommandError("Search criteria nested too deeply")
        self.keys += 1
        if self.keys > MAX_KEYS:
            raise CommandError(f"Too many search keys (at most {MAX_KEYS})", status="NO", code="LIMIT")
        token = self._next("search key")
        if isinstance(token, list):
            return self._group(token, depth)
        if not isinstance(token, Atom):
            raise CommandError("Invalid search key")
        name = token.upper()
        if name in FLAG_KEYS:
            return Criterion("flag", FLAG_KEYS[name])
        if name in ADDRESS_KEYS:
            return Criterion("field", (ADDRESS_KEYS[name], self._string(name)))
        if name in DATE_KEYS:
            column, op = DATE_KEYS[name]
            return Criterion("date", (column, op, self._date()))
        if name in ("ALL", "RECENT", "NEW", "OLD"):
            return Criterion(name.lower())
        if name in ("KEYWORD", "UNKEYWORD"):
            return Criterion("keyword", (self._atom("keyword"), name == "KEYWORD"))
        if name in ("BODY", "TEXT"):
            return Criterion(name.lower(), (self._string(name),))
        if name == "HEADER":
            field_name = self._string("header field name")
            return Criterion("header", (field_name, self._string("header value")))
        if name in ("LARGER", "SMALLER"):
            return Criterion("size", (">" if name == "LARGER" else "<", self._number("size")))
        if name == "UID":
            return Criterion("uid", (SequenceSet.parse(self._atom("UID set")),))
        if name == "NOT":
            return Not(self.key(depth + 1))
        if name == "OR":
            return Or(self.key(depth + 1), self.key(depth + 1))
        if name == "MODSEQ":
            self.uses_modseq = True
            if self.pos < len(self.tokens) and isinstance(self.tokens[self.pos], Quoted):
                self.pos += 2  # entry name and type: this server keeps one modseq per message
            return Criterion("modseq", (self._number("mod-sequence"),))
        if name[:1].isdigit() or name[:1] == "*":
            return Criterion("seq", (SequenceSet.parse(token),))
        raise CommandError(f"Unknown search key {name[:40]}")

    def _group(self, tokens: list[Token], depth: int) -> Node:
        """A parenthesised list of keys, read by this reader so that the count of keys
        and the use of MODSEQ cover the whole search."""
        outer = self.tokens, self.pos
        self.tokens, self.pos = tokens, 0
        try:
            nodes = []
            while self.more():
                nodes.append(self.key(depth + 1))
        finally:
            self.tokens, self.pos = outer
        if not nodes:
            raise CommandError("Empty parenthesised search key")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
