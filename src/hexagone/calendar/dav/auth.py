"""Signing in a CalDAV/CardDAV client with HTTP Basic: the account password, or a mail
app password (an account with MFA must use one: a client cannot ask for a TOTP code).
Attempts go through identity's rules for a module's protocol login
(``verify_module_credentials``): throttling, audit, known devices, guests refused. The
core's request middleware calls :func:`basic_principal` for every request under the DAV
prefix that carries Basic credentials (``core.web.allow_basic_auth``).

A client sends its credentials with every request, and checking them costs several
statements (a quarter of a PUT). A success with the account password is therefore kept
per process, keyed by a keyed digest of the credentials, on the core's stamped cache of
who is who: at most ``HEXAGONE_PRINCIPAL_CACHE_SECONDS``, and dropped at once when the
user (password, role, disabling, memberships) or the organisation (its modules) changes,
as session principals are. A success with an app password is not kept: a revoked app
password must be refused at the next request, and nothing watches their rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid

from starlette.types import Scope

from hexagone.core import changes
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import system_session
from hexagone.core.exceptions import Invalid
from hexagone.identity.service import load_principal, verify_module_credentials
from hexagone.mail.service import use_app_password

CHANNEL = "caldav"
MAX_ENTRIES = 10_000

_signed_in: changes.StampedCache[str, Principal] | None = None


def _cache() -> changes.StampedCache[str, Principal]:
    global _signed_in
    if _signed_in is None:
        ttl = get_settings().principal_cache_seconds
        _signed_in = changes.StampedCache(changes.directory, ttl=ttl, max_entries=MAX_ENTRIES)
    return _signed_in


def _key(username: str, password: str) -> str:
    secret = get_settings().resolved_secret_key.encode()
    return hmac.new(secret, f"caldav\0{username}\0{password}".encode(), hashlib.sha256).hexdigest()


async def basic_principal(username: str, password: str, scope: Scope) -> Principal | None:
    """The principal these credentials open the calendar module for, None if they open
    nothing (RateLimited goes through: the middleware answers 429)."""
    cache = _cache()
    key = _key(username, password)
    if (known := cache.get(key)) is not None:
        return known
    snapshot = cache.snapshot()  # before reading: a change committed meanwhile makes it stale
    settings = get_settings()
    started = time.monotonic()
    client = scope.get("client")
    by_app_password = False

    async def app_password(user_id: uuid.UUID, secret: str) -> bool:
        nonlocal by_app_password
        by_app_password = await use_app_password(db, user_id, secret)
        return by_app_password

    try:
        async with system_session() as db:
            person = await verify_module_credentials(
                db,
                settings,
                email=username,
                password=password,
                ip=client[0] if client else "",
                channel=CHANNEL,
                module="calendar",
                app_password=app_password,
            )
            principal = await load_principal(db, person.id)
            await db.commit()
    except Invalid:
        # A refusal takes as long whatever the reason: timing tells no account apart.
        await asyncio.sleep(max(0.0, started + settings.login_failure_floor_seconds - time.monotonic()))
        return None
    if principal is not None and not by_app_password:
        cache.put(key, principal, (changes.user_key(principal.user_id), changes.org_key(principal.org_id)), snapshot)
    return principal
