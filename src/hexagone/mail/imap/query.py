"""SEARCH criteria as SQL over the message rows.

Everything but two keys is a condition on a column: flags are booleans, FROM/TO/CC/BCC/
SUBJECT the decoded address and subject columns, BODY the extracted text, dates and sizes
plain columns. HEADER (any field) and TEXT (header and body) are answered in Python from
the stored header block; when such a key sits under OR or NOT with SQL keys, the SQL part
is selected as a boolean column and combined in Python, so every search stays one query.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, true
from sqlalchemy import cast as sql_cast
from sqlalchemy import Text as SqlText

from hexagone.mail.imap.search import And, Criterion, Node, Not, Or
from hexagone.mail.imap.structure import header_fields
from hexagone.mail.mime import decode_header_value
from hexagone.mail.models import Message

UidRanges = list[tuple[int, int]]
Predicate = Callable[[Any], bool]


@dataclass
class Context:
    """What a search needs from the session: sequence numbers and \\Recent are per session."""

    seq_ranges: Callable[[object], UidRanges]  # a SequenceSet of message numbers → UID ranges
    uid_ranges: Callable[[object], UidRanges]  # a SequenceSet of UIDs → UID ranges
    recent: Sequence[int] = ()


@dataclass
class Compiled:
    where: ColumnElement[bool]
    predicate: Predicate | None  # rows must also satisfy this, in Python
    columns: list[Any] = field(default_factory=list)  # what the predicate reads


def uid_condition(ranges: UidRanges) -> ColumnElement[bool]:
    if not ranges:
        return false()
    return or_(*[Message.uid == lo if lo == hi else Message.uid.between(lo, hi) for lo, hi in ranges])


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    return func.lower(column).contains(needle.lower(), autoescape=True)


def _day(value: Any) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


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
            return not_(inner) if isinstance(inner, ColumnElement) else (lambda row, f=inner: not f(row))
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
            return getattr(Message, column).is_(bool(value))  # type: ignore[arg-type]
        if kind == "keyword":
            keyword, present = args
            condition = func.lower(sql_cast(Message.keywords, SqlText)).contains(
                json.dumps(str(keyword).lower()), autoescape=True)
            return condition if present else not_(condition)
        if kind == "field":
            column, needle = args
            return _contains(getattr(Message, column), needle)  # type: ignore[arg-type]
        if kind == "body":
            return _contains(Message.text, args[0])  # type: ignore[arg-type]
        if kind == "date":
            column_name, op, day = args
            column = getattr(Message, column_name)  # type: ignore[arg-type]
            start = _day(day)
            if op == "<":
                return column < start
            if op == ">=":
                return column >= start
            return and_(column >= start, column < start + timedelta(days=1))
        if kind == "size":
            op, size = args
            return Message.size > size if op == ">" else Message.size < size
        if kind == "uid":
            return uid_condition(self.context.uid_ranges(args[0]))
        if kind == "seq":
            return uid_condition(self.context.seq_ranges(args[0]))
        if kind == "modseq":
            return Message.modseq >= args[0]
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
            body = self.selected(_contains(Message.text, args[0]))
            needle = str(args[0]).lower()
            return lambda row: needle in row.header.decode("utf-8", "replace").lower() or body(row)
        raise ValueError(f"unknown search key {kind}")


def _header_predicate(name: bytes, needle: str) -> Predicate:
    def matches(row: Any) -> bool:
        for field_name, raw in header_fields(row.header):
            if field_name == name:
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
