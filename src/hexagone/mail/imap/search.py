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

import re
from dataclasses import dataclass, field
from datetime import date

from hexagone.mail.imap.arguments import MAX_NZ, Args, SequenceSet, parse_date
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
    # the day of the Date header in its own time zone (RFC 3501 6.4.4: "disregarding time and timezone")
    "SENTBEFORE": ("sent_on", "<"),
    "SENTON": ("sent_on", "="),
    "SENTSINCE": ("sent_on", ">="),
    # when the message came into its folder (RFC 8514)
    "SAVEDBEFORE": ("saved_at", "<"),
    "SAVEDON": ("saved_at", "="),
    "SAVEDSINCE": ("saved_at", ">="),
}
RETURN_OPTIONS = ("MIN", "MAX", "COUNT", "ALL", "SAVE", "PARTIAL", "UPDATE")  # UPDATE: RFC 5267 4
MAX_DEPTH = 50
MAX_KEYS = 250


@dataclass(frozen=True, slots=True)
class Criterion:
    """One search key: ``kind`` names it, ``args`` are its already typed arguments."""

    # all, flag, keyword, field, header, body, text, date, within, size, uid, seq, saved, recent, new, old, modseq,
    # objectid
    kind: str
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
class Returns:
    """RFC 4731's RETURN options; PARTIAL (RFC 9394, and RFC 5267's positive form) is
    the range of the result to send, counted from its end when negative."""

    options: list[str] = field(default_factory=list)
    partial: tuple[int, int] | None = None


@dataclass(slots=True)
class SearchRequest:
    criteria: Node
    returns: Returns | None = None  # None: a plain SEARCH answer; else ESEARCH
    charset: str = "US-ASCII"
    uses_modseq: bool = False


def parse_returns(args: Args) -> Returns | None:
    """``RETURN (options)`` when it comes next (``RETURN ()`` means ALL)."""
    if not (isinstance(args.peek(), Atom) and args.peek().upper() == "RETURN"):  # type: ignore[union-attr]
        return None
    args.next("RETURN")
    returns = Returns()
    options = args.list("RETURN options")
    while options:
        option = options.pop(0)
        if not isinstance(option, Atom) or option.upper() not in RETURN_OPTIONS:
            raise CommandError("Unknown RETURN option")
        if option.upper() == "PARTIAL":
            returns.partial = _partial_range(options.pop(0) if options else None)
        returns.options.append(option.upper())
    if not returns.options:
        returns.options = ["ALL"]
    return returns


def _partial_range(token: Token | None) -> tuple[int, int]:
    """RFC 9394 ``partial-range``: ``first:last``, both positive or both negative."""
    match = re.fullmatch(r"(-?)(\d{1,10}):(-?)(\d{1,10})", token if isinstance(token, Atom) else "")
    if match is None or match.group(1) != match.group(3) or "0" in (match.group(2), match.group(4)):
        raise CommandError("Invalid PARTIAL range")
    low, high = sorted((int(match.group(2)), int(match.group(4))))
    if high > MAX_NZ:
        raise CommandError("Invalid PARTIAL range")
    return (-low, -high) if match.group(1) else (low, high)


def check_charset(charset: str) -> str:
    if charset.upper() not in CHARSETS:
        raise CommandError("Unsupported charset", status="NO", code="BADCHARSET (UTF-8 US-ASCII)")
    return charset.upper()


def parse_criteria(args: Args, charset: str, *, recent: bool = True) -> tuple[Node, bool]:
    """The search keys up to the end of the command, and whether MODSEQ is one of them.
    ``recent`` False (an IMAP4rev2 session): RECENT, NEW and OLD are no keys (RFC 9051
    has no \\Recent flag)."""
    reader = _Reader(args.tokens[args.pos :], charset, recent)
    nodes = []
    while reader.more():
        nodes.append(reader.key(0))
    if not nodes:
        raise CommandError("Missing search criteria")
    args.pos = len(args.tokens)
    return (nodes[0] if len(nodes) == 1 else And(tuple(nodes))), reader.uses_modseq


def parse_search(args: Args, *, recent: bool = True) -> SearchRequest:
    """SEARCH's arguments: ``[RETURN (...)] [CHARSET name] keys``."""
    returns = parse_returns(args)
    charset = "US-ASCII"
    if isinstance(args.peek(), Atom) and args.peek().upper() == "CHARSET":  # type: ignore[union-attr]
        args.next("CHARSET")
        charset = check_charset(args.text("charset"))
    criteria, uses_modseq = parse_criteria(args, charset, recent=recent)
    return SearchRequest(criteria, returns, charset, uses_modseq)


class _Reader:
    def __init__(self, tokens: list[Token], charset: str, recent: bool):
        self.tokens = tokens
        self.pos = 0
        self.charset = charset
        self.recent = recent
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
            if name != "ALL" and not self.recent:
                raise CommandError(f"{name} is not an IMAP4rev2 search key")
            return Criterion(name.lower())
        if name == "SAVEDATESUPPORTED":  # every folder keeps the save date (RFC 8514)
            return Criterion("all")
        if name in ("OLDER", "YOUNGER"):  # RFC 5032, in seconds
            return Criterion("within", ("<=" if name == "OLDER" else ">", self._number("interval")))
        if name == "$":  # the saved result (RFC 5182)
            return Criterion("seq", (SequenceSet.parse(name),))
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
        if name in ("EMAILID", "THREADID"):  # RFC 8474 6
            return Criterion("objectid", (name, self._atom("objectid")))
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
