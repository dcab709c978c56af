"""What an organisation's admin does to its mail: aliases, group addresses, shared
mailboxes and their members, quotas. The admin pages and the CLI call these.

Every function runs in the caller's org-scoped session and checks that the caller is an
admin of the organisation; a mailbox, alias or group of another organisation is simply
not found (NotFound, a 404), as if it did not exist. Every change is audited.

An address is unique across the platform and belongs to the organisation through its
domain, so a new alias or shared mailbox must be in one of the organisation's domains
and used by nobody: no person, no mailbox, no other alias.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import (
    Person,
    add_unique,
    clean_label,
    group,
    group_names,
    members,
    normalise_email,
    org_domains,
    people_by_ids,
    person,
    person_by_email,
    require_admin,
)
from hexagone.mail.models import Address, Mailbox, MailboxGrant, MailboxKind
from hexagone.mail.service import mailboxes

MIB = 1024 * 1024
MAX_QUOTA_BYTES = 10 * 1024**4  # 10 TiB: a typing mistake, not a mailbox


@dataclass(frozen=True)
class AliasView:
    """An extra address and what it reaches, as the aliases page lists them."""

    id: uuid.UUID
    address: str
    target: str  # the mailbox's address or the group's name
    is_group: bool


@dataclass(frozen=True)
class QuotaView:
    """One person's or shared mailbox's usage. A person who never received mail yet has
    no mailbox row: it shows with the default quota and nothing used."""

    address: str
    name: str
    kind: str
    used_bytes: int
    quota_bytes: int


async def check_new_address(db: AsyncSession, address: str) -> str:
    """``address`` normalised, if the organisation may give it out: in one of its
    domains, and nobody's yet (person, mailbox or alias, in any organisation)."""
    address = normalise_email(address)
    if address.rpartition("@")[2] not in await org_domains(db):
        raise Forbidden(_("%(address)s is not in one of the organisation's domains.", address=address))
    if await person_by_email(db, address) is not None:
        raise Conflict(_("The address %(address)s is already in use.", address=address))
    taken = [
        select(Mailbox.id).where(Mailbox.address == address),
        select(Address.id).where(Address.address == address),
    ]
    for query in taken:
        if (await db.execute(query)).first() is not None:
            raise Conflict(_("The address %(address)s is already in use.", address=address))
    return address


async def mailbox_by_address(db: AsyncSession, address: str) -> Mailbox:
    """The mailbox of a member or a shared mailbox, by its address (what an admin types);
    a member's mailbox is created if they never had mail yet."""
    address = normalise_email(address)
    mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one_or_none()
    if mailbox is not None:
        return mailbox
    user = await person_by_email(db, address)
    if user is None or user.is_guest:
        raise Invalid(
            _("No person or shared mailbox of the organisation has the address %(address)s.", address=address)
        )
    return await mailboxes.user_mailbox(db, user)


