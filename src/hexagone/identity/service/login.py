"""Password login with rate limiting per account and per client address, every failure
audited. The second factor is checked separately (:mod:`.mfa`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, auth
from hexagone.core.config import Settings
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid, RateLimited
from hexagone.core.i18n import gettext as _
from hexagone.core.security import hash_password, password_needs_rehash, verify_password
from hexagone.identity.models import Organisation, User


@dataclass
class LoginResult:
    session_token: str
    user: User
    needs_second_factor: bool


async def check_rate_limit(db: AsyncSession, settings: Settings, *, email: str, ip: str) -> None:
    window = timedelta(seconds=settings.login_failure_window_seconds)
    if await audit.recent_failures(db, window=window, account=email) >= settings.login_max_failures_per_account:
        raise RateLimited(_("Too many failed attempts for this account. Wait a few minutes and try again."))
    if await audit.recent_failures(db, window=window, ip=ip) >= settings.login_max_failures_per_ip:
        raise RateLimited(_("Too many failed attempts from your address. Wait a few minutes and try again."))


async def verify_credentials(db: AsyncSession, settings: Settings, *, email: str, password: str, ip: str,
                             channel: str) -> User:
    """The active user whose password this is, or Invalid (audited, rate limited).

    ``channel`` names the way in (``web``, ``imap``, ``smtp``…) in the audit entry, so the
    same rule and the same counters protect every protocol that takes a password.
    """
    email = email.strip().lower()[:320]
    await check_rate_limit(db, settings, email=email, ip=ip)
    user = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    # argon2 releases the GIL: in a thread, a login no longer freezes every other request
    # of this worker for the length of the hash (about 200 ms).
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        audit.record(db, audit.LOGIN_FAILED, org_id=user.org_id if user else None, actor_label=email,
                     target_type="user", target_id=user.id if user else "", target_label=email, ip=ip,
                     details={"channel": channel, "reason": "disabled" if user and ok else "bad_credentials"})
        await db.commit()
        raise Invalid(_("Wrong e-mail address or password."))
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def login(db: AsyncSession, settings: Settings, *, email: str, password: str, ip: str,
                user_agent: str) -> LoginResult:
    user = await verify_credentials(db, settings, email=email, password=password, ip=ip, channel="web")
    org = await db.get(Organisation, user.org_id)
    assert org is not None
    user.last_login_at = utcnow()
    token, _row = await auth.open_session(
        db, user_id=user.id, org_id=user.org_id, max_age=settings.session_max_age_seconds,
        mfa_verified=not user.mfa_enabled, ip=ip, user_agent=user_agent,
    )
    audit.record(db, "auth.login", org_id=user.org_id, actor_label=user.email, target_type="user",
                 target_id=user.id, target_label=user.email, ip=ip)
    await db.commit()
    return LoginResult(session_token=token, user=user, needs_second_factor=user.mfa_enabled)
