"""FETCH: which data items a command asks for, which columns that needs, and how one
message's response is written.

A plan is read once per command; :attr:`FetchPlan.columns` lists exactly the columns the
items need (``header`` for ``BODY.PEEK[HEADER]``, ``structure`` for BODYSTRUCTURE…) and
:attr:`FetchPlan.needs_blob` says whether the raw message must be read at all, so that
the common client requests (flags, envelope, headers) never touch the blob store.
Bodies are sent with every NUL as 0x80 (see :func:`without_nul`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hexagone.mail import mimetree
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.messages import FLAG_BITS, bits_of
from hexagone.mail.imap.objectid import email_id, thread_id
from hexagone.mail.imap.parser import Atom, CommandError, Token
from hexagone.mail.imap.rendered import cache
from hexagone.mail.imap.structure import Section, body_structure, envelope
from hexagone.mail.imap.structure import _resolve as resolve
from hexagone.mail.imap.wire import internal_date
from hexagone.mail.mime import decode_part

FLAG_COLUMNS = ("flag_bits", "keywords")  # flag_bits: the five system flags packed by the database
MACROS = {
    "ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
    "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
    "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
}
SIMPLE = {
    "UID": ("uid",),
    "FLAGS": FLAG_COLUMNS,
    "INTERNALDATE": ("internal_date",),
    "RFC822.SIZE": ("size",),
    "ENVELOPE": ("sha256",),
    "BODYSTRUCTURE": ("sha256",),
    "BODY": ("sha256",),
    "MODSEQ": ("modseq",),
    "EMAILID": ("sha256",),  # RFC 8474
    "THREADID": ("thread_id",),
    "SAVEDATE": ("saved_at",),  # RFC 8514
}
# Rendered once per message content and remembered (see rendered.py): key prefix, JSON column, renderer.
CACHED = {
    "ENVELOPE": ("E", "envelope", envelope),
    "BODYSTRUCTURE": ("S", "structure", lambda node: body_structure(node, True)),
    "BODY": ("B", "structure", lambda node: body_structure(node, False)),
}
_BODY_RE = re.compile(r"(BODY(?:\.PEEK)?)\[(.*)\](?:<(\d{1,10})(?:\.(\d{1,10}))?>)?", re.I | re.S)
_BINARY_RE = re.compile(r"(BINARY(?:\.PEEK|\.SIZE)?)\[([\d.]*)\](?:<(\d{1,10})(?:\.(\d{1,10}))?>)?", re.I)
# The transfer encodings BINARY can undo (RFC 3516 4.1: any other is answered UNKNOWN-CTE).
KNOWN_ENCODINGS = frozenset({"7BIT", "8BIT", "BINARY", "BASE64", "QUOTED-PRINTABLE"})


@dataclass(frozen=True, slots=True)
class BodyItem:
    """``BODY[section]<partial>``, or one of the RFC822 items that are aliases of it."""

    section: Section
    peek: bool
    partial: tuple[int, int | None] | None
    label: bytes  # the item's name in the response

    @property
    def whole(self) -> bool:
        return not self.section.path and not self.section.text and self.partial is None


@dataclass(frozen=True, slots=True)
class BinaryItem:
    """``BINARY[part]<partial>``, ``BINARY.PEEK[...]`` or ``BINARY.SIZE[part]`` (RFC 3516):
    a part's content with its transfer encoding undone."""

    path: tuple[int, ...]
    peek: bool
    partial: tuple[int, int | None] | None
    size_only: bool
    label: bytes

    whole = False

    def content(self, structure: Any, raw: bytes) -> bytes:
        if not self.path:
            return raw
        node = resolve(structure, self.path)
        if node is None:
            return b""
        if "parts" in node or "message" in node:  # nothing to decode in a container
            return raw[node["body_start"] : node["end"]]
        if (node.get("encoding") or "7BIT").upper() not in KNOWN_ENCODINGS:
            raise CommandError("Unknown Content-Transfer-Encoding", status="NO", code="UNKNOWN-CTE")
        return decode_part(raw, node)


