"""External guests as the admin console sees them: who they are, which spaces they are in,
and the invitations still waiting to be accepted, which an admin may revoke.

Inviting goes through :func:`hexagone.identity.service.tokens.invite_guest`, disabling
through :func:`hexagone.identity.service.users.set_active`: a guest is a user whose role is
``guest``, and the same rules apply to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import Invitation, OrgRole, Space, SpaceMember, User
from hexagone.identity.service.orgs import require_admin


@dataclass(frozen=True)
class GuestRow:
    user: User
    spaces: list[Space]


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    spaces: list[Space]
    expired: bool


async def _spaces_by_id(db: AsyncSession) -> dict[uuid.UUID, Space]:
    return {space.id: space for space in (await db.execute(select(Space).order_by(Space.name))).scalars()}


async def list_guests(db: AsyncSession, actor: Principal) -> list[GuestRow]:
    require_admin(actor)
    guests = list(
        (await db.execute(select(User).where(User.role == OrgRole.GUEST).order_by(User.display_name))).scalars()
    )
    spaces = await _spaces_by_id(db)
    memberships: dict[uuid.UUID, list[Space]] = {guest.id: [] for guest in guests}
    rows = await db.execute(
        select(SpaceMember.user_id, SpaceMember.space_id).where(SpaceMember.user_id.in_(list(memberships)))
    )
    for user_id, space_id in rows.all():
        memberships[user_id].append(spaces[space_id])
    return [GuestRow(user=guest, spaces=sorted(memberships[guest.id], key=lambda s: s.name)) for guest in guests]


async def pending_invitations(db: AsyncSession, actor: Principal) -> list[InvitationRow]:
    """Invitations not accepted yet, newest first; expired ones are kept (and said to be)
    so that an admin sees why a guest never arrived."""
    require_admin(actor)
    invitations = (
        await db.execute(
            select(Invitation).where(Invitation.accepted_at.is_(None)).order_by(Invitation.created_at.desc())
        )
    ).scalars()
    spaces = await _spaces_by_id(db)
    now = utcnow()
    return [
        InvitationRow(
            invitation=invitation,
            spaces=[spaces[uuid.UUID(raw)] for raw in invitation.space_ids if uuid.UUID(raw) in spaces],
            expired=invitation.expires_at <= now,
        )
        for invitation in invitations
    ]


async def revoke_invitation(db: AsyncSession, actor: Principal, invitation_id: uuid.UUID) -> None:
    """The e-mailed link stops working at once: the invitation, and so its token, is gone."""
    require_admin(actor)
    invitation = await db.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None:
        raise NotFound(_("No such invitation."))
    await db.delete(invitation)
    audit.record(
        db,
        "guest.invitation_revoked",
        org_id=actor.org_id,
        actor=actor,
        target_type="invitation",
        target_id=invitation.id,
        target_label=invitation.email,
    )
