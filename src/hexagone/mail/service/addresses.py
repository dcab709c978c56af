"""Which mailboxes an address reaches, and which addresses a user may send as.

An address belongs to an organisation through its domain (``Domain``), and only an
organisation that subscribes to mail receives mail. Within it, an address is a mailbox
(a user's or a shared one), an alias of a mailbox, or a group (a distribution list that
fans out to every member's mailbox). ``local+tag@domain`` reaches ``local@domain``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.identity.service.directory import Domain, GroupMember, Organisation, OrgRole, User
from hexagone.mail.models import Address, Mailbox, MailboxGrant
from hexagone.mail.service.mailboxes import user_mailbox

MODULE_NAME = "mail"


@dataclass(frozen=True)
class Recipient:
    org_id: uuid.UUID
    mailbox_ids: tuple[uuid.UUID, ...]


def normalise(address: str) -> str:
    return address.strip().strip("<>").lower()


def base_address(address: str) -> str:
    """``bob+lists@example.org`` → ``bob@example.org`` (subaddressing, RFC 5233)."""
    local, _, domain = normalise(address).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else normalise(address)


async def org_for_domain(db: AsyncSession, domain: str) -> Organisation | None:
    """The organisation that receives mail for ``domain``, if it subscribes to mail."""
    org = (
        await db.execute(
            select(Organisation)
            .join(Domain, Domain.org_id == Organisation.id)
            .where(Domain.name == domain.lower().rstrip("."))
        )
    ).scalar_one_or_none()
    return org if org is not None and MODULE_NAME in (org.modules or []) else None


async def is_local_domain(db: AsyncSession, domain: str) -> bool:
    return await org_for_domain(db, domain) is not None


async def resolve(db: AsyncSession, address: str) -> Recipient | None:
    """The mailboxes ``address`` delivers to, or None if it is nobody here. ``db`` is a
    system session: the recipient's organisation is what this finds out."""
    address = base_address(address)
    _, _, domain = address.rpartition("@")
    org = await org_for_domain(db, domain) if domain else None
    if org is None:
        return None
    mailbox_id = (
        await db.execute(select(Mailbox.id).where(Mailbox.org_id == org.id, Mailbox.address == address))
    ).scalar()
    if mailbox_id is not None:
        return Recipient(org.id, (mailbox_id,))
    user = (await db.execute(select(User).where(User.org_id == org.id, User.email == address))).scalar_one_or_none()
    if user is not None:
        if not user.is_active or user.role == OrgRole.GUEST:
            return None
        return Recipient(org.id, ((await user_mailbox(db, user)).id,))
    alias = (
        await db.execute(select(Address).where(Address.org_id == org.id, Address.address == address))
    ).scalar_one_or_none()
    if alias is None:
        return None
    if alias.mailbox_id is not None:
        return Recipient(org.id, (alias.mailbox_id,))
    members = (
        await db.execute(
            select(User)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == alias.group_id, User.is_active.is_(True), User.role != OrgRole.GUEST)
            .order_by(User.email)
        )
    ).scalars()
    mailbox_ids = tuple([(await user_mailbox(db, member)).id for member in members])
    return Recipient(org.id, mailbox_ids) if mailbox_ids else None


async def sendable_addresses(db: AsyncSession, user: User) -> list[str]:
    """Every address ``user`` may put in From: their own, their mailbox's aliases, and
    the shared mailboxes (and aliases) where they were granted send-as."""
    own = await user_mailbox(db, user)
    granted = select(MailboxGrant.mailbox_id).where(MailboxGrant.user_id == user.id, MailboxGrant.can_send_as.is_(True))
    mailbox_ids = [own.id, *(await db.execute(granted)).scalars()]
    addresses = [user.email.lower()]
    addresses += list((await db.execute(select(Mailbox.address).where(Mailbox.id.in_(mailbox_ids[1:])))).scalars())
    addresses += list((await db.execute(select(Address.address).where(Address.mailbox_id.in_(mailbox_ids)))).scalars())
    return list(dict.fromkeys(addresses))


async def may_send_as(db: AsyncSession, user: User, address: str) -> bool:
    return base_address(address) in await sendable_addresses(db, user)