@dataclass
class FetchPlan:
    items: list[str | BodyItem | BinaryItem] = field(default_factory=list)
    columns: set[str] = field(default_factory=lambda: {"uid"})
    needs_blob: bool = False
    sections: bool = False  # a body item needs the MIME structure's offsets
    sets_seen: bool = False
    changed_since: int | None = None
    vanished: bool = False

    def add(self, name: str) -> None:
        if name not in self.items:
            self.items.append(name)
            self.columns.update(SIMPLE[name])

    @property
    def streamable(self) -> bool:
        """True when every body asked for is the whole message, as it is stored: then a
        large message can be copied from the blob store to the socket piece by piece."""
        return self.needs_blob and all(item.whole for item in self.items if not isinstance(item, str))

    def add_binary(self, item: BinaryItem) -> None:
        self.items.append(item)
        self.sets_seen |= not item.peek
        self.needs_blob = True
        self.columns.update(("blob_key", "size"))
        if item.path:
            self.columns.add("structure")
            self.sections = True

    def add_body(self, item: BodyItem) -> None:
        self.items.append(item)
        self.sets_seen |= not item.peek
        if item.section.header_only:
            self.columns.add("header")
            return
        self.needs_blob = True
        self.columns.update(("blob_key", "size"))
        if item.section.path or item.section.text:  # the whole message needs no offsets
            self.columns.add("structure")
            self.sections = True


def _item(plan: FetchPlan, token: Token) -> None:
    if not isinstance(token, Atom):
        raise CommandError("Invalid fetch item")
    name = token.upper()
    if name in SIMPLE:
        plan.add(name)
    elif name == "RFC822":
        plan.add_body(BodyItem(Section((), ""), False, None, b"RFC822"))
    elif name == "RFC822.HEADER":
        plan.add_body(BodyItem(Section((), "HEADER"), True, None, b"RFC822.HEADER"))
    elif name == "RFC822.TEXT":
        plan.add_body(BodyItem(Section((), "TEXT"), False, None, b"RFC822.TEXT"))
    elif match := _BODY_RE.fullmatch(token):
        section = Section.parse(match.group(2))
        partial = None
        if match.group(3) is not None:
            count = int(match.group(4)) if match.group(4) is not None else None
            if count == 0:
                raise CommandError("Invalid partial range")
            partial = (int(match.group(3)), count)
        label = b"BODY[" + str(section).encode() + b"]" + (b"<%d>" % partial[0] if partial else b"")
        plan.add_body(BodyItem(section, match.group(1).upper() == "BODY.PEEK", partial, label))
    elif match := _BINARY_RE.fullmatch(token):
        plan.add_binary(_binary_item(match))
    else:
        raise CommandError(f"Unknown fetch item {name[:40]}")


def _binary_item(match: re.Match[str]) -> BinaryItem:
    kind, spec = match.group(1).upper(), match.group(2)
    parts = spec.split(".") if spec else []
    if any(not p.isdigit() or p.startswith("0") or len(p) > 9 for p in parts):
        raise CommandError("Invalid binary section")
    path = tuple(int(p) for p in parts)
    partial = None
    if match.group(3) is not None:
        if kind == "BINARY.SIZE":
            raise CommandError("BINARY.SIZE takes no partial range")
        count = int(match.group(4)) if match.group(4) is not None else None
        if count == 0:
            raise CommandError("Invalid partial range")
        partial = (int(match.group(3)), count)
    name = "BINARY.SIZE" if kind == "BINARY.SIZE" else "BINARY"
    label = f"{name}[{spec}]".encode() + (b"<%d>" % partial[0] if partial else b"")
    return BinaryItem(path, kind != "BINARY", partial, kind == "BINARY.SIZE", label)