async def get_mailbox(db: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox:
    mailbox = await db.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound(_("No such mailbox."))
    return mailbox


def _audit(db: AsyncSession, actor: Principal, action: str, target: str, **details: object) -> None:
    audit.record(
        db,
        f"mail.{action}",
        org_id=actor.org_id,
        actor=actor,
        target_type="mail",
        target_label=target,
        details={k: str(v) for k, v in details.items()},
    )


# --- aliases ---------------------------------------------------------------------------


async def list_aliases(db: AsyncSession, actor: Principal) -> list[AliasView]:
    require_admin(actor)
    rows = (
        await db.execute(
            select(Address, Mailbox.address)
            .outerjoin(Mailbox, Mailbox.id == Address.mailbox_id)
            .order_by(Address.address)
        )
    ).all()
    names = await group_names(db, [alias.group_id for alias, _address in rows if alias.group_id is not None])
    return [
        AliasView(
            alias.id,
            alias.address,
            mailbox_address or (names.get(alias.group_id, "") if alias.group_id else ""),
            alias.group_id is not None,
        )
        for alias, mailbox_address in rows
    ]


async def add_alias(db: AsyncSession, actor: Principal, address: str, target: str) -> Address:
    """``address`` delivers to the mailbox whose address is ``target`` (a member's or a
    shared one), and its owner (or those with send-as) may send from it."""
    require_admin(actor)
    address = await check_new_address(db, address)
    mailbox = await mailbox_by_address(db, target)
    alias = Address(org_id=actor.org_id, address=address, mailbox_id=mailbox.id)
    await add_unique(db, alias, _("The address %(address)s is already in use.", address=address))
    _audit(db, actor, "alias_added", address, mailbox=mailbox.address)
    return alias


async def add_group_address(db: AsyncSession, actor: Principal, address: str, group_id: uuid.UUID) -> Address:
    """Give a group a distribution-list address: mail to it reaches every member."""
    require_admin(actor)
    target = await group(db, group_id)
    address = await check_new_address(db, address)
    alias = Address(org_id=actor.org_id, address=address, group_id=target.id)
    await add_unique(db, alias, _("The address %(address)s is already in use.", address=address))
    _audit(db, actor, "group_address_added", address, group=target.name)
    return alias


async def remove_alias(db: AsyncSession, actor: Principal, alias_id: uuid.UUID) -> None:
    require_admin(actor)
    alias = await db.get(Address, alias_id)
    if alias is None:
        raise NotFound(_("No such address."))
    await db.delete(alias)
    await db.flush()
    _audit(db, actor, "alias_removed", alias.address)


# --- shared mailboxes ------------------------------------------------------------------


async def list_shared(db: AsyncSession, actor: Principal) -> list[Mailbox]:
    require_admin(actor)
    query = select(Mailbox).where(Mailbox.kind == MailboxKind.SHARED).order_by(Mailbox.address)
    return list((await db.execute(query)).scalars())


async def get_shared(db: AsyncSession, actor: Principal, mailbox_id: uuid.UUID) -> Mailbox:
    require_admin(actor)
    mailbox = await get_mailbox(db, mailbox_id)
    if mailbox.kind != MailboxKind.SHARED:
        raise NotFound(_("No such mailbox."))
    return mailbox


async def create_shared(db: AsyncSession, actor: Principal, address: str, display_name: str) -> Mailbox:
    require_admin(actor)
    address = await check_new_address(db, address)
    name = clean_label(display_name or address, _("A name of at most 200 characters is required."))
    mailbox = await mailboxes.create_shared_mailbox(db, actor.org_id, address, name)
    _audit(db, actor, "shared_created", address)
    return mailbox


async def members_of(db: AsyncSession, mailbox: Mailbox) -> list[tuple[Person, MailboxGrant]]:
    """Who was granted the mailbox, by name."""
    grants = list((await db.execute(select(MailboxGrant).where(MailboxGrant.mailbox_id == mailbox.id))).scalars())
    people = await people_by_ids(db, [grant.user_id for grant in grants])
    rows = [(people[grant.user_id], grant) for grant in grants if grant.user_id in people]
    return sorted(rows, key=lambda row: row[0].display_name)


async def set_member(
    db: AsyncSession, actor: Principal, mailbox: Mailbox, email: str, *, can_write: bool, can_send_as: bool
) -> MailboxGrant:
    """Give a member of the organisation access to a shared mailbox (read, or read and
    write), and optionally the right to send as it; again for someone changes the rights."""
    require_admin(actor)
    email = normalise_email(email)
    user = await person_by_email(db, email)
    if user is None or user.is_guest:
        raise Invalid(_("Nobody in the organisation has the address %(email)s.", email=email))
    grant = await mailboxes.grant(db, mailbox, user.id, can_write=can_write, can_send_as=can_send_as)
    _audit(db, actor, "grant_set", mailbox.address, user=email, write=can_write, send_as=can_send_as)
    return grant


async def remove_member(db: AsyncSession, actor: Principal, mailbox: Mailbox, user_id: uuid.UUID) -> None:
    require_admin(actor)
    user = await person(db, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    await mailboxes.revoke(db, mailbox, user.id)
    _audit(db, actor, "grant_revoked", mailbox.address, user=user.email)


# --- quotas ----------------------------------------------------------------------------


async def list_quotas(db: AsyncSession, actor: Principal, default_quota: int) -> list[QuotaView]:
    """Every active member and every shared mailbox, by address."""
    require_admin(actor)
    by_address = {m.address: m for m in (await db.execute(select(Mailbox))).scalars()}
    views = []
    for user in await members(db):
        mailbox = by_address.pop(user.email, None)
        views.append(
            QuotaView(
                user.email,
                user.display_name,
                MailboxKind.USER,
                mailbox.used_bytes if mailbox else 0,
                mailbox.quota_bytes if mailbox else default_quota,
            )
        )
    views += [
        QuotaView(m.address, m.display_name, m.kind, m.used_bytes, m.quota_bytes)
        for m in by_address.values()
        if m.kind == MailboxKind.SHARED
    ]
    return sorted(views, key=lambda v: v.address)


def parse_quota_mib(value: str) -> int:
    """A quota typed in MiB (the form's unit), as bytes."""
    try:
        mib = int(value.strip())
    except ValueError:
        raise Invalid(_("The quota is a whole number of megabytes.")) from None
    if mib < 1 or mib * MIB > MAX_QUOTA_BYTES:
        raise Invalid(_("The quota must be between 1 MB and 10 TB."))
    return mib * MIB


async def set_quota(db: AsyncSession, actor: Principal, address: str, quota_bytes: int) -> Mailbox:
    """Change a mailbox's quota. A smaller quota than what it holds is allowed: the
    mailbox then refuses new mail until it is emptied below it."""
    require_admin(actor)
    if not 0 < quota_bytes <= MAX_QUOTA_BYTES:
        raise Invalid(_("The quota must be between 1 MB and 10 TB."))
    mailbox = await mailbox_by_address(db, address)
    before = mailbox.quota_bytes
    mailbox.quota_bytes = quota_bytes
    await db.flush()
    _audit(db, actor, "quota_changed", mailbox.address, before=before, after=quota_bytes)
    return mailbox
