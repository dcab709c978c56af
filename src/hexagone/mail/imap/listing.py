"""What LIST and LSUB answer, worked out from the folder tree and the subscriptions,
without storage or wire code (RFC 3501 6.3.8-9, LIST-EXTENDED RFC 5258, SPECIAL-USE
RFC 6154).

The tree holds every folder the user may see and the nodes above them that are not
folders (a parent deleted under its children, the shared namespace's ``Shared`` and
``Shared/<address>``), which are ``\\Noselect``. Subscriptions are a separate list of names
(:mod:`hexagone.mail.service.subscriptions`): a subscribed name with no folder is
``\\NonExistent`` where RFC 5258 lets it be listed.

Attributes are written in Dovecot 2.3's order (``\\Subscribed``, then ``\\Noselect`` or
``\\NonExistent``, then the children, then the special use), and, as there, a LIST in
the extended syntax reports children and special uses only when asked for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hexagone.mail.models import DELIMITER, INBOX


@dataclass(frozen=True, slots=True)
class Node:
    exists: bool  # a folder (selectable), or only a node above folders (\Noselect)
    special_use: str | None = None


@dataclass(frozen=True, slots=True)
class ListOptions:
    """A LIST command's options: RFC 5258 selection and return options. ``extended`` when
    the command used the extended syntax (options or several patterns)."""

    selection: frozenset[str] = frozenset()
    returns: frozenset[str] = frozenset()
    extended: bool = False


@dataclass(slots=True)
class Line:
    name: str
    attributes: list[str] = field(default_factory=list)
    childinfo: bool = False  # RFC 5258 CHILDINFO ("SUBSCRIBED")
    selectable: bool = True  # a folder that STATUS can report on


def order(name: str) -> tuple[bool, str]:
    return name != INBOX, name.lower()


def canonical(name: str) -> str:
    """A name as LIST spells it: ``INBOX`` in capitals, whatever case the client used."""
    return INBOX + name[5:] if name[:5].upper() == INBOX and name[5:6] in ("", DELIMITER) else name


def pattern(reference: str, text: str) -> re.Pattern[str]:
    """A LIST pattern as a regular expression: ``*`` matches anything, ``%`` anything
    but the hierarchy delimiter; INBOX matches in any case."""
    full = canonical(text if text.startswith(DELIMITER) or not reference else reference + text)
    regex = "".join(".*" if c == "*" else f"[^{DELIMITER}]*" if c == "%" else re.escape(c) for c in full)
    return re.compile(regex, re.S)


def _ancestors(name: str) -> Iterable[str]:
    parts = name.split(DELIMITER)
    return (DELIMITER.join(parts[:depth]) for depth in range(1, len(parts)))


def _matches(patterns: Sequence[re.Pattern[str]], name: str) -> bool:
    return any(p.fullmatch(name) for p in patterns)


class Tree:
    """The folders one user sees, by the names they see them by."""

    def __init__(self, nodes: dict[str, Node]):
        self.nodes = dict(nodes)
        for name in list(self.nodes):
            for parent in _ancestors(name):
                self.nodes.setdefault(parent, Node(False))
        self.parents = {parent for name in self.nodes for parent in _ancestors(name)}

    def existence(self, name: str) -> str | None:
        """``\\Noselect`` for a node that is not a folder, ``\\NonExistent`` for a name
        that is not in the tree at all (a subscription), None for a folder."""
        node = self.nodes.get(name)
        if node is None:
            return "\\NonExistent"
        return None if node.exists else "\\Noselect"

    def children(self, name: str) -> str:
        return "\\HasChildren" if name in self.parents else "\\HasNoChildren"

    def special_use(self, name: str) -> str | None:
        node = self.nodes.get(name)
        return node.special_use if node is not None else None

    def listed(self, patterns: Sequence[re.Pattern[str]], subscribed: set[str], options: ListOptions) -> list[Line]:
        """RFC 5258 3: the names that meet the selection options and match a pattern, with
        the attributes the return options ask for."""
        selection, returns = options.selection, options.returns
        by_subscription = "SUBSCRIBED" in selection
        show_children = not options.extended or "CHILDREN" in returns
        show_special = not options.extended or "SPECIAL-USE" in selection | returns
        show_subscribed = by_subscription or "SUBSCRIBED" in returns
        candidates = set(subscribed) if by_subscription else set(self.nodes)
        # RECURSIVEMATCH (RFC 5258 3.5, as Dovecot): a name with a subscribed descendant
        # carries CHILDINFO, and is listed even if not subscribed when the pattern stops
        # above that descendant (a "%").
        with_children: set[str] = set()
        if "RECURSIVEMATCH" in selection:
            for name in subscribed:
                with_children.update(_ancestors(name))
                if not _matches(patterns, name):
                    candidates.update(_ancestors(name))
        lines = []
        for name in sorted(candidates, key=order):
            if not _matches(patterns, name):
                continue
            if "SPECIAL-USE" in selection and not self.special_use(name):
                continue
            lines.append(
                self._line(
                    name,
                    subscribed=show_subscribed and name in subscribed,
                    children=show_children,
                    special=show_special,
                    childinfo=name in with_children,
                )
            )
        return lines

    def entry(self, name: str) -> Line:
        """The LIST line of one name, with children and special use as a plain LIST gives
        them: what RFC 9051 has SELECT send, and RENAME with the OLDNAME item."""
        return self._line(canonical(name), subscribed=False, children=True, special=True, childinfo=False)

    def lsub(self, patterns: Sequence[re.Pattern[str]], subscribed: set[str]) -> list[Line]:
        """RFC 3501 6.3.9: the subscribed names that match, and, when a ``%`` stops above a
        subscribed name, the unsubscribed name where it stops, as ``\\Noselect``."""
        found: dict[str, Line] = {}
        for name in subscribed:
            if _matches(patterns, name):
                special = self.special_use(name)
                found[name] = Line(name, [special] if special else [], selectable=False)
                continue
            for parent in _ancestors(name):
                if parent not in subscribed and _matches(patterns, parent):
                    found.setdefault(parent, Line(parent, ["\\Noselect"], selectable=False))
        return [found[name] for name in sorted(found, key=order)]

    def _line(self, name: str, *, subscribed: bool, children: bool, special: bool, childinfo: bool) -> Line:
        attributes = ["\\Subscribed"] if subscribed else []
        existence = self.existence(name)
        if existence:
            attributes.append(existence)
        if children:
            attributes.append(self.children(name))
        if special and (use := self.special_use(name)):
            attributes.append(use)
        return Line(name, attributes, childinfo, selectable=existence is None)
