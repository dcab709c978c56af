"""PROPFIND (RFC 4918 9.1): the properties of a node and, at depth 1, of its members
(the depth as the DAV kit's :func:`~hexagone.core.dav.headers.propfind_depth` reads it)."""

from __future__ import annotations

from starlette.responses import Response

from hexagone.calendar.dav import props, targets
from hexagone.calendar.dav.context import Context
from hexagone.calendar.dav.props import Node
from hexagone.calendar.models import CollectionKind, Purpose
from hexagone.calendar.service import collections, objects
from hexagone.core import policy
from hexagone.core.dav import xml
from hexagone.core.dav.bodies import Wanted, wanted
from hexagone.core.dav.headers import propfind_depth
from hexagone.core.dav.xml import DAV, tag


def describe(ctx: Context, node: Node, want: Wanted, extra: dict[str, str] | None = None) -> str:
    """The DAV:response for ``node``; ``extra`` holds properties computed by the caller
    (calendar-data, address-data)."""
    if node.obj is not None and not want.allprop and not want.propname:
        return _describe_object(node, want, extra or {})
    available = props.properties(ctx.principal, node)
    if extra:
        available.update(extra)
    if want.propname:
        return xml.response(node.path, xml.propstat(dict.fromkeys(available, ""), []))
    if want.allprop:
        found = {k: v for k, v in available.items() if k not in props.NOT_IN_ALLPROP}
        found.update({k: available[k] for k in want.names if k in available})
        return xml.response(node.path, xml.propstat(found, []))
    found = {name: available[name] for name in want.names if name in available}
    missing = [name for name in want.names if name not in available]
    return xml.response(node.path, xml.propstat(found, missing))


def _describe_object(node: Node, want: Wanted, extra: dict[str, str]) -> str:
    """:func:`describe` for a resource, computing only what is asked (listings and syncs
    describe thousands)."""
    assert node.obj is not None
    found: dict[str, str] = {}
    missing: list[str] = []
    for name in want.names:
        if name in extra:
            found[name] = extra[name]
        elif (value := props.OBJECT_PROPS.get(name)) is not None and (got := value(node.obj)) is not None:
            found[name] = got
        else:
            missing.append(name)
    return xml.response(node.path, xml.propstat(found, missing))


async def propfind(ctx: Context) -> Response:
    depth = propfind_depth(ctx.request)
    root = xml.parse(ctx.body, tag(DAV, "propfind"))
    want = wanted(root)
    target = ctx.target
    node = Node(target.path, target.kind, home=target.home, reach=target.reach)
    if target.kind == "object":
        assert target.reach is not None
        _readable(ctx)
        stored = await objects.get(ctx.db, target.reach, target.name)
        node = Node(target.path, "object", reach=target.reach, obj=stored)
    parts = [describe(ctx, node, want)]
    if depth == "1":
        parts += [describe(ctx, child, want) for child in await members(ctx, node)]
    return xml.multistatus(parts)


def _readable(ctx: Context) -> None:
    ctx.require("view")


async def members(ctx: Context, node: Node) -> list[Node]:
    """The members a depth-1 PROPFIND lists."""
    principal = ctx.principal
    if node.kind == "root":
        return [Node(targets.principal_path(principal), "principal")] + [
            Node(targets.home_path(principal, home), "home", home=home) for home in targets.HOMES
        ]
    if node.kind == "principals":
        return [Node(targets.principal_path(principal), "principal")]
    if node.kind == "home":
        kind = targets.HOMES[node.home]
        found = await collections.visible(ctx.db, principal, kind)
        return [
            Node(targets.collection_path(principal, r.collection), "collection", home=node.home, reach=r)
            for r in found
            if r.collection.purpose != Purpose.RESOURCE or kind == CollectionKind.ADDRESS_BOOK
        ]
    if node.kind == "collection":
        assert node.reach is not None
        if not _may_view(ctx, node):
            return []
        return [
            Node(targets.object_path(node.path, obj.name), "object", reach=node.reach, obj=obj)
            for obj in await objects.listing(ctx.db, node.reach)
        ]
    return []


def _may_view(ctx: Context, node: Node) -> bool:
    assert node.reach is not None
    return bool(policy.abilities(ctx.principal, node.reach).get("view"))
