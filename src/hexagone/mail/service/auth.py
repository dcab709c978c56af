"""Signing in to IMAP and SMTP submission: the account password, or an app password.

Mail clients cannot ask for a TOTP code, so an account with MFA signs in to them only
with an app password (a random secret made for one client, revocable on its own); an
account without MFA may use either. Attempts go through identity's login rules
(``verify_module_credentials``): the same audit entries, the same throttling and known
devices as the web login, with the protocol named as the channel. A signed-in session
then holds the user's principal (:func:`session_principal`), for which the core policy
judges what it may do.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import system_session, utcnow
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.core.security import token_digest
from hexagone.identity.service import Person, load_principal, verify_module_credentials
from hexagone.mail.models import AppPassword
from hexagone.mail.service.addresses import MODULE_NAME

APP_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
APP_PASSWORD_LENGTH = 20  # 100 bits


def _normalise_app_password(password: str) -> str:
    return password.replace(" ", "").replace("-", "").lower()


async def create_app_password(db: AsyncSession, user: Person, label: str) -> tuple[AppPassword, str]:
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


async def use_app_password(db: AsyncSession, user_id: uuid.UUID, password: str) -> bool:
    """Whether ``password`` is one of the user's app passwords (then marked used)."""
    digest = token_digest(_normalise_app_password(password))
    row = (
        await db.execute(select(AppPassword).where(AppPassword.user_id == user_id, AppPassword.token_hash == digest))
    ).scalar_one_or_none()
    if row is not None:
        row.last_used_at = utcnow()
    return row is not None


async def authenticate(email: str, password: str, *, ip: str, channel: str, settings: Settings | None = None) -> Person:
    """The member these credentials open a mail session for, or Invalid / RateLimited:
    identity's rules for a module's protocol login (an account with MFA needs an app
    password; a guest, or an organisation without mail, gets nothing). A refusal comes no
    sooner than ``login_failure_floor_seconds`` after the start: with a cheap password hash
    the database work that differs between a known and an unknown account would show."""
    settings = settings or get_settings()
    started = time.monotonic()
    try:
        async with system_session() as db:
            user = await verify_module_credentials(
                db,
                settings,
                email=email,
                password=password,
                ip=ip,
                channel=channel,
                module=MODULE_NAME,
                app_password=partial(use_app_password, db),
            )
            await db.commit()
            return user
    except ServiceError:
        await asyncio.sleep(max(0.0, started + settings.login_failure_floor_seconds - time.monotonic()))
        raise


async def session_principal(db: AsyncSession, user: Person) -> Principal:
    """The principal a protocol session holds once ``user`` has signed in: every access
    decision of the session (which mailbox it may change, which address it may send as)
    is the core policy's answer for it. Invalid if the account was disabled meanwhile."""
    principal = await load_principal(db, user.id)
    if principal is None:
        raise Invalid(_("Wrong e-mail address or password."))
    return principal