def parse_fetch(args: Args, *, uid: bool) -> FetchPlan:
    """The items after the sequence set, and the CHANGEDSINCE and VANISHED modifiers
    (RFC 7162; VANISHED only with UID FETCH and CHANGEDSINCE, checked by the caller)."""
    plan = FetchPlan()
    if uid:
        plan.add("UID")
    token = args.next("fetch items")
    if isinstance(token, Atom) and token.upper() in MACROS:
        for name in MACROS[token.upper()]:
            plan.add(name)
    elif isinstance(token, list):
        if not token:
            raise CommandError("Empty fetch item list")
        for item in token:
            _item(plan, item)
    else:
        _item(plan, token)
    if args.more():
        modifiers = args.list("fetch modifiers")
        reader = Args(modifiers)
        while reader.more():
            name = reader.keyword("fetch modifier")
            if name == "CHANGEDSINCE":
                plan.changed_since = reader.number("mod-sequence")
                plan.add("MODSEQ")
            elif name == "VANISHED":
                plan.vanished = True
            else:
                raise CommandError(f"Unknown fetch modifier {name[:40]}")
        args.end()
    return plan


def _flag_lists() -> list[list[bytes]]:
    """The system flag names for each of the 32 combinations of the five flag bits."""
    return [[b"\\" + name.capitalize().encode() for name, bit in FLAG_BITS if bits & bit] for bits in range(32)]


_FLAG_LISTS = _flag_lists()


class _WholeMessage(bytes):
    """Where :func:`render` leaves a large message's bytes for its caller to stream."""


WHOLE_MESSAGE = _WholeMessage()


def decoded(value: Any) -> Any:
    """A JSON column as FETCH reads it: selected as text and parsed with orjson, several
    times faster than the driver's json module on every envelope of a large FETCH."""
    return orjson.loads(value) if isinstance(value, str) else value


def flag_list(bits: int, keywords: Any, recent: bool = False) -> bytes:
    names = _FLAG_LISTS[bits]
    if recent or (keywords and keywords != "[]"):
        names = [*names, *([b"\\Recent"] if recent else []), *(k.encode() for k in decoded(keywords) or ())]
    return b"(" + b" ".join(names) + b")"


def flags(message: Any, recent: bool = False) -> bytes:
    """The FLAGS of a message row or object that has the five flag columns."""
    return flag_list(bits_of(message), message.keywords, recent)


def _body(item: BodyItem, row: Any, raw: bytes | None, structure: Any) -> bytes:
    if item.section.header_only:
        data = item.section.from_header(row.header)
    else:
        assert raw is not None
        data = item.section.extract(structure, raw)
    if item.partial is not None:
        start, count = item.partial
        data = data[start:] if count is None else data[start : start + count]
    return data


_SIMPLE_ITEMS: dict[str, Callable[[Any, bool, dict[str, bytes]], bytes]] = {
    "UID": lambda row, recent, rendered: b"UID %d" % row.uid,
    "FLAGS": lambda row, recent, rendered: b"FLAGS " + flag_list(row.flag_bits, row.keywords, recent),
    "INTERNALDATE": lambda row, recent, rendered: b"INTERNALDATE " + internal_date(row.internal_date),
    "RFC822.SIZE": lambda row, recent, rendered: b"RFC822.SIZE %d" % row.size,
    "ENVELOPE": lambda row, recent, rendered: b"ENVELOPE " + rendered["E" + row.sha256],
    "BODYSTRUCTURE": lambda row, recent, rendered: b"BODYSTRUCTURE " + rendered["S" + row.sha256],
    "BODY": lambda row, recent, rendered: b"BODY " + rendered["B" + row.sha256],
    "MODSEQ": lambda row, recent, rendered: b"MODSEQ (%d)" % row.modseq,
    "EMAILID": lambda row, recent, rendered: b"EMAILID (%b)" % email_id(row.sha256).encode(),
    "THREADID": lambda row, recent, rendered: b"THREADID (%b)" % thread_id(row.thread_id).encode(),
    "SAVEDATE": lambda row, recent, rendered: b"SAVEDATE " + (internal_date(row.saved_at) if row.saved_at else b"NIL"),
}


