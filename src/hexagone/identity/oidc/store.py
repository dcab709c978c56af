"""Codes and tokens as authlib's synchronous callbacks read and write them.

These functions take the sync-style ``Session`` that ``AsyncSession.run_sync`` hands
to the provider (see the package docstring), always an unscoped one: a client, a code
or a token is found by its secret before anyone knows its organisation.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from hexagone.core.db import utcnow
from hexagone.core.models import AuthSession
from hexagone.core.security import token_digest
from hexagone.identity.models import User
from hexagone.identity.oidc.models import OidcAuthorizationCode, OidcClient, OidcToken

log = logging.getLogger("hexagone.oidc")

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=30)
# Spent codes and dead tokens are kept this long, so that a replay is recognised as one.
RETENTION = timedelta(days=1)


def client_by_id(db: Session, client_id: str | None) -> OidcClient | None:
    if not client_id or len(client_id) > 64:
        return None
    return db.execute(select(OidcClient).where(OidcClient.client_id == client_id)).scalar_one_or_none()


def code_by_value(db: Session, code: str, client: OidcClient) -> OidcAuthorizationCode | None:
    return db.execute(
        select(OidcAuthorizationCode).where(
            OidcAuthorizationCode.code_digest == token_digest(code), OidcAuthorizationCode.oidc_client_id == client.id
        )
    ).scalar_one_or_none()


def token_by_access(db: Session, access_token: str) -> OidcToken | None:
    return db.execute(
        select(OidcToken).where(OidcToken.access_digest == token_digest(access_token))
    ).scalar_one_or_none()


def token_by_refresh(db: Session, refresh_token: str) -> OidcToken | None:
    return db.execute(
        select(OidcToken).where(OidcToken.refresh_digest == token_digest(refresh_token))
    ).scalar_one_or_none()


def active_user(db: Session, user_id: uuid.UUID, org_id: uuid.UUID) -> User | None:
    """The user a code or token speaks for, unless disabled since (or moved elsewhere)."""
    user = db.get(User, user_id)
    return user if user is not None and user.is_active and user.org_id == org_id else None


def end_browser_session(db: Session, session_id: uuid.UUID) -> None:
    """Sign the browser out (RP-initiated logout, or a forced new sign-in)."""
    db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_family(db: Session, family_id: uuid.UUID, reason: str) -> None:
    """Revoke every token that descends from one authorization code (whose id is the
    family's): a spent code or a rotated refresh token presented again means that someone
    else holds a copy."""
    log.warning("OpenID provider: %s; revoking the tokens of authorization %s", reason, family_id)
    db.execute(
        update(OidcToken)
        .where(OidcToken.family_id == family_id, OidcToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def purge_expired(db: Session) -> None:
    """Delete codes dead for longer than ``RETENTION``, and token families whose every
    token has been: a family is kept whole while one of its tokens may still be used, so
    that its rotated (revoked) refresh tokens are recognised when replayed."""
    horizon = utcnow() - RETENTION
    db.execute(delete(OidcAuthorizationCode).where(OidcAuthorizationCode.expires_at < horizon))
    alive = select(OidcToken.family_id).where(
        or_(OidcToken.access_expires_at >= horizon, OidcToken.refresh_expires_at >= horizon)
    )
    db.execute(delete(OidcToken).where(OidcToken.family_id.not_in(alive)))
