"""Reading: PROPFIND (RFC 4918 9.1) at depth 0 or 1, and GET/HEAD of a file with its
validators (ETag, Last-Modified, If-None-Match, If-Match) and one byte range (206, 416
outside the file). The content streams from the blob store after the database session
is closed; a folder's GET lists its entries as text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response, StreamingResponse

from hexagone.core.dav import headers, xml
from hexagone.core.dav.bodies import Wanted, propfind_wanted
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.db import org_session
from hexagone.core.i18n import _
from hexagone.drive import service
from hexagone.drive.dav import props, targets
from hexagone.drive.dav.context import Context, locks_of
from hexagone.drive.dav.targets import Location
from hexagone.drive.service import DriveInfo, NodeInfo


async def lock_discovery(
    db: AsyncSession, ctx: Context, node: NodeInfo, location: Location, *, inherited_only: bool = False
) -> str:
    """The content of a node's DAV:lockdiscovery: each lock covering it, with its root
    (``inherited_only``: those of depth infinity alone, which also cover its entries)."""
    found = []
    for lock in await locks_of(db, ctx.principal, node):
        if inherited_only and lock.depth != "infinity":
            continue
        root = location
        if lock.node_id is not None and lock.node_id != node.id:
            chain = await service.path_of(db, ctx.principal, lock.node_id)
            root = Location(location.drive_id, location.base, tuple(n.name for n in chain[1:]))
        found.append(props.active_lock(lock, root.href(lock.node_id != node.id or node.is_folder)))
    return "".join(found)


async def propfind(ctx: Context) -> Response:
    depth = headers.propfind_depth(ctx.request)
    want = propfind_wanted(xml.parse(await ctx.body(), tag(DAV, "propfind")))
    async with org_session(ctx.principal.org_id) as db:
        node = await targets.existing(db, ctx.principal, ctx.location)
        parts = await _describe(db, ctx, node, want, depth)
    return xml.multistatus_stream(parts)


async def _describe(db: AsyncSession, ctx: Context, node: NodeInfo, want: Wanted, depth: str) -> Iterator[str]:
    """The DAV:response of the node, then of each of its entries at Depth 1: everything
    they need is read here, in the session; the responses themselves are written as the
    answer is sent."""
    location = ctx.location
    drive: DriveInfo | None = None
    if node.is_folder and (props.wants(want, props.QUOTA_USED) or props.wants(want, props.QUOTA_AVAILABLE)):
        drive = await service.drive(db, ctx.principal, location.drive_id)
    dead = props.wants_dead(want)
    discovery = props.wants(want, props.LOCKDISCOVERY)
    own = await service.properties(db, ctx.principal, node.id) if dead else {}
    locks = await lock_discovery(db, ctx, node, location) if discovery else ""
    describe = props.Describer(want, drive)
    first = describe(location.href(node.is_folder), node, dead=own, locks=locks)
    if depth == "0" or not node.is_folder:
        return iter([first])
    listing = await service.list_folder(db, ctx.principal, node.id, limit=None)
    by_node = await service.folder_properties(db, ctx.principal, node.id) if dead else {}
    # The folder's locks of depth infinity (its own or from above) cover every entry alike:
    # written once. An entry with a lock of its own (the listing says so) is asked for its locks.
    inherited = await lock_discovery(db, ctx, node, location, inherited_only=True) if discovery else ""
    own_locks = {
        entry.id: await lock_discovery(db, ctx, entry, location.child(entry.name))
        for entry in listing.entries
        if discovery and entry.lock is not None
    }
    prefix = location.href(True)  # each entry's href is the folder's and its own name, quoted once

    def entries() -> Iterator[str]:
        yield first
        for entry in listing.entries:
            href = prefix + quote(entry.name, safe=targets.SAFE) + ("/" if entry.kind == "folder" else "")
            entry_locks = own_locks.get(entry.id, inherited)
            yield describe(href, entry, dead=by_node.get(entry.id, {}), locks=entry_locks)

    return entries()


def matches(header: str, node: NodeInfo) -> bool:
    """Whether an If-Match / If-None-Match value names the node's ETag (or is ``*``)."""
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or node.etag in tags


def _range(value: str, size: int) -> tuple[int, int] | None:
    """The one byte range of a Range header as (start, end excluded); None to send the
    whole file (no range, several, or a unit we do not serve); 416 outside the file."""
    unit, _sep, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()):
        return None
    if last and not last.isdigit():
        return None
    if not first:  # the last n bytes
        count = int(last)
        if count == 0:
            raise _unsatisfiable(size)
        return max(0, size - count), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> DavError:
    return DavError(416, _("The range asked for is not in the file."), headers={"content-range": f"bytes */{size}"})


async def get(ctx: Context, head: bool = False) -> Response:
    async with org_session(ctx.principal.org_id) as db:
        node = await targets.existing(db, ctx.principal, ctx.location)
        if node.is_folder:
            return await _folder_text(db, ctx, node, head)
        validators = {"etag": props.etag_header(node), "last-modified": props.http_date(node.modified_at)}
        if (if_match := ctx.header("if-match")) and not matches(if_match, node):
            raise DavError(412, _("The file changed since you last read it."))
        if (if_none := ctx.header("if-none-match")) and matches(if_none, node):
            return Response(status_code=304, headers=validators)
        wanted = _range(ctx.header("range"), node.size) if ctx.header("range") else None
        if wanted is not None and (if_range := ctx.header("if-range")) and if_range.strip('"') != node.etag:
            wanted = None
        start, end = wanted if wanted is not None else (0, node.size)
        extra = {"accept-ranges": "bytes", "content-length": str(end - start), **validators}
        if wanted is not None:
            extra["content-range"] = f"bytes {start}-{end - 1}/{node.size}"
        status = 206 if wanted is not None else 200
        if head:
            return Response(status_code=status, headers=extra, media_type=node.content_type)
        _info, stream = await service.open(db, ctx.principal, node.id, start=start, end=end)
    return StreamingResponse(_closing(stream), status_code=status, headers=extra, media_type=node.content_type)


async def _closing(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The blob's chunks, the blob closed however the answer ends (a client gone too)."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


async def _folder_text(db: AsyncSession, ctx: Context, node: NodeInfo, head: bool) -> Response:
    listing = await service.list_folder(db, ctx.principal, node.id, limit=None)
    text = "".join(f"{e.name}{'/' if e.is_folder else ''}\n" for e in listing.entries)
    response = Response(text, media_type="text/plain; charset=utf-8", headers={"etag": props.etag_header(node)})
    if head:
        return Response(status_code=200, headers=dict(response.headers))
    return response
