"""Public links: a file or folder reached by an address, without an account (issue #18).

A link is made by whoever may share the node (guests never) in one of two modes: ``view``
(see the file or the folder's entries, download them) or ``upload`` (a file drop: send
files into the folder, see nothing of it). It may have a password (argon2id, core's
hasher) and an expiry, and is revoked at once by any manager of the node.

**The token.** 32 random bytes in the address (``/s/<token>``); only their SHA-256 is
stored, as for sessions, so a copy of the database opens no link. The address is thus
shown once, when the link is made: whoever loses it makes another. ``hint`` (the token's
first characters) lets the owner tell their links apart.

**Whose rights.** A link acts with the rights of the person who made it, checked at each
use: when they leave, lose their access to the node, or their organisation stops
subscribing to the drive, the link stops answering; what a file drop receives is stored
as they would store it (numbered when the name is taken, counted in the drive's quota).

**What a visitor learns.** An unknown, expired or revoked token, or one whose node went,
is the same :class:`NotFound`. A wrong password is :class:`Forbidden` with a message;
wrong passwords are counted in the audit log and throttled per link and address (as
failed logins are, :func:`hexagone.core.audit.recent`), and so are unknown tokens per
address (someone trying addresses). A right password gives a *proof* (signed, with its
expiry, valid for this link and this password only) that the page keeps in a cookie.

**Audit.** Every use of a link is an entry of the organisation's audit log, signed-in
visitor or anonymous, with the address, the link, the node and the outcome: opened,
downloaded, uploaded (or refused, with the status), wrong password, throttled.

**Asking for access.** A member who reaches a file or folder's address without the
right to open it may ask its managers for access: a notification to each (the drive's
owner, the space's owners and managers, the managers a share names), which leads to the
link page where they grant a share. The answer is the same whether the node exists or
not, and asking again the same day notifies nobody again.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, downloads, notifications
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, system_session, utcnow
from hexagone.core.exceptions import Forbidden, Invalid, NotFound, RateLimited, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.core.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_token,
    same,
    sign,
    token_digest,
    verify_password,
)
from hexagone.drive.models import DriveKind, Link, LinkMode, NodeKind, Share
from hexagone.drive.policy import Role
from hexagone.drive.service import content
from hexagone.drive.service.access import (
    Found,
    NodeInfo,
    chain_of,
    found_from_chain,
    load,
    node_info,
    not_found,
)
from hexagone.drive.service.tree import list_folder
from hexagone.identity.service import ROLE_GUEST, group_members, load_principal, people_by_ids, space_people

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
TOKEN_BYTES = 32
HINT_LENGTH = 6
MAX_PASSWORD = 200
PROOF_LIFETIME = timedelta(hours=12)
LISTING_LIMIT = 500
# The throttle: wrong passwords for one link from one address, from anywhere; unknown
# tokens from one address; all within the window.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 10
MAX_FAILURES_PER_LINK = 100
MAX_UNKNOWN_PER_ADDRESS = 50
REQUEST_INTERVAL = timedelta(days=1)

CREATED = "drive.link_created"
REVOKED = "drive.link_revoked"
OPENED = "drive.link_opened"
UNLOCKED = "drive.link_unlocked"
DOWNLOADED = "drive.link_downloaded"
UPLOADED = "drive.link_uploaded"
REFUSED = "drive.link_refused"
WRONG_PASSWORD = "drive.link_password_failed"
THROTTLED = "drive.link_throttled"
ACCESS_REQUESTED = "drive.access_requested"
TARGET = "drive_link"


@dataclass(frozen=True)
class LinkInfo:
    id: uuid.UUID
    node_id: uuid.UUID
    mode: str
    hint: str
    has_password: bool
    expires_at: datetime | None
    created_at: datetime
    created_by: uuid.UUID | None
    revoked_at: datetime | None
    opened: int
    downloads: int
    uploads: int
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


@dataclass(frozen=True)
class NewLink:
    """A link just made, with its token: the only time anyone sees it."""

    link: LinkInfo
    token: str


@dataclass(frozen=True)
class Visitor:
    """Who uses a link: their address, the member if they are signed in, and the proof a
    right password gave (:func:`unlock_link`), if any."""

    ip: str
    principal: Principal | None = None
    proof: str = ""


@dataclass(frozen=True)
class LinkView:
    """What a link's page shows: the node it names; for a folder in ``view`` mode the
    folder being browsed (the link's or one below it), the way down to it from the
    link's folder and its entries. A file drop shows the folder's name only."""

    link: LinkInfo
    node: NodeInfo
    folder: NodeInfo | None
    crumbs: list[NodeInfo]
    entries: list[NodeInfo]


class PasswordNeeded(Forbidden):
    """The link has a password and the visitor has not given it yet (the page asks)."""


def _info(row: Link) -> LinkInfo:
    return LinkInfo(
        id=row.id,
        node_id=row.node_id,
        mode=row.mode,
        hint=row.hint,
        has_password=row.password_hash is not None,
        expires_at=row.expires_at,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        opened=row.opened,
        downloads=row.downloads,
        uploads=row.uploads,
        last_used_at=row.last_used_at,
    )


def link_path(token: str) -> str:
    return f"/s/{token}"


# Managing links (a member of the organisation, with the ``share`` ability)


async def create_link(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    *,
    mode: str = LinkMode.VIEW,
    password: str = "",
    expires_at: datetime | None = None,
    ip: str = "",
) -> NewLink:
    """Make a link to a node the principal may share. ``upload`` needs a folder."""
    found = await load(db, principal, node_id, "share")
    if mode not in (LinkMode.VIEW, LinkMode.UPLOAD):
        raise Invalid(_("A link is for viewing or for sending files."))
    if mode == LinkMode.UPLOAD and found.node.kind != NodeKind.FOLDER:
        raise Invalid(_("Files can be sent only into a folder."))
    if password and not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD:
        raise Invalid(
            _("A link's password has %(min)s to %(max)s characters.", min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD)
        )
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid(_("The expiry date must be in the future."))
    token = new_token(TOKEN_BYTES)
    row = Link(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        node_id=found.node.id,
        created_by=principal.user_id,
        created_at=utcnow(),
        token_digest=token_digest(token),
        hint=token[:HINT_LENGTH],
        mode=mode,
        password_hash=await asyncio.to_thread(hash_password, password) if password else None,
        expires_at=expires_at,
        opened=0,
        downloads=0,
        uploads=0,
    )
    db.add(row)
    await db.flush()
    details = {"node": str(found.node.id), "mode": mode, "password": bool(password)}
    if expires_at is not None:
        details["expires_at"] = expires_at.isoformat()
    _audit(db, row, CREATED, found.node.name, Visitor(ip, principal), **details)
    return NewLink(_info(row), token)


async def node_links(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[LinkInfo]:
    """The links made to a node, newest first (revoked and expired ones included)."""
    found = await load(db, principal, node_id, "share")
    rows = await db.execute(select(Link).where(Link.node_id == found.node.id).order_by(Link.created_at.desc()))
    return [_info(row) for row in rows.scalars()]


async def revoke_link(db: AsyncSession, principal: Principal, link_id: uuid.UUID, *, ip: str = "") -> LinkInfo:
    """End a link now: its next use is refused. Revoking again changes nothing."""
    row = await db.get(Link, link_id)
    if row is None:
        raise NotFound(_("No such link."))
    found = await load(db, principal, row.node_id, "share")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by = principal.user_id
        _audit(db, row, REVOKED, found.node.name, Visitor(ip, principal))
        await db.flush()
    return _info(row)


# Using a link (anyone with its address)


def _audit(db: AsyncSession, row: Link, action: str, label: str, visitor: Visitor, **details: object) -> None:
    audit.record(
        db,
        action,
        org_id=row.org_id,
        actor=visitor.principal,
        actor_label="" if visitor.principal else "anonymous",
        target_type=TARGET,
        target_id=row.id,
        target_label=label,
        ip=visitor.ip,
        details={"link": str(row.id), "node": str(row.node_id), "mode": row.mode, **details},
    )


def _gone() -> NotFound:
    return NotFound(_("This link does not exist or no longer works."))


@dataclass(frozen=True)
class _Live:
    """A link that works now: its row (detached), and its maker as of now."""

    row: Link
    acting: Principal


async def _live(token: str, visitor: Visitor) -> _Live:
    """The link ``token`` names, if it works now; otherwise :class:`NotFound` (audited:
    in the link's organisation when there is one, in the installation's log otherwise),
    or :class:`RateLimited` for an address that tried too many unknown tokens."""
    async with system_session() as db:
        unknown = await audit.recent(db, REFUSED, window=FAILURE_WINDOW, target_label="", ip=visitor.ip)
        if unknown >= MAX_UNKNOWN_PER_ADDRESS:
            raise RateLimited(_("Too many addresses that lead nowhere. Wait a few minutes and try again."))
        row = None
        if TOKEN.fullmatch(token):
            row = await db.scalar(select(Link).where(Link.token_digest == token_digest(token)))
        acting = await load_principal(db, row.created_by) if row is not None and row.created_by else None
    reason = _why_not(row, acting)
    if row is None:
        async with system_session(write=True) as db:
            audit.record(
                db, REFUSED, org_id=None, actor=visitor.principal, ip=visitor.ip, details={"reason": "unknown"}
            )
            await db.commit()
        raise _gone()
    if reason is None and acting is not None:
        async with org_session(row.org_id) as db:
            try:
                await load(db, acting, row.node_id, "write" if row.mode == LinkMode.UPLOAD else "read")
            except ServiceError:
                reason = "node"
    if reason is not None or acting is None:
        async with org_session(row.org_id, write=True) as db:
            _audit(db, row, REFUSED, row.hint, visitor, reason=reason)
            await db.commit()
        raise _gone()
    return _Live(row, acting)


def _why_not(row: Link | None, acting: Principal | None) -> str | None:
    """Why a link found by its token does not work now (None: it does)."""
    if row is None:
        return "unknown"
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= utcnow():
        return "expired"
    if acting is None or acting.is_guest or "drive" not in acting.org_modules:
        return "owner"
    return None


def _proof_for(row: Link, until: int) -> str:
    message = f"drive-link:{row.id}:{row.password_hash}:{until}"
    return f"{until}.{sign(get_settings().resolved_secret_key, message)}"


def _proof_holds(row: Link, proof: str) -> bool:
    until, _dot, _signature = proof.partition(".")
    if not until.isdigit() or int(until) < int(utcnow().timestamp()):
        return False
    return same(proof, _proof_for(row, int(until)))


def _require_password(live: _Live, visitor: Visitor) -> None:
    if live.row.password_hash is not None and not _proof_holds(live.row, visitor.proof):
        raise PasswordNeeded(_("This link is protected by a password."))


async def unlock_link(token: str, password: str, visitor: Visitor) -> str:
    """Check a link's password; the proof to show with the next requests. Throttled
    before the password is checked (:class:`RateLimited`); a wrong one is
    :class:`Forbidden`. Both are audited."""
    live = await _live(token, visitor)
    row = live.row
    if row.password_hash is None:
        return ""
    async with org_session(row.org_id, write=True) as db:
        here = await audit.recent(db, WRONG_PASSWORD, window=FAILURE_WINDOW, target_id=row.id, ip=visitor.ip)
        anywhere = await audit.recent(db, WRONG_PASSWORD, window=FAILURE_WINDOW, target_id=row.id)
        if here >= MAX_FAILURES_PER_ADDRESS or anywhere >= MAX_FAILURES_PER_LINK:
            _audit(db, row, THROTTLED, row.hint, visitor)
            await db.commit()
            raise RateLimited(_("Too many wrong passwords for this link. Wait a few minutes and try again."))
    right = await asyncio.to_thread(verify_password, row.password_hash, password[:MAX_PASSWORD])
    async with org_session(row.org_id, write=True) as db:
        _audit(db, row, UNLOCKED if right else WRONG_PASSWORD, row.hint, visitor)
        await db.commit()
    if not right:
        raise Forbidden(_("Wrong password."))
    return _proof_for(row, int((utcnow() + PROOF_LIFETIME).timestamp()))


async def _count(db: AsyncSession, row: Link, counter: str) -> None:
    """Add one use to the link's counter, in the transaction that audits it (an UPDATE of
    the column by itself: two visits at once both count)."""
    column = getattr(Link, counter)
    await db.execute(update(Link).where(Link.id == row.id).values({column: column + 1, Link.last_used_at: utcnow()}))


def _within(found: Found, link_node: uuid.UUID) -> bool:
    return any(n.id == link_node for n in found.chain)


async def view_link(token: str, visitor: Visitor, folder_id: uuid.UUID | None = None) -> LinkView:
    """What the link's page shows (``folder_id``: a folder below the link's, to browse)."""
    live = await _live(token, visitor)
    _require_password(live, visitor)
    row, acting = live.row, live.acting
    async with org_session(row.org_id, write=True) as db:
        node = await node_info(db, await load(db, acting, row.node_id))
        folder, crumbs, entries = None, [], []
        if row.mode == LinkMode.VIEW and node.is_folder:
            found = await load(db, acting, folder_id or row.node_id)
            if not _within(found, row.node_id) or found.node.kind != NodeKind.FOLDER:
                raise NotFound(not_found())
            listing = await list_folder(db, acting, found.node.id, limit=LISTING_LIMIT)
            folder, entries = listing.folder, listing.entries
            depth = next(i for i, n in enumerate(found.chain) if n.id == row.node_id)
            crumbs = [await node_info(db, await load(db, acting, n.id)) for n in reversed(found.chain[: depth + 1])]
        await _count(db, row, "opened")
        _audit(db, row, OPENED, node.name, visitor, outcome="ok", folder=str(folder.id) if folder else "")
        await db.commit()
    return LinkView(_info(row), node, folder, crumbs, entries)


async def download_link(
    token: str, visitor: Visitor, node_id: uuid.UUID, range_header: str | None = None
) -> tuple[NodeInfo, AsyncIterator[bytes], tuple[int, int] | None]:
    """A file the link shows (the link's file, or one in its folder): whole, or the one
    range ``range_header`` asks for (returned; :class:`downloads.Unsatisfiable` past the end)."""
    live = await _live(token, visitor)
    _require_password(live, visitor)
    row, acting = live.row, live.acting
    if row.mode != LinkMode.VIEW:
        raise NotFound(not_found())
    async with org_session(row.org_id, write=True) as db:
        found = await load(db, acting, node_id)
        if not _within(found, row.node_id):
            raise NotFound(not_found())
        span = downloads.byte_range(range_header, found.node.size)
        start, end = span or (0, found.node.size)
        info, stream = await content.open(db, acting, node_id, start=start, end=end)
        if span is None or start == 0:
            await _count(db, row, "downloads")
        _audit(db, row, DOWNLOADED, info.name, visitor, outcome="ok", file=str(node_id), range=[start, end])
        await db.commit()
    return info, stream, span


async def upload_link(token: str, visitor: Visitor, name: str, chunks: AsyncIterable[bytes]) -> None:
    """Store a file sent through a file drop, numbered when its name is taken, in the
    drive's quota (:class:`InsufficientStorage` past it). The sender learns nothing of the
    folder, not even the name their file got."""
    live = await _live(token, visitor)
    _require_password(live, visitor)
    row, acting = live.row, live.acting
    if row.mode != LinkMode.UPLOAD:
        raise NotFound(not_found())
    try:
        stored = await content.store(acting, row.node_id, name, chunks, overwrite=False, rename=True)
    except ServiceError as refused:
        async with org_session(row.org_id, write=True) as db:
            _audit(db, row, UPLOADED, name[:320], visitor, outcome=refused.status)
            await db.commit()
        raise
    async with org_session(row.org_id, write=True) as db:
        await _count(db, row, "uploads")
        _audit(db, row, UPLOADED, stored.name, visitor, outcome="ok", file=str(stored.id), size=stored.size)
        await db.commit()


# Asking for access


async def request_access(db: AsyncSession, principal: Principal, node_id: uuid.UUID, note: str = "") -> bool:
    """Ask the managers of a node the principal cannot open for access; True when they
    can open it already (nothing is sent). Whether the node exists is not told: the
    answer is the same, and asking twice within a day notifies nobody again."""
    if principal.is_guest:
        raise Forbidden(_("Guests reach files through their spaces: ask a manager of the space."))
    chain = await chain_of(db, node_id)
    found = await found_from_chain(db, principal, chain)
    if found is None or found.drive.org_id != principal.org_id or found.in_trash:
        return False
    if found.abilities().get("view"):
        return True
    asked = await audit.recent(
        db, ACCESS_REQUESTED, window=REQUEST_INTERVAL, target_id=found.node.id, actor_id=principal.user_id
    )
    if asked:
        return False
    title = _("%(person)s asks for access to “%(name)s”", person=principal.display_name, name=found.node.name)
    for manager in await _managers(db, found):
        if manager != principal.user_id:
            notifications.post(
                db,
                org_id=principal.org_id,
                user_id=manager,
                module="drive",
                title=title,
                body=note[:1000],
                link=f"/drive/links/{found.node.id}?requester={principal.user_id}",
            )
    audit.record(
        db,
        ACCESS_REQUESTED,
        org_id=principal.org_id,
        actor=principal,
        target_type="drive_node",
        target_id=found.node.id,
        target_label=found.node.name,
    )
    await db.flush()
    return False


async def _managers(db: AsyncSession, found: Found) -> list[uuid.UUID]:
    """Who may share the node: the personal drive's owner, the space's owners and
    managers, the users and group members a manager's share on it or above names."""
    ids: list[uuid.UUID] = []
    if found.drive.kind == DriveKind.PERSONAL and found.drive.owner_id is not None:
        ids.append(found.drive.owner_id)
    elif found.drive.space_id is not None:
        ids.extend(p.id for p in await space_people(db, found.drive.space_id, ("owner", "manager")))
    chain = [n.id for n in found.chain]
    shares = (await db.execute(select(Share).where(Share.node_id.in_(chain), Share.role == Role.MANAGER))).scalars()
    for share in shares:
        if share.user_id is not None:
            ids.append(share.user_id)
        elif share.group_id is not None:
            ids.extend(p.id for p in await group_members(db, share.group_id))
    people = await people_by_ids(db, set(ids))
    return [i for i in dict.fromkeys(ids) if i in people and people[i].is_active and people[i].role != ROLE_GUEST]
