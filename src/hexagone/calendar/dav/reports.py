"""REPORT (RFC 3253 3.6): calendar-query, calendar-multiget and free-busy-query (RFC 4791
7.8-7.10), addressbook-query and addressbook-multiget (RFC 6352 8.6-8.7), and
sync-collection (RFC 6578 3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

from starlette.responses import Response

from hexagone.calendar import ical, vcard
from hexagone.calendar.dav import filters, freebusy
from hexagone.calendar.dav.context import Context
from hexagone.calendar.dav.errors import too_many_instances
from hexagone.calendar.dav.namespaces import CALDAV, CARDDAV
from hexagone.calendar.dav.propfind import describe
from hexagone.calendar.dav.props import SYNC_TOKEN_PREFIX, Node
from hexagone.calendar.dav.targets import object_path, principal_path
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import objects
from hexagone.calendar.service.objects import StoredObject
from hexagone.core.dav import xml
from hexagone.core.dav.bodies import Wanted, wanted
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _

CALENDAR_DATA = tag(CALDAV, "calendar-data")
ADDRESS_DATA = tag(CARDDAV, "address-data")


async def report(ctx: Context) -> Response:
    root = xml.parse(ctx.body)
    if root is None:
        raise DavError(400, _("REPORT needs a body."))
    handler = _HANDLERS.get(root.tag)
    target = ctx.target
    if root.tag in _PRINCIPAL_REPORTS and target.kind in ("root", "principals", "principal"):
        return await _PRINCIPAL_REPORTS[root.tag](ctx, root)
    if handler is None or target.kind != "collection":
        raise DavError(403, _("This report is not supported here."), tag(DAV, "supported-report"))
    kind, run = handler
    assert target.reach is not None
    if kind is not None and target.reach.collection.kind != kind:
        raise DavError(403, _("This report is not supported here."), tag(DAV, "supported-report"))
    if root.tag != tag(CALDAV, "free-busy-query"):
        ctx.require("view")
    return await run(ctx, root)


def _expand_range(root: Element) -> tuple[datetime, datetime] | None:
    """The range of ``<C:calendar-data><C:expand start end/>`` in the report's DAV:prop."""
    found = root.find(f"{tag(DAV, 'prop')}/{CALENDAR_DATA}/{tag(CALDAV, 'expand')}")
    if found is None:
        return None
    start, end = filters.when(found.get("start")), filters.when(found.get("end"))
    if start is None or end is None:
        raise DavError(403, _("Expanding needs a start and an end."), tag(CALDAV, "valid-filter"))
    return start, end


def _data_props(stored: StoredObject, want: Wanted, expand: tuple[datetime, datetime] | None) -> dict[str, str]:
    """calendar-data / address-data, when asked for."""
    if stored.component == "VCARD":
        return {ADDRESS_DATA: xml.text(stored.data)} if ADDRESS_DATA in want.names else {}
    if CALENDAR_DATA not in want.names:
        return {}
    data = stored.data
    if expand is not None and not stored.recurring:
        data = ical.in_utc(data)
    elif expand is not None:
        try:
            data = ical.expand_by_etag(stored.etag, data, *expand)
        except ical.TooManyInstances as exc:
            raise too_many_instances() from exc
    return {CALENDAR_DATA: xml.text(data)}


def _describe_objects(ctx: Context, found: list[StoredObject], want: Wanted, root: Element) -> list[str]:
    expand = _expand_range(root)
    base = ctx.target.path
    return [
        describe(
            ctx,
            Node(object_path(base, s.name), "object", reach=ctx.target.reach, obj=s),
            want,
            _data_props(s, want, expand),
        )
        for s in found
    ]


async def calendar_query(ctx: Context, root: Element) -> Response:
    query = filters.calendar_query(root)
    assert ctx.target.reach is not None
    found = await objects.overlapping(ctx.db, ctx.target.reach, query.start, query.end, component=query.component)
    if query.rest is not None:
        found = [s for s in found if filters.matches(ical.parse(s.data), query)]
    return xml.multistatus(_describe_objects(ctx, found, wanted(root), root))


def _names(ctx: Context, root: Element) -> tuple[list[str], list[str]]:
    """The resource names a multiget asks for in this collection, and hrefs outside it."""
    base = unquote(ctx.target.path)
    names, outside = [], []
    for element in root.findall(tag(DAV, "href")):
        href = (element.text or "").strip()
        path = unquote(urlsplit(href).path)
        parent, _, name = path.rpartition("/")
        if parent + "/" == base and name:
            names.append(name)
        else:
            outside.append(href)
    return names, outside


async def multiget(ctx: Context, root: Element) -> Response:
    assert ctx.target.reach is not None
    names, outside = _names(ctx, root)
    found = await objects.many(ctx.db, ctx.target.reach, names)
    present = {s.name for s in found}
    parts = _describe_objects(ctx, found, wanted(root), root)
    missing = [object_path(ctx.target.path, n) for n in names if n not in present] + outside
    parts += [xml.response(path, xml.status(404)) for path in missing]
    return xml.multistatus(parts)


async def addressbook_query(ctx: Context, root: Element) -> Response:
    query = filters.card_query(root)
    assert ctx.target.reach is not None
    found = []
    for stored in await objects.overlapping(ctx.db, ctx.target.reach, None, None):
        if filters.card_matches(vcard.parse(stored.data), query):
            found.append(stored)
            if query.limit is not None and len(found) >= query.limit:
                break
    return xml.multistatus(_describe_objects(ctx, found, wanted(root), root))


