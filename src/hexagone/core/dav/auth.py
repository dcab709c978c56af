"""Signing a DAV client in with HTTP Basic: the account password, or an app password (an
account with MFA must use one: a client cannot ask for a TOTP code). The rules of a
module's protocol login (throttling, audit, known devices, guests refused, the
organisation subscribing to the module) are identity's, the app passwords mail's: a
module hands both in, since the core knows no module. The core's request middleware
calls the resolver for every request under the module's DAV prefix that carries Basic
credentials (``core.web.allow_basic_auth``).

A client sends its credentials with every request, and checking them costs several
statements (a quarter of a small PUT). A success with the account password is therefore
kept per process, keyed by a keyed digest of the credentials, on the core's stamped
cache of who is who: at most ``HEXAGONE_PRINCIPAL_CACHE_SECONDS``, and dropped at once
when the user (password, role, disabling, memberships) or the organisation (its modules)
changes, as session principals are. A success with an app password is not kept: a
revoked app password must be refused at the next request, and nothing watches their rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from hexagone.core import changes
from hexagone.core.auth import Principal
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import system_session
from hexagone.core.exceptions import Invalid

MAX_ENTRIES = 10_000


class Verify(Protocol):
    """Identity's ``verify_module_credentials``: the person these credentials open
    ``module`` for over ``channel``, or Invalid / RateLimited."""

    def __call__(
        self,
        db: AsyncSession,
        settings: Settings,
        *,
        email: str,
        password: str,
        ip: str,
        channel: str,
        module: str,
        app_password: Callable[[uuid.UUID, str], Awaitable[bool]],
    ) -> Awaitable[Any]: ...


class BasicSignIn:
    """The resolver of ``core.web.allow_basic_auth`` for one module's DAV tree."""

    def __init__(
        self,
        *,
        module: str,
        channel: str,
        verify: Verify,
        load_principal: Callable[[AsyncSession, uuid.UUID], Awaitable[Principal | None]],
        app_password: Callable[[AsyncSession, uuid.UUID, str], Awaitable[bool]],
    ):
        self.module = module
        self.channel = channel
        self.verify = verify
        self.load_principal = load_principal
        self.app_password = app_password
        self._signed_in: changes.StampedCache[str, Principal] | None = None

    def _cache(self) -> changes.StampedCache[str, Principal]:
        if self._signed_in is None:
            ttl = get_settings().principal_cache_seconds
            self._signed_in = changes.StampedCache(changes.directory, ttl=ttl, max_entries=MAX_ENTRIES)
        return self._signed_in

    def _key(self, username: str, password: str) -> str:
        secret = get_settings().resolved_secret_key.encode()
        return hmac.new(secret, f"{self.channel}\0{username}\0{password}".encode(), hashlib.sha256).hexdigest()

    async def __call__(self, username: str, password: str, scope: Scope) -> Principal | None:
        """The principal these credentials open the module for, None if they open nothing
        (RateLimited goes through: the middleware answers 429)."""
        cache = self._cache()
        key = self._key(username, password)
        if (known := cache.get(key)) is not None:
            return known
        snapshot = cache.snapshot()  # before reading: a change committed meanwhile makes it stale
        settings = get_settings()
        started = time.monotonic()
        client = scope.get("client")
        by_app_password = False

        try:
            async with system_session() as db:

                async def app_password(user_id: uuid.UUID, secret: str) -> bool:
                    nonlocal by_app_password
                    by_app_password = await self.app_password(db, user_id, secret)
                    return by_app_password

                person = await self.verify(
                    db,
                    settings,
                    email=username,
                    password=password,
                    ip=client[0] if client else "",
                    channel=self.channel,
                    module=self.module,
                    app_password=app_password,
                )
                principal = await self.load_principal(db, person.id)
                await db.commit()
        except Invalid:
            # A refusal takes as long whatever the reason: timing tells no account apart.
            await asyncio.sleep(max(0.0, started + settings.login_failure_floor_seconds - time.monotonic()))
            return None
        if principal is not None and not by_app_password:
            keys = (changes.user_key(principal.user_id), changes.org_key(principal.org_id))
            cache.put(key, principal, keys, snapshot)
        return principal
