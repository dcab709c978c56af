"""Delegation: the owner of a mailbox lets a colleague open it (read, or read and write,
and send as it). One rule for every way in: the webmail's settings page and IMAP's ACL
commands (RFC 4314 SETACL, DELETEACL, GETACL) call these functions, which ask the core
policy whether the caller manages the mailbox (only its owner does, see
:mod:`hexagone.mail.policy`), accept only active members of the caller's organisation, and
write each change to the audit log.

Shared mailboxes (``contact@``) are not delegated here: their members are set by the
organisation's administrators (:mod:`.administration`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, policy
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Forbidden, Invalid
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import Person, person_by_email
from hexagone.mail.models import MailboxGrant
from hexagone.mail.service import administration, mailboxes
from hexagone.mail.service.mailboxes import Access


def may_manage(principal: Principal, access: Access) -> bool:
    return policy.abilities(principal, access).get("manage", False)


def _require_manage(principal: Principal, access: Access) -> None:
    if not may_manage(principal, access):
        raise Forbidden(_("Only the owner of a mailbox decides who may open it."))


async def delegates(db: AsyncSession, principal: Principal, access: Access) -> list[tuple[Person, MailboxGrant]]:
    """Who the mailbox is delegated to, by name."""
    _require_manage(principal, access)
    return await administration.members_of(db, access.mailbox)


async def colleague(db: AsyncSession, email: str) -> Person | None:
    """An active member of the caller's organisation (the session is scoped to it) who may
    be given a mailbox: none for an unknown address, a guest, or someone of another
    organisation, who all look the same."""
    found = await person_by_email(db, email)
    return found if found is not None and found.is_active and not found.is_guest else None


async def delegate(
    db: AsyncSession,
    principal: Principal,
    access: Access,
    email: str,
    *,
    can_write: bool,
    can_send_as: bool | None = None,
) -> Person:
    """Give (or change) a colleague's access; ``can_send_as`` None keeps what they had."""
    _require_manage(principal, access)
    who = await colleague(db, email)
    if who is None:
        raise Invalid(_("No member of your organisation has this address."))
    if who.id == access.mailbox.user_id:
        raise Invalid(_("This is your own mailbox."))
    if can_send_as is None:
        current = {person.id: grant for person, grant in await administration.members_of(db, access.mailbox)}
        can_send_as = current[who.id].can_send_as if who.id in current else False
    await mailboxes.grant(db, access.mailbox, who.id, can_write=can_write, can_send_as=can_send_as)
    audit.record(
        db,
        "mail.delegation_granted",
        org_id=access.org_id,
        actor=principal,
        target_type="user",
        target_id=who.id,
        target_label=who.email,
        details={"mailbox": access.mailbox.address, "can_write": can_write, "can_send_as": can_send_as},
    )
    return who


async def undelegate(db: AsyncSession, principal: Principal, access: Access, who: Person) -> None:
    """Take a colleague's access away (nothing happens if they had none)."""
    _require_manage(principal, access)
    await mailboxes.revoke(db, access.mailbox, who.id)
    audit.record(
        db,
        "mail.delegation_revoked",
        org_id=access.org_id,
        actor=principal,
        target_type="user",
        target_id=who.id,
        target_label=who.email,
        details={"mailbox": access.mailbox.address},
    )
