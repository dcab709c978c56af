"""The organisation's drive settings (quotas, version retention, trash period) and the
room left in a drive.

A drive's quota is its own (``Drive.quota_bytes``) or, without one, the organisation's
default for its kind; the organisation may also cap the sum of all its drives. Every
write that adds bytes charges the drive with one ``UPDATE … RETURNING`` in its own
transaction and fails there when a limit is passed, so concurrent uploads cannot both
squeeze into the last megabyte: the one that commits second is refused and rolled back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Forbidden, InsufficientStorage, Invalid
from hexagone.core.i18n import N_
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import Drive, DriveKind, DriveSettings


@dataclass(frozen=True)
class Settings:
    """An organisation's drive rules. Quotas in bytes, None: no limit."""

    quota_bytes: int | None = None  # all its drives together
    user_quota_bytes: int | None = None  # a personal drive without a quota of its own
    space_quota_bytes: int | None = None  # a space's drive without a quota of its own
    keep_versions: int = 25  # a file keeps at most this many versions…
    keep_version_days: int = 365  # …none older than this (the current one always stays)
    trash_days: int = 30  # what is in the trash is purged after this


DEFAULTS = Settings()
SETTINGS_CHANGED = "drive.settings_changed"  # audited, with each changed value before → after
_FIELDS = tuple(Settings.__dataclass_fields__)
# Beyond these a value is a typing mistake, not a rule (and a day count past the column's
# integer would fail in the database instead of here).
MAX_QUOTA_BYTES = 2**50  # 1 PiB
MAX_VERSIONS = 10_000
MAX_DAYS = 36_500  # a hundred years
_MAXIMA = {"keep_versions": MAX_VERSIONS, "keep_version_days": MAX_DAYS, "trash_days": MAX_DAYS}
# How the messages name each setting (the admin page's labels).
LABELS = {
    "quota_bytes": N_("Storage of the organisation"),
    "user_quota_bytes": N_("Default quota of a personal drive"),
    "space_quota_bytes": N_("Default quota of a space's drive"),
    "keep_versions": N_("Versions kept per file"),
    "keep_version_days": N_("Days a version is kept"),
    "trash_days": N_("Days in the trash"),
}


def check_quota(quota_bytes: int | None) -> None:
    """A quota is None (no limit of its own) or 0 to :data:`MAX_QUOTA_BYTES` bytes."""
    if quota_bytes is not None and (not isinstance(quota_bytes, int) or not 0 <= quota_bytes <= MAX_QUOTA_BYTES):
        raise Invalid(_("A quota is zero bytes or more, and at most 1 PB."))


async def settings(db: AsyncSession) -> Settings:
    """The session's organisation's drive settings (the defaults without a row)."""
    row = await db.scalar(select(DriveSettings))
    if row is None:
        return DEFAULTS
    return Settings(**{name: getattr(row, name) for name in _FIELDS})


async def change_settings(db: AsyncSession, principal: Principal, **values: int | None) -> Settings:
    """Change some of the organisation's drive settings (administrators only)."""
    if not principal.is_admin or principal.is_guest:
        raise Forbidden(_("Only an administrator changes the drive settings."))
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise Invalid(_("Unknown drive setting: %(name)s", name=", ".join(sorted(unknown))))
    for name, value in values.items():
        quota = name.endswith("quota_bytes")
        if (value is None and not quota) or (value is not None and (not isinstance(value, int) or value < 0)):
            raise Invalid(_("%(name)s must be a whole number, zero or more.", name=_(LABELS[name])))
        if name == "keep_versions" and value == 0:
            raise Invalid(_("A file keeps at least one version."))
        if quota:
            check_quota(value)
        elif value is not None and value > _MAXIMA[name]:
            raise Invalid(_("%(name)s must be at most %(n)s.", name=_(LABELS[name]), n=_MAXIMA[name]))
    row = await db.scalar(select(DriveSettings))
    if row is None:
        row = DriveSettings(org_id=principal.org_id, **{n: getattr(DEFAULTS, n) for n in _FIELDS})
        db.add(row)
    changed = {name: f"{getattr(row, name)} → {value}" for name, value in values.items() if getattr(row, name) != value}
    for name, value in values.items():
        setattr(row, name, value)
    if changed:
        audit.record(
            db, SETTINGS_CHANGED, org_id=principal.org_id, actor=principal, target_type="drive", details=changed
        )
    await db.flush()
    return await settings(db)


def quota_of(drive: Drive, rules: Settings) -> int | None:
    """The drive's quota in bytes (None: no limit of its own)."""
    if drive.quota_bytes is not None:
        return drive.quota_bytes
    return rules.user_quota_bytes if drive.kind == DriveKind.PERSONAL else rules.space_quota_bytes


async def org_used(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.coalesce(func.sum(Drive.used_bytes), 0))) or 0)


async def room(db: AsyncSession, drive: Drive) -> int | None:
    """How many bytes may still go into the drive (None: no limit): what an upload may
    send before it is cut, checked again when it is committed."""
    rules = await settings(db)
    limits = []
    quota = quota_of(drive, rules)
    if quota is not None:
        limits.append(quota - drive.used_bytes)
    if rules.quota_bytes is not None:
        limits.append(rules.quota_bytes - await org_used(db))
    return max(0, min(limits)) if limits else None


def too_large() -> InsufficientStorage:
    return InsufficientStorage(_("There is not enough room left in this drive for this file."))


async def charge(db: AsyncSession, drive_id: uuid.UUID, size: int) -> None:
    """Add ``size`` bytes (negative: remove) to the drive's usage in the caller's
    transaction; raise :class:`InsufficientStorage` when adding passes a quota, and the
    caller's transaction must then be rolled back."""
    if size == 0:
        return
    rules = await settings(db)
    if size > 0 and rules.quota_bytes is not None:
        # One writer at a time against the organisation's cap (PostgreSQL; SQLite's write
        # transactions already take turns).
        await db.execute(select(DriveSettings.id).with_for_update())
    used, own, kind = (
        await db.execute(
            update(Drive)
            .where(Drive.id == drive_id)
            .values(used_bytes=Drive.used_bytes + size)
            .returning(Drive.used_bytes, Drive.quota_bytes, Drive.kind)
        )
    ).one()
    if size < 0:
        return
    quota = (
        own if own is not None else rules.user_quota_bytes if kind == DriveKind.PERSONAL else rules.space_quota_bytes
    )
    if quota is not None and used > quota:
        raise too_large()
    if rules.quota_bytes is not None and await org_used(db) > rules.quota_bytes:
        raise InsufficientStorage(_("The organisation's storage is full."))
