"""Second factor: TOTP (RFC 6238, any authenticator app) with single-use recovery codes.

Enrolment is two steps so that a user cannot lock themselves out: a secret is proposed,
and only a correct code from the app turns MFA on, which also issues the recovery codes
(shown once, stored as digests). Turning MFA on or off signs the user's other sessions
out: a session opened before the change must not outlive it (one an intruder holds, in
the first place).
"""

from __future__ import annotations

import base64
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, auth
from hexagone.core.auth import Principal
from hexagone.core.config import Settings
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.core.security import token_digest
from hexagone.identity.models import RecoveryCode, User
from hexagone.identity.service.login import record_failure, throttle

RECOVERY_CODES = 10
ISSUER = "Hexagone"


def _normalise(code: str) -> str:
    return code.replace(" ", "").replace("-", "").strip().lower()


async def begin_enrolment(db: AsyncSession, principal: Principal) -> tuple[str, str, str]:
    """A new secret for the user (not yet active): (secret, otpauth URI, QR code as SVG data URL)."""
    user = await db.get(User, principal.user_id)
    assert user is not None
    if user.mfa_enabled:
        raise Invalid(_("Two-step verification is already on."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    image.save(buf)
    data_url = "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
    return user.totp_secret, uri, data_url


async def confirm_enrolment(db: AsyncSession, principal: Principal, code: str) -> list[str]:
    user = await db.get(User, principal.user_id)
    assert user is not None
    if user.mfa_enabled or not user.totp_secret:
        raise Invalid(_("Start the set-up again."))
    if not pyotp.TOTP(user.totp_secret).verify(_normalise(code), valid_window=1):
        raise Invalid(_("This code is not the one your app shows. Check the time on your phone and try again."))
    user.totp_enabled_at = utcnow()
    codes = await _new_recovery_codes(db, user)
    await auth.revoke_all_sessions(db, user.id, except_id=principal.session_id)
    audit.record(
        db,
        "user.mfa_enabled",
        org_id=user.org_id,
        actor=principal,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
    )
    return codes


async def _new_recovery_codes(db: AsyncSession, user: User) -> list[str]:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _i in range(RECOVERY_CODES)]
    for code in codes:
        db.add(RecoveryCode(org_id=user.org_id, user_id=user.id, code_hash=token_digest(_normalise(code))))
    return codes


async def regenerate_recovery_codes(db: AsyncSession, principal: Principal) -> list[str]:
    user = await db.get(User, principal.user_id)
    assert user is not None
    if not user.mfa_enabled:
        raise Invalid(_("Two-step verification is off."))
    audit.record(
        db,
        "user.recovery_codes_regenerated",
        org_id=user.org_id,
        actor=principal,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
    )
    return await _new_recovery_codes(db, user)


async def disable(db: AsyncSession, principal: Principal) -> None:
    if principal.org_mfa_required:
        raise Invalid(_("Your organisation requires two-step verification."))
    user = await db.get(User, principal.user_id)
    assert user is not None
    user.totp_secret = None
    user.totp_enabled_at = None
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await auth.revoke_all_sessions(db, user.id, except_id=principal.session_id)
    audit.record(
        db,
        "user.mfa_disabled",
        org_id=user.org_id,
        actor=principal,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
    )


async def verify_second_factor(db: AsyncSession, settings: Settings, principal: Principal, code: str, ip: str) -> bool:
    """A TOTP code or an unused recovery code (which is then spent). Failures count
    towards the same limits as passwords, and are slowed down and refused alike."""
    user = await db.get(User, principal.user_id)
    assert user is not None
    await throttle(db, settings, user=user, email=user.email, ip=ip, channel="web")
    cleaned = _normalise(code)
    if user.totp_secret and cleaned.isdigit() and pyotp.TOTP(user.totp_secret).verify(cleaned, valid_window=1):
        return True
    recovery = (
        await db.execute(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == token_digest(cleaned),
                RecoveryCode.used_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if recovery is not None:
        recovery.used_at = utcnow()
        audit.record(
            db,
            "user.recovery_code_used",
            org_id=user.org_id,
            actor=principal,
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            ip=ip,
        )
        return True
    await record_failure(db, user, email=user.email, ip=ip, channel="web", reason="bad_second_factor")
    return False
