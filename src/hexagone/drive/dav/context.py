"""What every method handler of the drive's WebDAV receives: the request, its caller,
the location its path names, and the lock tokens its ``If`` header submits; and the
``If`` header's evaluation (RFC 4918 10.4), which every method that changes something
runs before it does (412 when it does not hold)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from hexagone.core.auth import Principal
from hexagone.core.dav import headers, xml
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.headers import Conditions, State
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import _
from hexagone.drive import service
from hexagone.drive.dav import targets
from hexagone.drive.dav.targets import Location
from hexagone.drive.service import LockInfo, NodeInfo


@dataclass
class Context:
    request: Request
    principal: Principal
    location: Location
    conditions: list[Conditions] = field(default_factory=list)

    @property
    def tokens(self) -> frozenset[str]:
        """The lock tokens the ``If`` header submits."""
        return headers.submitted_tokens(self.conditions)

    def header(self, name: str) -> str:
        return self.request.headers.get(name, "")

    async def body(self) -> bytes:
        """A request's XML body (PROPFIND, PROPPATCH, LOCK, MKCOL's), read up to the
        kit's bound: bodies under the DAV prefixes stream (for PUT), so a larger one is
        refused as it comes (413), never gathered whole."""
        chunks = bytearray()
        async for chunk in self.request.stream():
            chunks += chunk
            if len(chunks) > xml.MAX_BODY:
                raise DavError(413, _("The request body is too large."))
        return bytes(chunks)

    async def check_if(self, db: AsyncSession) -> None:
        """412 unless the ``If`` header (if any) holds."""
        if not self.conditions:
            return

        async def state_of(path: str) -> State:
            try:
                location = await targets.locate(self.principal, path)
            except DavError:
                return State("", frozenset())
            node = await targets.find(db, self.principal, location)
            if node is not None:
                return State(node.etag, frozenset(lock.token for lock in await locks_of(db, self.principal, node)))
            # Nothing there yet: the locks of depth infinity on its folder cover the name.
            folder = await targets.find(db, self.principal, location.parent) if location.names else None
            if folder is None:
                return State("", frozenset())
            covering = await locks_of(db, self.principal, folder)
            return State("", frozenset(lock.token for lock in covering if lock.depth == "infinity"))

        if not await headers.evaluate(self.conditions, raw_path(self.request), state_of):
            raise DavError(412, _("The If header's conditions do not hold."))


async def locks_of(db: AsyncSession, principal: Principal, node: NodeInfo) -> list[LockInfo]:
    """The WebDAV locks covering ``node`` (its own, and its folders' of depth infinity)."""
    try:
        return [lock for lock in await service.locks(db, principal, node.id) if lock.kind == "dav"]
    except NotFound:
        return []


def raw_path(request: Request) -> str:
    """The request's path as sent, still percent-encoded."""
    raw: bytes | None = request.scope.get("raw_path")
    if not raw:
        return request.url.path
    try:
        return raw.decode().split("?", 1)[0]
    except UnicodeDecodeError:
        raise DavError(400, _("A name in this address is not valid UTF-8.")) from None
