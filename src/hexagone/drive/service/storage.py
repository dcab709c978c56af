"""Drives: a user's own, created the first time it is asked for, a space's, created the
first time one of its members asks, the drives a principal reaches, and their usage.

A drive comes with its root folder, made in the same transaction: everything in a drive
hangs under that root, so a name is unique in a folder by one index (see models).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Drive, DriveKind, Node, NodeKind, Share
from hexagone.drive.policy import own_rank, role_name
from hexagone.drive.service import quotas
from hexagone.drive.service.access import Found, grantee, require, shares_on
from hexagone.identity.service import people_by_ids, space_names


@dataclass(frozen=True)
class DriveInfo:
    """A drive as the principal reaches it (the public face's shape)."""

    id: uuid.UUID
    kind: str  # personal or space
    owner_id: uuid.UUID | None
    space_id: uuid.UUID | None
    name: str  # the owner's name or the space's
    root_id: uuid.UUID
    quota_bytes: int | None  # None: no limit
    used_bytes: int
    role: str  # reader, editor or manager on the whole drive ("" when reached through shares only)
    abilities: dict[str, bool] = field(default_factory=dict)  # on its root
    own_quota_bytes: int | None = None  # its own quota (None: the organisation's default for its kind)

    @property
    def available_bytes(self) -> int | None:
        return None if self.quota_bytes is None else max(0, self.quota_bytes - self.used_bytes)


QUOTA_CHANGED = "drive.quota_changed"  # audited, with the drive's own quota before and after


def _no_drive() -> str:
    return _("No such drive.")


async def _create(
    db: AsyncSession, org_id: uuid.UUID, *, owner_id: uuid.UUID | None, space_id: uuid.UUID | None
) -> Drive:
    """A drive with its root folder, in a savepoint: when another request created the same
    drive meanwhile (PostgreSQL), its drive is returned instead."""
    kind = DriveKind.PERSONAL if owner_id is not None else DriveKind.SPACE
    try:
        async with db.begin_nested():
            drive = Drive(id=uuid.uuid4(), org_id=org_id, kind=kind, owner_id=owner_id, space_id=space_id)
            db.add(drive)
            await db.flush()
            root = Node(
                id=uuid.uuid4(),
                org_id=org_id,
                drive_id=drive.id,
                parent_id=None,
                kind=NodeKind.FOLDER,
                name="",
                name_key="",
                etag=uuid.uuid4().hex,
                created_by=owner_id,
                modified_by=owner_id,
            )
            db.add(root)
            await db.flush()
            drive.root_id = root.id
            await db.flush()
    except IntegrityError:
        column = Drive.owner_id if owner_id is not None else Drive.space_id
        existing = await db.scalar(select(Drive).where(column == (owner_id or space_id)))
        if existing is None:
            raise
        return existing
    return drive


async def _ensure(
    db: AsyncSession, org_id: uuid.UUID, *, owner_id: uuid.UUID | None = None, space_id: uuid.UUID | None = None
) -> Drive:
    column = Drive.owner_id if owner_id is not None else Drive.space_id
    drive = await db.scalar(select(Drive).where(column == (owner_id or space_id)))
    return drive if drive is not None else await _create(db, org_id, owner_id=owner_id, space_id=space_id)


async def _root_found(db: AsyncSession, principal: Principal, drive: Drive) -> Found:
    assert drive.root_id is not None
    root = await db.get(Node, drive.root_id)
    assert root is not None
    return Found(principal, drive, [root], await shares_on(db, principal, [root.id]))


async def _names(db: AsyncSession, drives: list[Drive]) -> dict[uuid.UUID, str]:
    owners = await people_by_ids(db, {d.owner_id for d in drives if d.owner_id is not None})
    spaces = await space_names(db, {d.space_id for d in drives if d.space_id is not None})
    names = {}
    for d in drives:
        if d.owner_id is not None:
            names[d.id] = owners[d.owner_id].display_name if d.owner_id in owners else ""
        else:
            names[d.id] = spaces.get(d.space_id, "") if d.space_id is not None else ""
    return names


async def describe(db: AsyncSession, principal: Principal, drive: Drive, name: str | None = None) -> DriveInfo:
    found = await _root_found(db, principal, drive)
    rules = await quotas.settings(db)
    if name is None:
        name = (await _names(db, [drive]))[drive.id]
    assert drive.root_id is not None
    return DriveInfo(
        id=drive.id,
        kind=drive.kind,
        owner_id=drive.owner_id,
        space_id=drive.space_id,
        name=name,
        root_id=drive.root_id,
        quota_bytes=quotas.quota_of(drive, rules),
        used_bytes=drive.used_bytes,
        role=role_name(own_rank(principal, drive)),
        abilities=found.abilities(),
        own_quota_bytes=drive.quota_bytes,
    )


async def drive_of_user(db: AsyncSession, principal: Principal) -> DriveInfo:
    """The principal's own drive, created on first use (the caller commits). Guests have
    none: they reach files through their spaces."""
    if principal.is_guest:
        raise Forbidden(_("Guests have no drive of their own; they use their spaces' drives."))
    drive = await _ensure(db, principal.org_id, owner_id=principal.user_id)
    return await describe(db, principal, drive)


async def drive_of_space(db: AsyncSession, principal: Principal, space_id: uuid.UUID) -> DriveInfo:
    """A space's drive, for its members, created the first time one asks (the caller
    commits). Anyone else: :class:`NotFound`."""
    if space_id not in principal.space_roles:
        raise NotFound(_no_drive())
    if not await space_names(db, [space_id]):  # deleted since the principal was loaded
        raise NotFound(_no_drive())
    drive = await _ensure(db, principal.org_id, space_id=space_id)
    return await describe(db, principal, drive)


async def drive(db: AsyncSession, principal: Principal, drive_id: uuid.UUID) -> DriveInfo:
    """A drive the principal may see the root of (their own, their spaces')."""
    found = await db.get(Drive, drive_id)
    if found is None or found.org_id != principal.org_id:
        raise NotFound(_no_drive())
    await root_found(db, principal, drive_id)
    return await describe(db, principal, found)


async def root_found(db: AsyncSession, principal: Principal, drive_id: uuid.UUID, ability: str = "view") -> Found:
    """The root of a drive as the principal reaches it, if they may do ``ability`` on it."""
    found = await db.get(Drive, drive_id)
    if found is None or found.org_id != principal.org_id:
        raise NotFound(_no_drive())
    root = await _root_found(db, principal, found)
    if not root.abilities().get("view"):
        raise NotFound(_no_drive())
    require(root, ability)
    return root


async def drives(db: AsyncSession, principal: Principal) -> list[DriveInfo]:
    """The drives whose root the principal reaches, those made already (by
    :func:`drive_of_user` and :func:`drive_of_space`): their own, their spaces', and
    drives shared with them whole. Only reads, so a page may list them in a read session."""
    shared_roots = (
        select(Node.drive_id).join(Share, Share.node_id == Node.id).where(Node.parent_id.is_(None), grantee(principal))
    )
    conditions = [Drive.owner_id == principal.user_id, Drive.id.in_(shared_roots)]
    if principal.space_ids:
        conditions.append(Drive.space_id.in_(list(principal.space_ids)))
    rows = list((await db.execute(select(Drive).where(or_(*conditions)))).scalars())
    names = await _names(db, rows)
    found = []
    for row in rows:
        described = await describe(db, principal, row, names[row.id])
        if described.abilities.get("view"):
            found.append(described)
    found.sort(key=lambda d: (d.kind != DriveKind.PERSONAL, d.name.casefold()))
    return found


@dataclass(frozen=True)
class Usage:
    """Bytes used and allowed, for a drive or the organisation."""

    used_bytes: int
    quota_bytes: int | None

    @property
    def available_bytes(self) -> int | None:
        return None if self.quota_bytes is None else max(0, self.quota_bytes - self.used_bytes)


async def usage(db: AsyncSession, principal: Principal, drive_id: uuid.UUID) -> Usage:
    """A drive's usage, for whoever sees its root."""
    info = await drive(db, principal, drive_id)
    return Usage(info.used_bytes, info.quota_bytes)


async def org_usage(db: AsyncSession, principal: Principal) -> tuple[Usage, list[DriveInfo]]:
    """The organisation's usage and every drive's, for its administrators."""
    if not principal.is_admin:
        raise Forbidden(_("Only an administrator sees the organisation's storage."))
    rules = await quotas.settings(db)
    rows = list((await db.execute(select(Drive).order_by(Drive.used_bytes.desc()))).scalars())
    names = await _names(db, rows)
    listed = []
    for row in rows:
        assert row.root_id is not None
        listed.append(
            DriveInfo(
                id=row.id,
                kind=row.kind,
                owner_id=row.owner_id,
                space_id=row.space_id,
                name=names[row.id],
                root_id=row.root_id,
                quota_bytes=quotas.quota_of(row, rules),
                used_bytes=row.used_bytes,
                role=role_name(own_rank(principal, row)),
                own_quota_bytes=row.quota_bytes,
            )
        )
    return Usage(sum(d.used_bytes for d in listed), rules.quota_bytes), listed


async def set_quota(db: AsyncSession, principal: Principal, drive_id: uuid.UUID, quota_bytes: int | None) -> DriveInfo:
    """Give a drive a quota of its own (None: the organisation's default), administrators only."""
    if not principal.is_admin:
        raise Forbidden(_("Only an administrator changes quotas."))
    quotas.check_quota(quota_bytes)
    row = await db.get(Drive, drive_id)
    if row is None or row.org_id != principal.org_id:
        raise NotFound(_no_drive())
    before, row.quota_bytes = row.quota_bytes, quota_bytes
    await db.flush()
    described = await describe(db, principal, row)
    audit.record(
        db,
        QUOTA_CHANGED,
        org_id=principal.org_id,
        actor=principal,
        target_type="drive",
        target_id=row.id,
        target_label=described.name,
        details={"before": str(before), "after": str(quota_bytes)},
    )
    return described


async def ensure_user_drive(org_id: uuid.UUID, user_id: uuid.UUID) -> uuid.UUID:
    """The user's drive id, created if missing, in its own transaction (commands, imports)."""
    async with org_session(org_id, write=True) as db:
        row = await _ensure(db, org_id, owner_id=user_id)
        await db.commit()
        return row.id


def has_own_drive(principal: Principal) -> bool:
    """Whether the person has a drive of their own to save into: their organisation has
    the drive, and they are not a guest (guests have none)."""
    return "drive" in principal.org_modules and not principal.is_guest
