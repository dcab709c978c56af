"""SEARCH criteria as SQL over the message rows.

Everything but two keys is a condition on a column: flags are booleans, FROM/TO/CC/BCC/
SUBJECT the decoded address and subject columns, BODY the search text (every text part,
:mod:`hexagone.mail.searchtext`), dates and sizes plain columns. HEADER (any field) and
TEXT (headers, those of the MIME parts too, and bodies) are answered in Python from the
stored header blocks; when such a key sits under OR or NOT with SQL keys, the SQL part
is selected as a boolean column and combined in Python, so every search stays one query.

The SQL never grows with the client's input beyond a fixed bound: the number of keys is
capped when they are read (:data:`~hexagone.mail.imap.search.MAX_KEYS`), and a sequence or
UID set of more than :data:`SQL_RANGES` ranges is matched in Python against the UID of each
row, rather than as thousands of ORed terms (SQLite refuses an expression deeper than
1,000 levels, and the statement would carry every number as a parameter).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, true
from sqlalchemy import Text as SqlText
from sqlalchemy import cast as sql_cast

from hexagone.mail import fulltext
from hexagone.mail.imap.objectid import email_hash_prefix, thread_uuid
from hexagone.mail.imap.search import And, Criterion, Node, Not, Or
from hexagone.mail.imap.structure import header_fields
from hexagone.mail.mime import decode_header_value
from hexagone.mail.models import Message

UidRanges = list[tuple[int, int]]
Predicate = Callable[[Any], bool]
SQL_RANGES = 20  # a sequence set of more ranges is matched in Python


@dataclass
class Context:
    """What a search needs from the session: sequence numbers and \\Recent are per session."""

    seq_ranges: Callable[[object], UidRanges]  # a SequenceSet of message numbers → UID ranges
    uid_ranges: Callable[[object], UidRanges]  # a SequenceSet of UIDs → UID ranges
    recent: Sequence[int] = ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # OLDER and YOUNGER count from it


@dataclass
class Compiled:
    where: ColumnElement[bool]
    predicate: Predicate | None  # rows must also satisfy this, in Python
    columns: list[Any] = field(default_factory=list)  # what the predicate reads


def merge(ranges: Iterable[tuple[int, int]]) -> UidRanges:
    """Ranges sorted, overlapping and adjacent ones joined."""
    merged: UidRanges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def uid_condition(ranges: UidRanges) -> ColumnElement[bool]:
    if not ranges:
        return false()
    return or_(*[Message.uid == lo if lo == hi else Message.uid.between(lo, hi) for lo, hi in ranges])


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    """Whether ``column`` contains ``needle`` in any case; narrowed first through the
    full-text index where it covers the column (:mod:`hexagone.mail.fulltext`)."""
    needle = needle.lower()
    exact = func.lower(column).contains(needle, autoescape=True)
    narrowed = fulltext.may_contain(column.key, needle)
    return exact if narrowed is None else and_(narrowed, exact)


def _on(column: Any, op: str, day: Any) -> ColumnElement[bool]:
    """A date-time column before, on or since a day (UTC)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if op == "<":
        return column < start
    if op == ">=":
        return column >= start
    return and_(column >= start, column < start + timedelta(days=1))