def parse_token(ctx: Context, token: str) -> int:
    """The change number in a sync token of this collection; 403 valid-sync-token otherwise."""
    assert ctx.target.reach is not None
    if not token:
        return 0
    prefix = f"{SYNC_TOKEN_PREFIX}{ctx.target.reach.collection.id.hex}:"
    number = token[len(prefix) :] if token.startswith(prefix) else ""
    if not number.isdigit():
        raise _bad_token()
    return int(number)


def _bad_token() -> DavError:
    return DavError(403, _("This sync token is not valid for this collection."), tag(DAV, "valid-sync-token"))


async def sync_collection(ctx: Context, root: Element) -> Response:
    reach = ctx.target.reach
    assert reach is not None
    token = (root.findtext(tag(DAV, "sync-token")) or "").strip()
    since = parse_token(ctx, token)
    limit_text = (root.findtext(f"{tag(DAV, 'limit')}/{tag(DAV, 'nresults')}") or "").strip()
    limit = int(limit_text) if limit_text.isdigit() and int(limit_text) > 0 else None
    try:
        changes = await objects.changes(ctx.db, reach, since, limit)
    except Invalid as exc:
        raise _bad_token() from exc
    want = wanted(root)
    base = ctx.target.path
    needs_data = CALENDAR_DATA in want.names or ADDRESS_DATA in want.names
    data: dict[str, StoredObject] = {}
    if needs_data and changes.changed:
        data = {s.name: s for s in await objects.many(ctx.db, reach, [c.name for c in changes.changed])}
    parts = []
    for info in changes.changed:
        stored = data.get(info.name)
        extra = _data_props(stored, want, None) if stored is not None else None
        parts.append(describe(ctx, Node(object_path(base, info.name), "object", reach=reach, obj=info), want, extra))
    parts += [xml.response(object_path(base, name), xml.status(404)) for name in changes.deleted]
    if changes.truncated:  # RFC 6578 3.6: the rest comes with the next token
        parts.append(xml.response(base, xml.status(507) + "<D:error><D:number-of-matches-within-limits/></D:error>"))
    new_token = f"{SYNC_TOKEN_PREFIX}{reach.collection.id.hex}:{changes.token}"
    return xml.multistatus(parts, f"<D:sync-token>{xml.text(new_token)}</D:sync-token>")


_HANDLERS: dict[str, tuple[str | None, Callable[[Context, Element], Awaitable[Response]]]] = {
    tag(CALDAV, "calendar-query"): (CollectionKind.CALENDAR, calendar_query),
    tag(CALDAV, "calendar-multiget"): (CollectionKind.CALENDAR, multiget),
    tag(CALDAV, "free-busy-query"): (CollectionKind.CALENDAR, freebusy.free_busy_query),
    tag(CARDDAV, "addressbook-query"): (CollectionKind.ADDRESS_BOOK, addressbook_query),
    tag(CARDDAV, "addressbook-multiget"): (CollectionKind.ADDRESS_BOOK, multiget),
    tag(DAV, "sync-collection"): (None, sync_collection),
}


async def principal_search(ctx: Context, root: Element) -> Response:
    """principal-property-search (RFC 3744 9.4), answered with the caller's own principal
    when it matches: the DAV tree shows no other person (the directory address book does)."""
    principal = ctx.principal
    values = {
        tag(DAV, "displayname"): principal.display_name,
        tag(CALDAV, "calendar-user-address-set"): f"mailto:{principal.email}",
        tag(CALDAV, "calendar-user-type"): "INDIVIDUAL",
    }
    anyof = root.get("test", "allof") == "anyof"
    results = []
    for search in root.findall(tag(DAV, "property-search")):
        needle = (search.findtext(tag(DAV, "match")) or "").casefold()
        prop = search.find(tag(DAV, "prop"))
        names = [p.tag for p in prop] if prop is not None else []
        results.append(any(needle in values.get(n, "").casefold() for n in names))
    if results and not (any(results) if anyof else all(results)):
        return xml.multistatus([])
    # Properties wanted are in DAV:prop; some clients (the caldav library) put them beside it.
    skip = (tag(DAV, "property-search"), tag(DAV, "prop"), tag(DAV, "apply-to-principal-collection-set"))
    loose = [c.tag for c in root if c.tag not in skip]
    want = Wanted(names=(*wanted(root).names, *loose))
    node = Node(principal_path(ctx.principal), "principal")
    return xml.multistatus([describe(ctx, node, want)])


async def principal_search_properties(ctx: Context, _root: Element) -> Response:
    """principal-search-property-set (RFC 3744 9.5): what principal-property-search matches."""
    body = "".join(
        f"<D:principal-search-property><D:prop>{xml.element(name)}</D:prop></D:principal-search-property>"
        for name in (tag(DAV, "displayname"), tag(CALDAV, "calendar-user-address-set"))
    )
    document = xml.document(f"<D:principal-search-property-set>{body}</D:principal-search-property-set>")
    return Response(document, media_type=xml.XML_TYPE)


_PRINCIPAL_REPORTS: dict[str, Callable[[Context, Element], Awaitable[Response]]] = {
    tag(DAV, "principal-property-search"): principal_search,
    tag(DAV, "principal-search-property-set"): principal_search_properties,
}
