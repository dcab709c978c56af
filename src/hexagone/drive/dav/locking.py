"""LOCK and UNLOCK (RFC 4918 9.10, 9.11): exclusive or shared write locks of depth 0 or
infinity, for the Timeout asked (at most a week), refreshed by a LOCK without a body
whose ``If`` header names the lock. A LOCK on an unmapped URL makes an empty file there
under the new lock (RFC 4918 7.3: 201), as lock-null resources are gone from the RFC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from starlette.responses import Response

from hexagone.core.dav import headers, xml
from hexagone.core.dav.bodies import lock_request
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.db import org_session
from hexagone.core.i18n import _
from hexagone.drive import service
from hexagone.drive.dav import props, targets
from hexagone.drive.dav.context import Context, locks_of
from hexagone.drive.service import LockInfo


async def _empty() -> AsyncIterator[bytes]:
    """No bytes: the content of the file a LOCK on an unmapped URL makes."""
    empty: tuple[bytes, ...] = ()
    for chunk in empty:
        yield chunk


def _answer(lock: LockInfo, root_href: str, status: int) -> Response:
    body = xml.document(f"<D:prop><D:lockdiscovery>{props.active_lock(lock, root_href)}</D:lockdiscovery></D:prop>")
    return Response(body, status_code=status, media_type=xml.XML_TYPE, headers={"lock-token": f"<{lock.token}>"})


async def lock(ctx: Context) -> Response:
    root = xml.parse(await ctx.body(), tag(DAV, "lockinfo"))
    duration = timedelta(seconds=headers.timeout(ctx.request))
    location = ctx.location
    if root is None:
        return await _refresh(ctx, duration)
    asked = lock_request(root)
    depth = headers.depth(ctx.request, default=headers.INFINITY, allowed=("0", headers.INFINITY))
    if not location.names:
        raise DavError(403, _("A drive's root cannot be locked."))
    async with org_session(ctx.principal.org_id, write=True) as db:
        await ctx.check_if(db)
        existing = await targets.find(db, ctx.principal, location)
        folder = await targets.find_folder(db, ctx.principal, location)
        taken = await service.lock(
            db,
            ctx.principal,
            location.drive_id,
            location.path,
            exclusive=asked.exclusive,
            depth_infinity=depth == headers.INFINITY,
            owner_xml=asked.owner_xml,
            duration=duration,
        )
        await db.commit()
    if existing is None:
        await service.store(ctx.principal, folder.id, location.name, _empty(), lock_tokens=[taken.token])
    folder_kind = existing is not None and existing.is_folder
    return _answer(taken, location.href(folder_kind), 200 if existing is not None else 201)


async def _refresh(ctx: Context, duration: timedelta) -> Response:
    async with org_session(ctx.principal.org_id, write=True) as db:
        node = await targets.existing(db, ctx.principal, ctx.location)
        held = {lock.token for lock in await locks_of(db, ctx.principal, node) if lock.token}
        token = next((t for t in ctx.tokens if t in held), None)
        if token is None:
            raise DavError(
                412, _("Name the lock to refresh in the If header."), tag(DAV, "lock-token-matches-request-uri")
            )
        refreshed = await service.refresh(db, ctx.principal, token, duration)
        await db.commit()
    return _answer(refreshed, ctx.location.href(node.is_folder), 200)


async def unlock(ctx: Context) -> Response:
    token = headers.lock_token(ctx.request)
    async with org_session(ctx.principal.org_id, write=True) as db:
        node = await targets.existing(db, ctx.principal, ctx.location)
        if token not in {lock.token for lock in await locks_of(db, ctx.principal, node)}:
            raise DavError(409, _("This lock does not cover this address."), tag(DAV, "lock-token-matches-request-uri"))
        await service.unlock(db, ctx.principal, token)
        await db.commit()
    return Response(status_code=204)
