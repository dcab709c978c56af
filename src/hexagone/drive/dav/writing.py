"""Changing the tree: PUT (streamed into the blob store, never held in memory: the
service's :func:`~hexagone.drive.service.store` opens its own short transaction once
the bytes are stored), MKCOL, DELETE (to the trash, a folder whole), COPY and MOVE
(within a drive or to another the caller writes in; Overwrite; COPY's Depth 0 or
infinity), and PROPPATCH of dead properties (all or nothing; live properties are
protected, each refused in the multistatus)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from hexagone.core.dav import headers, xml
from hexagone.core.dav.bodies import property_update
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import _
from hexagone.drive import service
from hexagone.drive.dav import props, targets
from hexagone.drive.dav.context import Context
from hexagone.drive.dav.reading import matches
from hexagone.drive.dav.targets import Location
from hexagone.drive.service import NodeInfo


async def _body(ctx: Context) -> AsyncIterator[bytes]:
    """The request's body as it arrives; a client that goes away before its end makes
    the store throw the partial blob away."""
    try:
        async for chunk in ctx.request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise ConnectionResetError("the client went away") from None


async def put(ctx: Context) -> Response:
    if ctx.header("content-range"):
        raise DavError(400, _("A PUT cannot carry a Content-Range: send the whole file."))
    location = ctx.location
    if not location.names:
        raise DavError(405, _("A drive's root is a folder."))
    if_match, if_none = ctx.header("if-match"), ctx.header("if-none-match")
    async with org_session(ctx.principal.org_id) as db:
        await ctx.check_if(db)
        folder = await targets.find_folder(db, ctx.principal, location)
        # What is there matters here to a conditional PUT only; the store finds it anyway.
        existing = await targets.find(db, ctx.principal, location) if if_match or if_none else None
    if existing is not None and existing.is_folder:
        raise DavError(405, _("A folder is there: a PUT cannot replace it."))
    if if_none and existing is not None and matches(if_none, existing):
        raise DavError(412, _("Something is already there."))
    if if_match and (existing is None or not matches(if_match, existing)):
        raise DavError(412, _("The file changed since you last read it."))
    media = ctx.header("content-type").strip()
    stored = await service.store(
        ctx.principal,
        folder.id,
        location.name,
        _body(ctx),
        if_match=existing.etag if if_match and existing is not None else None,
        content_type=media or None,
        lock_tokens=ctx.tokens,
    )
    # A file the store made has not been modified since (both are the store's moment); one
    # it gave a new version to was modified after it was made.
    created = stored.modified_at == stored.created_at
    return Response(status_code=201 if created else 204, headers={"etag": props.etag_header(stored)})


async def mkcol(ctx: Context) -> Response:
    if await ctx.body():
        raise DavError(415, _("MKCOL takes no body here."))
    location = ctx.location
    async with org_session(ctx.principal.org_id, write=True) as db:
        await ctx.check_if(db)
        if not location.names or await targets.find(db, ctx.principal, location) is not None:
            raise DavError(405, _("Something already exists at this address."))
        folder = await targets.find_folder(db, ctx.principal, location)
        await service.create_folder(db, ctx.principal, folder.id, location.name, lock_tokens=ctx.tokens)
        await db.commit()
    return Response(status_code=201)


async def delete(ctx: Context) -> Response:
    location = ctx.location
    depth = ctx.header("depth").strip().lower()
    if depth and depth != headers.INFINITY:
        raise DavError(400, _("DELETE of a folder takes everything in it (Depth: infinity)."))
    async with org_session(ctx.principal.org_id, write=True) as db:
        await ctx.check_if(db)
        node = await targets.existing(db, ctx.principal, location)
        if node.is_root:
            raise DavError(403, _("A drive's root cannot be deleted."))
        await service.trash(db, ctx.principal, node.id, lock_tokens=ctx.tokens)
        await db.commit()
    return Response(status_code=204)


async def proppatch(ctx: Context) -> Response:
    changes = property_update(xml.parse(await ctx.body(), tag(DAV, "propertyupdate")))
    names = list(dict.fromkeys(change.name for change in changes))
    async with org_session(ctx.principal.org_id, write=True) as db:
        await ctx.check_if(db)
        node = await targets.existing(db, ctx.principal, ctx.location)
        href = ctx.location.href(node.is_folder)
        protected = [name for name in names if name in props.LIVE]
        if protected:
            others = [name for name in names if name not in props.LIVE]
            return xml.multistatus([xml.response(href, xml.propstat_elements([], {403: protected, 424: others}))])
        final: dict[tuple[str, str], str | None] = {}
        for change in changes:  # in document order: the last instruction on a name wins
            final[props.dead_name(change.name)] = change.value if change.element is not None else None
        try:
            await service.change_properties(
                db,
                ctx.principal,
                node.id,
                set_={name: value for name, value in final.items() if value is not None},
                remove=[name for name, value in final.items() if value is None],
                lock_tokens=ctx.tokens,
            )
        except Invalid:
            return xml.multistatus([xml.response(href, xml.propstat_elements([], {403: names}))])
        await db.commit()
    return xml.multistatus([xml.response(href, xml.propstat_elements([xml.element(n) for n in names], {}))])


async def copy(ctx: Context) -> Response:
    return await _transfer(ctx, moving=False)


async def move(ctx: Context) -> Response:
    return await _transfer(ctx, moving=True)


def _inside(inner: Location, outer: Location) -> bool:
    return inner.drive_id == outer.drive_id and inner.names[: len(outer.names)] == outer.names


async def _transfer(ctx: Context, *, moving: bool) -> Response:
    depth = headers.depth(
        ctx.request, default=headers.INFINITY, allowed=(headers.INFINITY,) if moving else ("0", headers.INFINITY)
    )
    overwrite = headers.overwrite(ctx.request)
    raw = headers.destination(ctx.request)
    try:
        destination = await targets.locate(ctx.principal, raw)
    except DavError as exc:
        if exc.status == 404:
            raise DavError(403, _("The destination is not in a drive you reach here.")) from None
        raise
    source = ctx.location
    if not source.names:
        raise DavError(403, _("A drive's root cannot be copied or moved."))
    if not destination.names:
        raise DavError(403, _("The destination is a drive's root."))
    if _inside(destination, source):
        raise DavError(403, _("The source and the destination overlap."))
    async with org_session(ctx.principal.org_id, write=True) as db:
        await ctx.check_if(db)
        node = await targets.existing(db, ctx.principal, source)
        folder = await targets.find_folder(db, ctx.principal, destination)
        existing = await targets.find(db, ctx.principal, destination)
        if existing is not None and existing.id == node.id:
            if not moving or destination.names == source.names:
                raise DavError(403, _("The source and the destination are the same."))
            existing = None  # a MOVE that changes only the case of the name
        if existing is not None and not overwrite:
            raise DavError(412, _("Something is already at the destination (Overwrite: F)."))
        await _place(db, ctx, node, folder, destination.name, existing, moving=moving, shallow=depth == "0")
        await db.commit()
    return Response(status_code=204 if existing is not None else 201)


async def _place(
    db: AsyncSession,
    ctx: Context,
    node: NodeInfo,
    folder: NodeInfo,
    name: str,
    existing: NodeInfo | None,
    *,
    moving: bool,
    shallow: bool,
) -> None:
    """``node`` moved or copied into ``folder`` as ``name``, what was there (``existing``,
    Overwrite: T) going to the trash first."""
    options = {"name": name, "on_conflict": "replace", "lock_tokens": ctx.tokens}
    if moving:
        await service.move(db, ctx.principal, node.id, folder.id, **options)  # type: ignore[arg-type]
    elif shallow and node.is_folder:
        # COPY of a folder at depth 0: the folder and its properties, not its members.
        if existing is not None:
            await service.trash(db, ctx.principal, existing.id, lock_tokens=ctx.tokens)
        made = await service.create_folder(db, ctx.principal, folder.id, name, lock_tokens=ctx.tokens)
        dead = await service.properties(db, ctx.principal, node.id)
        if dead:
            await service.change_properties(db, ctx.principal, made.id, set_=dead, lock_tokens=ctx.tokens)
    else:
        await service.copy(db, ctx.principal, node.id, folder.id, **options)  # type: ignore[arg-type]
