"""THREAD's two algorithms (RFC 5256 sections 3 and 4): ORDEREDSUBJECT, which groups by
base subject, and REFERENCES, Jamie Zawinski's threading by Message-ID, References and
In-Reply-To, followed by its subject grouping; and the rendering of the result as the
``thread-list``s of the THREAD response.

The rows carry ``uid``, the stored ``header`` block (never the message itself: the
subject and the references are read from it as for SORT, :func:`.sort.subject_of`),
``sent_date``, ``internal_date`` and, for REFERENCES, ``message_id``. ``number`` maps a
row to what the client is told: its sequence number, or its UID for UID THREAD.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby, pairwise
from typing import Any

from hexagone.mail.imap.sort import raw_field, sent_date, subject_of
from hexagone.mail.imap.subject import base_subject, casemap
from hexagone.mail.mime import message_ids
from hexagone.mail.models import Message

ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES")
COLUMNS: dict[str, tuple[Any, ...]] = {
    "ORDEREDSUBJECT": (Message.header, Message.sent_date, Message.internal_date),
    "REFERENCES": (Message.header, Message.sent_date, Message.internal_date, Message.message_id),
}


@dataclass(eq=False)
class Node:
    """A message of the thread tree, or a dummy (``row`` None) standing for one that is
    referred to but not in the search's result."""

    row: Any = None
    position: int = 0  # in folder order: breaks ties of dates
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)

    def date_key(self) -> tuple[datetime, int]:
        if self.row is None:  # a dummy sorts as its first child (RFC 5256 4, steps 5 and 7)
            return self.children[0].date_key()
        return sent_date(self.row), self.position

    def adopt(self, child: Node) -> None:
        if child.parent is not None:
            child.parent.children.remove(child)
        child.parent = self
        self.children.append(child)

    def descends_from(self, other: Node) -> bool:
        if not other.children:  # most often: a message seen for the first time
            return self is other
        node: Node | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


def ordered_subject(rows: Sequence[Any]) -> list[Node]:
    """RFC 5256 ORDEREDSUBJECT: messages sorted by base subject and sent date; each run of
    one base subject is a thread whose first message is the parent of all the others;
    threads in the order of their first message's sent date."""
    nodes = [Node(row, position) for position, row in enumerate(rows)]
    subjects = {node.position: casemap(base_subject(subject_of(node.row))[0]) for node in nodes}
    nodes.sort(key=lambda n: (subjects[n.position], n.date_key()))
    threads = []
    for _, group in groupby(nodes, key=lambda n: subjects[n.position]):
        first, *others = group
        for other in others:
            first.adopt(other)
        threads.append(first)
    threads.sort(key=Node.date_key)
    return threads


def _references(row: Any) -> list[str]:
    """The References field's message IDs, else the first of In-Reply-To."""
    for name in (b"references", b"in-reply-to"):
        found = message_ids((raw_field(row.header, name) or b"").decode("utf-8", "replace"))
        if found:
            return found if name == b"references" else found[:1]
    return []


def references(rows: Sequence[Any]) -> list[Node]:
    """RFC 5256 REFERENCES."""
    table: dict[str, Node] = {}
    for position, row in enumerate(rows):
        # (1) each message gets its container; no Message-ID, or one already seen, gets a new one
        message_id = row.message_id or ""
        node = table.get(message_id) if message_id else None
        if node is None or node.row is not None:
            node = Node()
            table[message_id if message_id and message_id not in table else f"\0{row.uid}"] = node
        node.row, node.position = row, position
        # (1A) the references link to one another, oldest first, never into a loop
        chain = [table.setdefault(ref, Node()) for ref in _references(row)]
        for parent, child in pairwise(chain):
            if child.parent is None and not parent.descends_from(child):
                parent.adopt(child)
        # (1B) the last reference becomes the message's parent, replacing any other
        if node.parent is not None:
            node.parent.children.remove(node)
            node.parent = None
        if chain and not chain[-1].descends_from(node):
            chain[-1].adopt(node)
    roots = _pruned([node for node in table.values() if node.parent is None])  # (2)-(4)
    for root in roots:  # (5)
        root.children.sort(key=Node.date_key)
    roots.sort(key=Node.date_key)
    roots = _grouped_by_subject(roots)  # (6)
    _sort_siblings(roots)  # (7)
    return roots


def _descendants_first(roots: list[Node]) -> list[Node]:
    """Every node under ``roots`` (them included), each after all its descendants: walked
    with a list, not by recursion, since a long reply chain is deeper than Python's stack."""
    order: list[Node] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    return order[::-1]


def _pruned(roots: list[Node]) -> list[Node]:
    """(4) Dummies without children go; a dummy's children take its place, except at the
    root where a dummy with several children stays."""
    for node in _descendants_first(roots):
        kept: list[Node] = []
        for child in node.children:
            if child.row is None:  # its own children were pruned already
                for grandchild in child.children:
                    grandchild.parent = node
                kept.extend(child.children)
            else:
                kept.append(child)
        node.children = kept
    result: list[Node] = []
    for root in roots:
        if root.row is None and len(root.children) <= 1:
            for child in root.children:
                child.parent = None
            result.extend(root.children)
        else:
            result.append(root)
    return result


def _subject_of(node: Node) -> tuple[str, bool]:
    row = (node.children[0] if node.row is None else node).row
    text, reply = base_subject(subject_of(row))
    return casemap(text), reply


def _grouped_by_subject(roots: list[Node]) -> list[Node]:
    """(6) Threads whose roots have the same base subject gathered into one. The order of
    what is returned does not matter: step (7) sorts it."""
    table: dict[str, Node] = {}
    for root in roots:
        subject, reply = _subject_of(root)
        if not subject:
            continue
        current = table.get(subject)
        if (
            current is None
            or (root.row is None and current.row is not None)
            or (current.row is not None and _subject_of(current)[1] and not reply)
        ):
            table[subject] = root
    made: list[Node] = []
    for root in roots:
        if root.parent is not None:  # already gathered under a dummy made for it
            continue
        subject, reply = _subject_of(root)
        current = table.get(subject) if subject else None
        if current is None or current is root:
            continue
        if current.row is None and root.row is None:
            for child in list(root.children):
                current.adopt(child)
        elif current.row is None or (reply and not _subject_of(current)[1]):
            current.adopt(root)
        else:
            dummy = Node()
            dummy.adopt(current)
            dummy.adopt(root)
            dummy.children.sort(key=Node.date_key)
            table[subject] = dummy
            made.append(dummy)
    return [node for node in roots + made if node.parent is None and (node.row is not None or node.children)]


def _sort_siblings(roots: list[Node]) -> None:
    for node in _descendants_first(roots):
        node.children.sort(key=Node.date_key)
    roots.sort(key=Node.date_key)


def render(threads: list[Node], number: Callable[[Any], int]) -> bytes:
    """The ``thread-list``s of a THREAD response, all on one line: a run of only children
    as numbers separated by spaces, each branch of several in parentheses."""
    out: list[bytes] = []
    stack: list[Node | bytes] = [piece for node in reversed(threads) for piece in (b")", node, b"(")]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out.append(item)
            continue
        node, numbers = item, []
        while node.row is not None:
            numbers.append(b"%d" % number(node.row))
            if len(node.children) != 1:
                break
            node = node.children[0]
        out.append(b" ".join(numbers) + (b" " if numbers and node.children else b""))
        stack.extend(piece for child in reversed(node.children) for piece in (b")", child, b"("))
    return b"".join(out)
