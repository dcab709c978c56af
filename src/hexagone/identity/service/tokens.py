"""E-mailed one-time tokens: password resets and guest invitations.

The token is random, sent once in the message, stored as its digest, expires, and is
spent on use. A reset request for an unknown address looks exactly like one for a known
address, so the form does not reveal who has an account.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, auth, outbox, policy
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.security import hash_password, new_token, token_digest
from hexagone.identity.models import Invitation, OrgRole, PasswordReset, Space, SpaceMember, SpaceRole, User
from hexagone.identity.service.orgs import require_admin
from hexagone.identity.service.users import check_password, create_user, email_taken, normalise_email

RESET_LIFETIME = timedelta(hours=1)
# A link an admin sends may wait in a mailbox over a weekend, unlike one the person asked for.
ADMIN_LINK_LIFETIME = timedelta(days=7)
INVITATION_LIFETIME = timedelta(days=14)


def _issue_reset(db: AsyncSession, user: User, lifetime: timedelta) -> str:
    token = new_token()
    db.add(
        PasswordReset(
            org_id=user.org_id, user_id=user.id, token_hash=token_digest(token), expires_at=utcnow() + lifetime
        )
    )
    return token


async def request_password_reset(db: AsyncSession, *, email: str, base_url: str, ip: str) -> None:
    try:
        email = normalise_email(email)
    except Invalid:
        return
    user = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if user is None or not user.is_active:
        return
    token = _issue_reset(db, user, RESET_LIFETIME)
    outbox.enqueue(
        db,
        org_id=user.org_id,
        recipient=user.email,
        kind="password_reset",
        subject=_("Reset your Hexagone password"),
        body=_(
            "Someone (hopefully you) asked to reset your password. Open this link within an hour:\n\n"
            "%(link)s\n\nIf it was not you, ignore this message.",
            link=base_url + "/password/reset/" + token,
        ),
    )
    audit.record(
        db,
        "auth.password_reset_requested",
        org_id=user.org_id,
        actor_label=user.email,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        ip=ip,
    )


async def send_password_link(
    db: AsyncSession, actor: Principal, user_id: uuid.UUID, *, base_url: str, new_account: bool
) -> User:
    """An admin sends a user a link to choose their password: for a new account (so that
    no password travels through the admin) or for one whose owner is locked out."""
    require_admin(actor)
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if not user.is_active:
        raise Conflict(_("This account is disabled."))
    link = base_url + "/password/reset/" + _issue_reset(db, user, ADMIN_LINK_LIFETIME)
    if new_account:
        subject = _("Your %(org)s account is ready", org=actor.org_name)
        body = _(
            "%(name)s created an account for you (%(email)s). Choose your password with this link, "
            "valid for 7 days:\n\n%(link)s",
            name=actor.display_name,
            email=user.email,
            link=link,
        )
    else:
        subject = _("Choose a new password for %(org)s", org=actor.org_name)
        body = _(
            "%(name)s, an administrator of %(org)s, sent you this link to choose a new password. "
            "It is valid for 7 days:\n\n%(link)s",
            name=actor.display_name,
            org=actor.org_name,
            link=link,
        )
    outbox.enqueue(db, org_id=user.org_id, recipient=user.email, subject=subject, body=body, kind="password_reset")
    audit.record(
        db,
        "user.password_link_sent",
        org_id=actor.org_id,
        actor=actor,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        details={"new_account": new_account},
    )
    return user


async def _live_reset(db: AsyncSession, token: str) -> PasswordReset:
    reset = (
        await db.execute(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)))
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise NotFound(_("This link has expired or was already used. Ask for a new one."))
    return reset


async def check_reset_token(db: AsyncSession, token: str) -> None:
    await _live_reset(db, token)


async def reset_password(db: AsyncSession, *, token: str, password: str, ip: str) -> User:
    reset = await _live_reset(db, token)
    check_password(password)
    user = await db.get(User, reset.user_id)
    assert user is not None
    user.password_hash = hash_password(password)
    reset.used_at = utcnow()
    await auth.revoke_all_sessions(db, user.id)
    audit.record(
        db,
        "auth.password_reset",
        org_id=user.org_id,
        actor_label=user.email,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        ip=ip,
    )
    return user


async def invite_guest(
    db: AsyncSession, actor: Principal, *, email: str, space_ids: list[uuid.UUID], base_url: str
) -> Invitation:
    """Invite an outside person into the given spaces (the inviter must manage each)."""
    email = normalise_email(email)
    if not space_ids:
        raise Invalid(_("Choose at least one space for the guest."))
    for space_id in space_ids:
        space = await db.get(Space, space_id)
        if space is None:
            raise NotFound(_("No such space."))
        policy.require(actor, space, "manage_members", _("You cannot invite people into this space."))
        if space.archived_at is not None:
            raise Conflict(_("The space %(name)s is archived.", name=space.name))
    existing = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if existing is not None and existing.role != OrgRole.GUEST:
        raise Invalid(_("%(email)s already has an account: add them to the space directly.", email=email))
    token = new_token()
    invitation = Invitation(
        org_id=actor.org_id,
        email=email,
        space_ids=[str(s) for s in space_ids],
        token_hash=token_digest(token),
        invited_by=actor.user_id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.add(invitation)
    outbox.enqueue(
        db,
        org_id=actor.org_id,
        recipient=email,
        kind="invitation",
        subject=_("%(name)s invites you to Hexagone", name=actor.display_name),
        body=_(
            "%(name)s (%(org)s) invites you as a guest. Open this link to accept:\n\n%(link)s",
            name=actor.display_name,
            org=actor.org_name,
            link=base_url + "/invitation/" + token,
        ),
    )
    audit.record(
        db,
        "guest.invited",
        org_id=actor.org_id,
        actor=actor,
        target_type="invitation",
        target_label=email,
        details={"spaces": invitation.space_ids},
    )
    return invitation


async def live_invitation(db: AsyncSession, token: str) -> Invitation:
    invitation = (
        await db.execute(select(Invitation).where(Invitation.token_hash == token_digest(token)))
    ).scalar_one_or_none()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= utcnow():
        raise NotFound(_("This invitation has expired or was already used."))
    return invitation


async def accept_invitation(db: AsyncSession, *, token: str, display_name: str, password: str, ip: str) -> User:
    """Creates the guest (or reuses the guest account of an earlier invitation) and adds
    them to the invited spaces as members."""
    invitation = await live_invitation(db, token)
    user = (await db.execute(select(User).where(User.email == invitation.email))).scalar_one_or_none()
    if user is None:
        if await email_taken(db, invitation.email):
            raise Invalid(_("An account already exists for %(email)s.", email=invitation.email))
        user, _generated = await create_user(
            db,
            org_id=invitation.org_id,
            email=invitation.email,
            display_name=display_name,
            password=password,
            role=OrgRole.GUEST,
        )
    elif user.org_id != invitation.org_id:
        raise Invalid(_("An account already exists for %(email)s.", email=invitation.email))
    for raw in invitation.space_ids:
        space_id = uuid.UUID(raw)
        member = await db.execute(
            select(SpaceMember.id).where(SpaceMember.space_id == space_id, SpaceMember.user_id == user.id)
        )
        if member.first() is None and await db.get(Space, space_id) is not None:
            db.add(SpaceMember(org_id=invitation.org_id, space_id=space_id, user_id=user.id, role=SpaceRole.MEMBER))
    invitation.accepted_at = utcnow()
    audit.record(
        db,
        "guest.accepted",
        org_id=invitation.org_id,
        actor_label=user.email,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        ip=ip,
    )
    return user
