"""Who is making this request: login sessions and bearer tokens resolved to a Principal.

The core stores sessions (:class:`~hexagone.core.models.AuthSession`) but does not know
what a user is: the identity module installs a :data:`PrincipalLoader` (user id → Principal)
and a :data:`BearerResolver` (OAuth2 access token → Principal) at start-up.

A session's principal is kept a few seconds per process and dropped at once by any change
to it (:mod:`hexagone.core.principal_cache`); the statements below that change sessions
say whose principal they touch.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import principal_cache
from hexagone.core.db import system_session, utcnow
from hexagone.core.models import AuthSession
from hexagone.core.security import new_token, token_digest

SESSION_COOKIE = "hx_session"
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    org_id: uuid.UUID
    email: str
    display_name: str
    role: str
    locale: str | None
    org_name: str
    org_modules: tuple[str, ...]
    org_brand_primary: str
    org_brand_logo: str
    org_mfa_required: bool
    org_default_locale: str
    mfa_enabled: bool
    space_roles: dict[uuid.UUID, str] = field(default_factory=dict)  # space id -> role in it
    group_ids: frozenset[uuid.UUID] = frozenset()
    session_id: uuid.UUID | None = None
    mfa_pending: bool = False
    scopes: frozenset[str] | None = field(default=None)  # None: a browser session, all scopes

    @property
    def space_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(self.space_roles)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_guest(self) -> bool:
        return self.role == "guest"

    @property
    def needs_mfa_setup(self) -> bool:
        """The org requires MFA and this user has not enrolled yet."""
        return self.org_mfa_required and not self.mfa_enabled


PrincipalLoader = Callable[[AsyncSession, uuid.UUID], Awaitable[Principal | None]]
BearerResolver = Callable[[str], Awaitable[Principal | None]]

_loader: PrincipalLoader | None = None
_bearer: BearerResolver | None = None


def install(loader: PrincipalLoader, bearer: BearerResolver | None = None) -> None:
    global _loader, _bearer
    _loader = loader
    _bearer = bearer


# A session row written (opened, revoked, rotated) changes its user's principal.
principal_cache.watch(
    AuthSession,
    lambda row: (principal_cache.user_key(row.user_id), principal_cache.session_key(row.token_hash)),
)


async def principal_from_session_token(token: str) -> Principal | None:
    if _loader is None or not token:
        return None
    now = utcnow()
    digest = token_digest(token)
    cache = principal_cache.cache()
    entry = cache.get(digest)
    if entry is not None and entry.expires_at > now:
        if now - entry.last_seen_at > LAST_SEEN_RESOLUTION:
            async with system_session() as db:
                await _seen(db, entry.principal.session_id, now)
                await db.commit()
            cache.seen(digest, entry, now)
        principal: Principal = entry.principal
        return principal
    snapshot = cache.snapshot()  # before reading: a change committed meanwhile makes it stale
    async with system_session() as db:
        # Plain columns, not an AuthSession object: this runs on every signed-in request.
        row = (
            await db.execute(
                select(
                    AuthSession.id,
                    AuthSession.user_id,
                    AuthSession.expires_at,
                    AuthSession.last_seen_at,
                    AuthSession.mfa_verified,
                ).where(
                    AuthSession.token_hash == digest,
                    AuthSession.revoked_at.is_(None),
                )
            )
        ).one_or_none()
        if row is None or row.expires_at <= now:
            return None
        loaded = await _loader(db, row.user_id)
        if loaded is None:
            return None
        last_seen = row.last_seen_at
        if now - last_seen > LAST_SEEN_RESOLUTION:
            await _seen(db, row.id, now)
            await db.commit()
            last_seen = now
    principal = replace(loaded, session_id=row.id, mfa_pending=(loaded.mfa_enabled and not row.mfa_verified))
    cache.put(digest, principal, expires_at=row.expires_at, last_seen_at=last_seen, snapshot=snapshot)
    return principal


async def _seen(db: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """At most once a minute per session: when it was last used changes no principal."""
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id)
        .values(last_seen_at=now)
        .execution_options(**principal_cache.affects())
    )


async def principal_from_bearer(token: str) -> Principal | None:
    if _bearer is None or not token:
        return None
    return await _bearer(token)


async def open_session(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    org_id: uuid.UUID,
    max_age: int,
    mfa_verified: bool,
    ip: str,
    user_agent: str,
) -> tuple[str, AuthSession]:
    """Create a login session; returns the cookie value (shown once) and the row."""
    token = new_token()
    now = utcnow()
    row = AuthSession(
        token_hash=token_digest(token),
        user_id=user_id,
        org_id=org_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=max_age),
        mfa_verified=mfa_verified,
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    db.add(row)
    await db.flush()
    return token, row


async def mark_mfa_verified(db: AsyncSession, session_id: uuid.UUID) -> None:
    """In the caller's transaction: with SQLite, a second connection writing while the
    caller holds its write lock would wait for it forever."""
    await db.execute(update(AuthSession).where(AuthSession.id == session_id).values(mfa_verified=True))


async def rotate_session(db: AsyncSession, session_id: uuid.UUID, *, mfa_verified: bool) -> str:
    """Give a live session a new cookie value at a privilege change (the second factor
    completed): the value from before stops working at once, so a cookie planted or seen
    at the password step never becomes a signed-in session. Returns the new value."""
    token = new_token()
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(token_hash=token_digest(token), mfa_verified=mfa_verified, last_seen_at=utcnow())
    )
    return token


async def live_session_user(db: AsyncSession, token: str) -> uuid.UUID | None:
    """The user of the unexpired, unrevoked session this cookie value opens, if any."""
    if not token:
        return None
    return (
        await db.execute(
            select(AuthSession.user_id).where(
                AuthSession.token_hash == token_digest(token),
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
            )
        )
    ).scalar_one_or_none()


async def revoke_session_token(db: AsyncSession, token: str) -> None:
    """End the session this cookie value opens, whoever's it is (a browser signing in
    again replaces its earlier session)."""
    if token:
        digest = token_digest(token)
        await db.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == digest, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(**principal_cache.affects(principal_cache.session_key(digest)))
        )


async def revoke_session(db: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    # An UPDATE returns a CursorResult (which has rowcount); SQLAlchemy's stubs type every execute() as Result.
    result = cast(
        CursorResult[Any],
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(**principal_cache.affects(principal_cache.user_key(user_id)))
        ),
    )
    return bool(result.rowcount)


async def revoke_all_sessions(db: AsyncSession, user_id: uuid.UUID, *, except_id: uuid.UUID | None = None) -> None:
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if except_id is not None:
        stmt = stmt.where(AuthSession.id != except_id)
    await db.execute(
        stmt.values(revoked_at=utcnow()).execution_options(**principal_cache.affects(principal_cache.user_key(user_id)))
    )


async def active_sessions(db: AsyncSession, user_id: uuid.UUID) -> list[AuthSession]:
    now: datetime = utcnow()
    rows = await db.execute(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.last_seen_at.desc())
    )
    return list(rows.scalars())
