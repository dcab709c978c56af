"""What the bodies of PROPFIND, PROPPATCH and LOCK ask for (RFC 4918 14), parsed from the
element :func:`hexagone.core.dav.xml.parse` gave. A body of the wrong shape is
:class:`~hexagone.core.dav.xml.MalformedXml` (400)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from xml.etree.ElementTree import Element, tostring

from hexagone.core.dav.xml import DAV, MalformedXml, tag


@dataclass(frozen=True)
class Wanted:
    """Which properties a request asks for: named ones, all of them, or only their names."""

    names: tuple[str, ...] = ()
    allprop: bool = False
    propname: bool = False


ALLPROP = Wanted(allprop=True)


def wanted(root: Element | None) -> Wanted:
    """The properties a propfind element (or a REPORT's DAV:prop sibling) asks for."""
    if root is None:
        return ALLPROP
    prop = root.find(tag(DAV, "prop"))
    if prop is not None:
        return Wanted(names=tuple(child.tag for child in prop))
    if root.find(tag(DAV, "propname")) is not None:
        return Wanted(propname=True)
    include = root.find(tag(DAV, "include"))
    return Wanted(names=tuple(c.tag for c in include) if include is not None else (), allprop=True)


def propfind_wanted(root: Element | None) -> Wanted:
    """:func:`wanted` for a PROPFIND body, which must hold one of prop, propname, allprop."""
    if root is not None and not any(root.find(tag(DAV, name)) is not None for name in ("prop", "propname", "allprop")):
        raise MalformedXml("a propfind holds prop, propname or allprop")
    return wanted(root)


@dataclass(frozen=True)
class Change:
    """One instruction of a PROPPATCH, in document order: set ``name`` to ``element`` (the
    property's whole element), or remove it (``element`` None)."""

    name: str
    element: Element | None

    @property
    def value(self) -> str:
        """The property element as XML text, its namespaces declared: what a server keeps
        of a dead property and gives back as it was."""
        assert self.element is not None
        return as_text(self.element)


def as_text(element: Element) -> str:
    """An element (not the text after it) as XML text, with its namespaces declared."""
    alone = copy.copy(element)
    alone.tail = None
    return tostring(alone, encoding="unicode")


def property_update(root: Element | None) -> list[Change]:
    """The set and remove instructions of a propertyupdate element, in order."""
    if root is None:
        raise MalformedXml("PROPPATCH needs a propertyupdate body")
    changes: list[Change] = []
    for instruction in root:
        if instruction.tag not in (tag(DAV, "set"), tag(DAV, "remove")):
            continue
        removing = instruction.tag == tag(DAV, "remove")
        for prop in instruction.findall(tag(DAV, "prop")):
            changes.extend(Change(child.tag, None if removing else child) for child in prop)
    if not changes:
        raise MalformedXml("a propertyupdate sets or removes at least one property")
    return changes


@dataclass(frozen=True)
class LockRequest:
    """A lockinfo: the scope asked for and the owner element as XML text ("" without)."""

    exclusive: bool
    owner_xml: str


def lock_request(root: Element) -> LockRequest:
    scope = root.find(tag(DAV, "lockscope"))
    kind = root.find(tag(DAV, "locktype"))
    if scope is None or kind is None or kind.find(tag(DAV, "write")) is None:
        raise MalformedXml("a lockinfo names a lockscope and the write locktype")
    exclusive = scope.find(tag(DAV, "exclusive")) is not None
    if not exclusive and scope.find(tag(DAV, "shared")) is None:
        raise MalformedXml("a lockscope is exclusive or shared")
    owner = root.find(tag(DAV, "owner"))
    return LockRequest(exclusive, as_text(owner) if owner is not None else "")