def without_nul(data: bytes) -> bytes:
    """Message bytes fit for an IMAP literal: RFC 3501 forbids NUL there (only BINARY's
    literal8 may hold one). A message is stored
    as received; each NUL is sent as 0x80, as Dovecot does, so that sizes (RFC822.SIZE,
    partial fetches) stay those of the stored message."""
    return data.replace(b"\0", b"\x80") if b"\0" in data else data


def render(
    plan: FetchPlan,
    seq: int,
    row: Any,
    raw: bytes | None,
    write: Callable[[bytes], None],
    *,
    recent: bool = False,
    extra: tuple[str, ...] = (),
    rendered: dict[str, bytes] | None = None,
) -> None:
    """Write ``* seq FETCH (...)`` for one message; a body is written as its own piece,
    never copied into a larger string, or, without ``raw``, as :data:`WHOLE_MESSAGE`
    for the caller to stream. ``extra`` adds items the server volunteers (FLAGS after an
    implicit \\Seen, MODSEQ once CONDSTORE is on); ``rendered`` holds the ENVELOPE and
    BODYSTRUCTURE of the command's messages (see :func:`prerender`)."""
    structure = decoded(row.structure) if plan.sections else None
    binaries = {  # decoded first: an UNKNOWN-CTE refusal comes before anything is written
        item: _binary(item, structure, raw) for item in plan.items if isinstance(item, BinaryItem)
    }
    parts = [b"* %d FETCH (" % seq]  # the response line so far, joined before each body
    separator = b""
    data: bytes  # the body: WHOLE_MESSAGE, or the section itself
    for item in [*plan.items, *(e for e in extra if e not in plan.items)] if extra else plan.items:
        parts.append(separator)
        separator = b" "
        if isinstance(item, str):
            parts.append(_SIMPLE_ITEMS[item](row, recent, rendered))  # type: ignore[arg-type]
            continue
        if isinstance(item, BinaryItem):
            content = binaries[item]
            if item.size_only:
                parts.append(b"%b %d" % (item.label, len(content)))
                continue
            parts.append(b"%b %b{%d}\r\n" % (item.label, b"~" if b"\0" in content else b"", len(content)))
            write(b"".join(parts))
            write(content)
            parts = []
            continue
        if raw is None and item.whole:  # the caller streams it from the blob store
            size, data = row.size, WHOLE_MESSAGE
        else:
            data = without_nul(_body(item, row, raw, structure))
            size = len(data)
        parts.append(b"%b {%d}\r\n" % (item.label, size))
        write(b"".join(parts))
        write(data)
        parts = []
    parts.append(b")\r\n")
    write(b"".join(parts))


def _binary(item: BinaryItem, structure: Any, raw: bytes | None) -> bytes:
    assert raw is not None
    content = item.content(structure, raw)
    if item.partial is not None:
        start, count = item.partial
        content = content[start:] if count is None else content[start : start + count]
    return content


def prerender(plan: FetchPlan, rows: list[Any], json_of: dict[int, Any], rendered: dict[str, bytes]) -> list[int]:
    """Put in ``rendered`` the ENVELOPE/BODYSTRUCTURE/BODY of ``rows``: from the cache, or
    drawn from ``json_of`` (UID → the messages' JSON columns) and remembered. Returns the
    UIDs whose JSON is needed first (an empty list once everything is rendered)."""
    needed = set()
    for name in plan.items:
        if type(name) is not str or name not in CACHED:
            continue
        prefix, column, draw = CACHED[name]
        for row in rows:
            key = prefix + row.sha256
            if key in rendered:
                continue
            found = cache.get(key)
            if found is None:
                source = json_of.get(row.uid)
                if source is None:
                    needed.add(row.uid)
                    continue
                value = decoded(getattr(source, column))
                found = draw(value)
                if column != "structure" or value.get("v") == mimetree.VERSION:
                    cache.put(key, found)  # one drawn from an older tree changes once it is parsed again
            rendered[key] = found
    return sorted(needed)


def cached_columns(plan: FetchPlan) -> tuple[str, ...]:
    """The JSON columns the rendered items of ``plan`` are drawn from."""
    return tuple(sorted({CACHED[name][1] for name in plan.items if type(name) is str and name in CACHED}))