class _Compiler:
    def __init__(self, context: Context):
        self.context = context
        self.columns: list[Any] = []
        self.labels = 0

    def compile(self, node: Node) -> ColumnElement[bool] | Predicate:
        """SQL when the whole subtree is SQL, else a Python predicate over the row."""
        if isinstance(node, Criterion):
            return self.criterion(node)
        if isinstance(node, Not):
            inner = self.compile(node.node)
            if isinstance(inner, ColumnElement):
                return not_(inner)
            return lambda row: not inner(row)
        parts = [self.compile(n) for n in ((node.left, node.right) if isinstance(node, Or) else node.nodes)]
        if all(isinstance(p, ColumnElement) for p in parts):
            return or_(*parts) if isinstance(node, Or) else and_(*parts)  # type: ignore[arg-type]
        predicates = [p if not isinstance(p, ColumnElement) else self.selected(p) for p in parts]
        if isinstance(node, Or):
            return lambda row: any(p(row) for p in predicates)
        return lambda row: all(p(row) for p in predicates)

    def selected(self, condition: ColumnElement[bool]) -> Predicate:
        """A SQL condition read back as a column, for a predicate that mixes it in."""
        self.labels += 1
        label = f"c{self.labels}"
        self.columns.append(case((condition, 1), else_=0).label(label))
        return lambda row: bool(getattr(row, label))

    def need(self, column: Any) -> None:
        if column not in self.columns:
            self.columns.append(column)

    def criterion(self, node: Criterion) -> ColumnElement[bool] | Predicate:
        kind, args = node.kind, node.args
        if kind == "all":
            return true()
        if kind == "flag":
            column, value = args
            return getattr(Message, str(column)).is_(bool(value))
        if kind == "keyword":
            keyword, present = args
            condition = func.lower(sql_cast(Message.keywords, SqlText)).contains(
                json.dumps(str(keyword).lower()), autoescape=True
            )
            return condition if present else not_(condition)
        if kind == "field":
            column, needle = args
            return _contains(getattr(Message, str(column)), str(needle))
        if kind == "body":
            return _contains(Message.search_text, str(args[0]))
        if kind == "date":
            column_name, op, day = args
            column = getattr(Message, str(column_name))
            if column_name == "sent_on":  # a day already; a row delivered without it has the UTC instant
                on_day = column < day if op == "<" else column >= day if op == ">=" else column == day
                # Never NULL (a message without a date is false, not unknown), so that NOT works.
                return or_(
                    and_(column.is_not(None), on_day),
                    and_(column.is_(None), Message.sent_date.is_not(None), _on(Message.sent_date, str(op), day)),
                )
            return _on(column, str(op), day)
        if kind == "within":
            op, seconds = args
            cutoff = self.context.now - timedelta(seconds=min(int(str(seconds)), 10**11))  # datetime's range
            return Message.internal_date <= cutoff if op == "<=" else Message.internal_date > cutoff
        if kind == "size":
            op, size = args
            return Message.size > size if op == ">" else Message.size < size
        if kind in ("uid", "seq"):
            ranges = merge((self.context.uid_ranges if kind == "uid" else self.context.seq_ranges)(args[0]))
            return uid_condition(ranges) if len(ranges) <= SQL_RANGES else _uid_predicate(ranges)
        if kind == "modseq":
            return Message.modseq >= args[0]
        if kind == "objectid":
            objectid = str(args[1])
            if args[0] == "EMAILID":
                prefix = email_hash_prefix(objectid)
                return Message.sha256.startswith(prefix) if prefix else false()
            thread = thread_uuid(objectid)
            return Message.thread_id == thread if thread else false()
        if kind in ("recent", "new", "old"):
            recent = Message.uid.in_(list(self.context.recent)) if self.context.recent else false()
            if kind == "recent":
                return recent
            return and_(recent, Message.seen.is_(False)) if kind == "new" else not_(recent)
        if kind == "header":
            name, needle = args
            self.need(Message.header)
            return _header_predicate(str(name).lower().encode(), str(needle).lower())
        if kind == "text":
            self.need(Message.header)
            self.need(Message.part_headers)
            body = self.selected(_contains(Message.search_text, str(args[0])))
            needle = str(args[0]).lower()
            header = _header_predicate(None, needle)
            return lambda row: (
                needle in row.header.decode("utf-8", "replace").lower()
                or header(row)
                or needle in row.part_headers.lower()
                or body(row)
            )
        raise ValueError(f"unknown search key {kind}")


def _uid_predicate(ranges: UidRanges) -> Predicate:
    """Whether a row's UID lies in one of ``ranges`` (merged: sorted and disjoint)."""
    starts = [lo for lo, _ in ranges]

    def matches(row: Any) -> bool:
        index = bisect_right(starts, row.uid) - 1
        return index >= 0 and row.uid <= ranges[index][1]

    return matches


def _header_predicate(name: bytes | None, needle: str) -> Predicate:
    """Whether a field named ``name`` (any field when None) contains ``needle`` once its
    encoded words are decoded and its lines unfolded."""

    def matches(row: Any) -> bool:
        for field_name, raw in header_fields(row.header):
            if name is None or field_name == name:
                value = raw.split(b":", 1)[1] if b":" in raw else b""
                text = decode_header_value(value.decode("utf-8", "replace")).lower()
                if needle in text:
                    return True
        return False

    return matches


def compile_search(criteria: Node, context: Context) -> Compiled:
    """The top level's SQL keys filter in the query; only its Python keys run on rows."""
    compiler = _Compiler(context)
    wheres: list[ColumnElement[bool]] = []
    predicates: list[Predicate] = []
    for node in criteria.nodes if isinstance(criteria, And) else (criteria,):
        result = compiler.compile(node)
        if isinstance(result, ColumnElement):
            wheres.append(result)
        else:
            predicates.append(result)
    where = and_(*wheres) if wheres else true()
    if not predicates:
        return Compiled(where, None, [])
    return Compiled(where, lambda row: all(p(row) for p in predicates), compiler.columns)
