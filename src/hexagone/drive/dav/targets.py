"""The URL layout of the drive's WebDAV tree and what a path names for its caller::

    /dav/files/<login e-mail>/<path>     one's own drive (nobody else's: 404)
    /dav/spaces/<space id>/<path>        the drive of a space one is a member of

The user segment is the login e-mail (compared without case), which every client is
configured with already; an administrator reaches no other user's drive, a guest has no
drive of their own (404) and reaches their spaces'. A path is split on the raw URL before
its segments are decoded, so that an encoded ``/`` (``%2F``) inside a name is refused
rather than taken for a separator; ``.`` and ``..``, encoded or not, are refused too
(400), and names are checked by the service's rules (control characters, reserved
device names…: 400 with the reason).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.dav.errors import DavError
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, NotFound
from hexagone.core.i18n import _
from hexagone.drive import service
from hexagone.drive.service import NodeInfo

FILES = "/dav/files/"
SPACES = "/dav/spaces/"
SAFE = "~@!$&'()*+,;=:"  # kept as they are in a segment of our hrefs (RFC 3986 pchar)


@dataclass(frozen=True)
class Location:
    """A path of the tree: the drive it is in, the drive's own URL (``base``, ending in
    ``/``) and the names under the drive's root."""

    drive_id: uuid.UUID
    base: str
    names: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/".join(self.names)

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else ""

    @property
    def parent(self) -> Location:
        return Location(self.drive_id, self.base, self.names[:-1])

    def child(self, name: str) -> Location:
        return Location(self.drive_id, self.base, (*self.names, name))

    def href(self, folder: bool) -> str:
        """The URL of this path (collections end in ``/``)."""
        if not self.names:
            return self.base
        return self.base + "/".join(quote(n, safe=SAFE) for n in self.names) + ("/" if folder else "")


def not_found() -> DavError:
    return DavError(404, _("No such file or folder."))


def segments(raw_path: str) -> list[str]:
    """The decoded segments of a raw (still percent-encoded) path, refusing what would
    let a name escape its folder."""
    parts = [p for p in raw_path.split("/") if p]
    decoded = []
    for part in parts:
        try:
            name = unquote(part, errors="strict")
        except UnicodeDecodeError:
            raise DavError(400, _("A name in this address is not valid UTF-8.")) from None
        if "/" in name or "\\" in name:
            raise DavError(400, _("A name cannot contain “/” or “\\”."))
        if name in (".", ".."):
            raise DavError(400, _("A path cannot contain “.” or “..”."))
        decoded.append(name)
    return decoded


# Drives this process has made sure exist, by (principal's user, what): a drive is made
# the first time it is asked for, in a write transaction; later requests only read.
_drives: dict[tuple[uuid.UUID, str], uuid.UUID] = {}


async def _drive_id(principal: Principal, kind: str, space_id: uuid.UUID | None) -> uuid.UUID:
    key = (principal.user_id, str(space_id) if space_id else "own")
    if (known := _drives.get(key)) is not None:
        return known
    try:
        async with org_session(principal.org_id, write=True) as db:
            if kind == "files":
                drive = await service.drive_of_user(db, principal)
            else:
                assert space_id is not None
                drive = await service.drive_of_space(db, principal, space_id)
            await db.commit()
    except (NotFound, Forbidden):
        raise not_found() from None
    if len(_drives) > 100_000:
        _drives.clear()
    _drives[key] = drive.id
    return drive.id


async def locate(principal: Principal, raw_path: str) -> Location:
    """The location a raw request path (or a Destination's) names for the principal:
    404 for a drive that is not theirs to reach (another's, another organisation's)."""
    parts = segments(raw_path)
    if len(parts) < 3 or parts[0] != "dav" or parts[1] not in ("files", "spaces"):
        raise not_found()
    kind, owner = parts[1], parts[2]
    if kind == "files":
        if principal.is_guest or owner.casefold() != principal.email.casefold():
            raise not_found()
        base = FILES + quote(principal.email, safe=SAFE) + "/"
        drive_id = await _drive_id(principal, kind, None)
    else:
        try:
            space_id = uuid.UUID(owner)
        except ValueError:
            raise not_found() from None
        if space_id not in principal.space_roles:
            raise not_found()
        base = f"{SPACES}{space_id}/"
        drive_id = await _drive_id(principal, kind, space_id)
    return Location(drive_id, base, tuple(parts[3:]))


async def find(db: AsyncSession, principal: Principal, location: Location) -> NodeInfo | None:
    """The node at ``location``, None when there is none (or none the principal sees)."""
    try:
        return await service.resolve_path(db, principal, location.drive_id, location.path)
    except NotFound:
        return None


async def existing(db: AsyncSession, principal: Principal, location: Location) -> NodeInfo:
    """The node at ``location``: 404 when there is none (or none the principal sees)."""
    node = await find(db, principal, location)
    if node is None:
        raise not_found()
    return node


async def find_folder(db: AsyncSession, principal: Principal, location: Location) -> NodeInfo:
    """The folder a new entry at ``location`` goes into: 409 when it is missing or not a
    folder (RFC 4918 9.3.1, 9.7.1)."""
    parent = await find(db, principal, location.parent)
    if parent is None or not parent.is_folder:
        raise DavError(409, _("The folder this would go into does not exist."))
    return parent
