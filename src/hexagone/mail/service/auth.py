"""Signing in to IMAP and SMTP submission: the account password, or an app password.

Mail clients cannot ask for a TOTP code, so an account with MFA signs in to them only
with an app password (a random secret made for one client, revocable on its own); an
account without MFA may use either. Attempts go through identity's login rules (see
:mod:`hexagone.identity.service.login`): the same audit entries, the same throttling and
known devices as the web login, with the protocol named as the channel.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import Settings, get_settings
from hexagone.core.db import system_session, utcnow
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.core.security import token_digest
from hexagone.identity.service import login
from hexagone.identity.service.directory import Organisation, OrgRole, User, user_by_email
from hexagone.mail.models import AppPassword
from hexagone.mail.service.addresses import MODULE_NAME

APP_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
APP_PASSWORD_LENGTH = 20  # 100 bits


def _normalise_app_password(password: str) -> str:
    return password.replace(" ", "").replace("-", "").lower()


async def create_app_password(db: AsyncSession, user: User, label: str) -> tuple[AppPassword, str]:
    """A new app password; the secret is returned once, grouped by four for reading."""
    label = label.strip()[:100]
    if not label:
        raise Invalid(_("Name the client this password is for."))
    secret = "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(APP_PASSWORD_LENGTH))
    row = AppPassword(org_id=user.org_id, user_id=user.id, label=label, token_hash=token_digest(secret))
    db.add(row)
    await db.flush()
    return row, " ".join(secret[i : i + 4] for i in range(0, APP_PASSWORD_LENGTH, 4))


async def app_passwords(db: AsyncSession, user_id: uuid.UUID) -> list[AppPassword]:
    return list(
        (
            await db.execute(select(AppPassword).where(AppPassword.user_id == user_id).order_by(AppPassword.created_at))
        ).scalars()
    )


async def revoke_app_password(db: AsyncSession, user_id: uuid.UUID, app_password_id: uuid.UUID) -> None:
    await db.execute(delete(AppPassword).where(AppPassword.user_id == user_id, AppPassword.id == app_password_id))


async def _by_app_password(db: AsyncSession, user: User, password: str) -> AppPassword | None:
    digest = token_digest(_normalise_app_password(password))
    return (
        await db.execute(select(AppPassword).where(AppPassword.user_id == user.id, AppPassword.token_hash == digest))
    ).scalar_one_or_none()


async def _mail_refusal(db: AsyncSession, user: User | None) -> str:
    """Why this account cannot open a mail session whatever the password, or ""."""
    org = await db.get(Organisation, user.org_id) if user is not None else None
    if user is None or org is None or not user.is_active:
        return "bad_credentials"
    if user.role == OrgRole.GUEST or MODULE_NAME not in (org.modules or []):
        return "no_mailbox"
    return ""


async def authenticate(email: str, password: str, *, ip: str, channel: str, settings: Settings | None = None) -> User:
    """The user these credentials open a mail session for, or Invalid / RateLimited.

    Every refusal costs one argon2 verification, also for an unknown address, a guest or
    an account that needs an app password: the time of the answer tells nothing.
    """
    settings = settings or get_settings()
    email = login.clean_email(email)
    async with system_session() as db:
        user = await user_by_email(db, email)
        last_login = await login.throttle(db, settings, user=user, email=email, ip=ip, channel=channel)
        reason = await _mail_refusal(db, user)
        if user is not None and not reason:
            app_password = await _by_app_password(db, user, password)
            if app_password is not None:
                app_password.last_used_at = utcnow()
                return await _signed_in(db, user, ip=ip, channel=channel, last_login=last_login)
        ok = await login.password_matches(user, password)
        if user is not None and not reason and user.mfa_enabled:
            reason = "app_password_required"
        if user is None or reason or not ok:
            raise await login.refuse(db, user, email=email, ip=ip, channel=channel, reason=reason or "bad_credentials")
        login.upgrade_hash(user, password)
        return await _signed_in(db, user, ip=ip, channel=channel, last_login=last_login)


async def _signed_in(db: AsyncSession, user: User, *, ip: str, channel: str, last_login: datetime | None) -> User:
    await login.remember_device(db, user, ip=ip, channel=channel, last_login=last_login)
    await db.commit()
    return user
