"""Which mailboxes an address reaches, and which addresses a user may send as.

An address belongs to an organisation through its domain (identity's), and only an
organisation that subscribes to mail receives mail. Within it, an address is a mailbox
(a user's or a shared one), an alias of a mailbox, or a group (a distribution list that
fans out to every member's mailbox). ``local+tag@domain`` reaches ``local@domain``.

Who may send as an address is the core policy's answer on the sender's access to its
mailbox (mail's rule, :mod:`hexagone.mail.policy`), for SMTP submission, the webmail and
the API alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.identity.service import OrgInfo, Person, group_members, load_principal, person_by_email
from hexagone.identity.service import org_for_domain as _org_of_domain
from hexagone.mail.models import Address, Mailbox
from hexagone.mail.service.mailboxes import Access, accessible, existing_accesses, user_mailbox

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


async def org_for_domain(db: AsyncSession, domain: str) -> OrgInfo | None:
    """The organisation that receives mail for ``domain``, if it subscribes to mail."""
    org = await _org_of_domain(db, domain)
    return org if org is not None and MODULE_NAME in org.modules else None


async def is_local_domain(db: AsyncSession, domain: str) -> bool:
    return await org_for_domain(db, domain) is not None


async def resolve(db: AsyncSession, address: str) -> Recipient | None:
    """The mailboxes ``address`` delivers to, or None if it is nobody here. ``db`` is a
    system session: the recipient's organisation is what this finds out."""
    address = base_address(address)
    _, _, domain = address.rpartition("@")
    org = await org_for_domain(db, domain) if domain else None
    return await resolve_in(db, org.id, address) if org is not None else None


async def resolve_in(db: AsyncSession, org_id: uuid.UUID, address: str) -> Recipient | None:
    """:func:`resolve` once the organisation receiving the domain's mail is known."""
    address = base_address(address)
    mailbox_id = (
        await db.execute(select(Mailbox.id).where(Mailbox.org_id == org_id, Mailbox.address == address))
    ).scalar()
    if mailbox_id is not None:
        return Recipient(org_id, (mailbox_id,))
    user = await person_by_email(db, address)
    if user is not None and user.org_id == org_id:
        if not user.is_active or user.is_guest:
            return None
        return Recipient(org_id, ((await user_mailbox(db, user)).id,))
    alias = (
        await db.execute(select(Address).where(Address.org_id == org_id, Address.address == address))
    ).scalar_one_or_none()
    if alias is None:
        return None
    if alias.mailbox_id is not None:
        return Recipient(org_id, (alias.mailbox_id,))
    assert alias.group_id is not None, "an alias leads to a mailbox or a group"
    members = [member for member in await group_members(db, alias.group_id) if member.is_active and not member.is_guest]
    mailbox_ids = tuple([(await user_mailbox(db, member)).id for member in members])
    return Recipient(org_id, mailbox_ids) if mailbox_ids else None


async def sendable_addresses(
    db: AsyncSession, user: Person, principal: Principal | None = None, accesses: list[Access] | None = None
) -> list[str]:
    """Every address ``user`` may put in From:, their own first: the addresses and aliases
    of each mailbox the core policy lets them send as (mail's rule: their own, and a shared
    or delegated one granted send-as). ``principal`` is the user as signed in (the one the
    request or protocol session holds); a caller with only the person has it loaded.
    ``accesses``: the user's accesses, when the caller has just read them."""
    if principal is None:
        principal = await load_principal(db, user.id)
    if principal is None:  # disabled: sends as nobody
        return []
    if accesses is None:
        accesses = await accessible(db, user)
    sendable = [a for a in accesses if policy.abilities(principal, a).get("send_as")]
    found = [user.email.lower()] if any(a.own for a in sendable) else []
    found += [a.mailbox.address for a in sendable if not a.own]
    if sendable:
        aliases = select(Address.address).where(Address.mailbox_id.in_([a.mailbox.id for a in sendable]))
        found += list((await db.execute(aliases)).scalars())
    return list(dict.fromkeys(found))


async def sending_rights(principal: Principal, user: Person) -> tuple[list[Access], list[str]]:
    """The user's accesses (their own among them) and what they may send as
    (:func:`sendable_addresses`), read in a read session: a message sent takes no turn of
    SQLite's write lock for it. The first time, before their mailbox exists, in a write
    session that makes it (a guest, who gets none, is refused there)."""
    async with org_session(user.org_id) as db:
        accesses = await existing_accesses(db, user.id)
        if any(a.own for a in accesses):
            return accesses, await sendable_addresses(db, user, principal, accesses)
    async with org_session(user.org_id, write=True) as db:
        accesses = await accessible(db, user)
        sendable = await sendable_addresses(db, user, principal, accesses)
        await db.commit()
        return accesses, sendable


async def may_send_as(db: AsyncSession, user: Person, address: str, principal: Principal | None = None) -> bool:
    return base_address(address) in await sendable_addresses(db, user, principal)
