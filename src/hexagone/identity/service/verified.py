"""Passwords verified recently, so that a mail client signing in again and again (Thunderbird
opens several connections, a phone reconnects all day) pays one argon2id verification per
``HEXAGONE_LOGIN_CACHE_SECONDS``, not one per connection.

An entry is HMAC-SHA256(key, user id, kind, stored hash, password) and its expiry, nothing
else: never the password, never an unkeyed hash of it. Its validity follows from what the
digest covers:

- the stored argon2id hash: a new password (a reset, a re-hash) gives a new hash, so every
  entry made before is unreachable at once, in every process, without being deleted;
- the account's state is not cached: the caller reads the user row (active, MFA, access to
  the module) at each sign-in and consults this cache only for an account it would let in;
- app passwords are never cached: each is one indexed lookup, gone once revoked.

The key is random per process for the in-process backend (``memory``), and derived from
``HEXAGONE_SECRET_KEY`` for Redis, which every process of an installation shares: an entry
made by one process is found by the others. Redis is used when ``HEXAGONE_PUBSUB_URL`` names
one; an unreachable Redis counts as a miss (the password is then verified), never as a
failure of the sign-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import uuid
import weakref
from collections import OrderedDict
from typing import Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hexagone.core.config import Settings

log = logging.getLogger("hexagone.identity.verified")

REDIS_PREFIX = "hexagone:verified:"
REDIS_SCHEMES = ("redis", "rediss")
PASSWORD = "password"  # the kind of secret: the account's password


class VerifiedPasswords(Protocol):
    """Where the digests of recently verified passwords are kept."""

    async def seen(self, digest: bytes) -> bool: ...

    async def remember(self, digest: bytes) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Entries in this process, the oldest dropped past ``entries``."""

    def __init__(self, seconds: int, entries: int):
        self.seconds, self.entries = seconds, entries
        self._expiry: OrderedDict[bytes, float] = OrderedDict()

    async def seen(self, digest: bytes) -> bool:
        expiry = self._expiry.get(digest)
        if expiry is None:
            return False
        if expiry <= time.monotonic():
            del self._expiry[digest]
            return False
        return True

    async def remember(self, digest: bytes) -> None:
        self._expiry[digest] = time.monotonic() + self.seconds
        self._expiry.move_to_end(digest)
        while len(self._expiry) > self.entries:
            self._expiry.popitem(last=False)

    async def close(self) -> None:
        self._expiry.clear()


class RedisCache:
    """Entries in Redis (``SET … EX``), shared by every process that uses the same Redis."""

    def __init__(self, url: str, seconds: int):
        self.seconds = seconds
        self.client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    @staticmethod
    def key(digest: bytes) -> str:
        return REDIS_PREFIX + digest.hex()

    async def seen(self, digest: bytes) -> bool:
        try:
            return bool(await self.client.exists(self.key(digest)))
        except (RedisError, OSError) as exc:
            log.warning("login cache: Redis unreachable (%s); verifying the password", type(exc).__name__)
            return False

    async def remember(self, digest: bytes) -> None:
        try:
            await self.client.set(self.key(digest), b"", ex=self.seconds)
        except (RedisError, OSError) as exc:
            log.warning("login cache: Redis unreachable (%s); the sign-in is not remembered", type(exc).__name__)

    async def close(self) -> None:
        await self.client.aclose()


class Disabled:
    """``HEXAGONE_LOGIN_CACHE_SECONDS=0``: every sign-in verifies the password."""

    async def seen(self, digest: bytes) -> bool:
        return False

    async def remember(self, digest: bytes) -> None:
        return None

    async def close(self) -> None:
        return None


class LoginCache:
    """The backend and the key that digests are made with."""

    def __init__(self, store: VerifiedPasswords, key: bytes):
        self.store, self._key = store, key

    def digest(self, user_id: uuid.UUID, password_hash: str, password: str, kind: str = PASSWORD) -> bytes:
        message = b"\0".join((user_id.bytes, kind.encode(), password_hash.encode(), password.encode()))
        return hmac.new(self._key, message, hashlib.sha256).digest()

    async def seen(self, user_id: uuid.UUID, password_hash: str, password: str) -> bool:
        return await self.store.seen(self.digest(user_id, password_hash, password))

    async def remember(self, user_id: uuid.UUID, password_hash: str, password: str) -> None:
        await self.store.remember(self.digest(user_id, password_hash, password))

    async def close(self) -> None:
        await self.store.close()


def build(settings: Settings) -> LoginCache:
    """The cache these settings describe (Redis when the event bus is Redis)."""
    if settings.login_cache_seconds <= 0:
        return LoginCache(Disabled(), b"")
    if urlsplit(settings.pubsub_url).scheme in REDIS_SCHEMES:
        shared_key = hmac.new(settings.resolved_secret_key.encode(), b"hexagone login cache", hashlib.sha256).digest()
        return LoginCache(RedisCache(settings.pubsub_url, settings.login_cache_seconds), shared_key)
    return LoginCache(MemoryCache(settings.login_cache_seconds, settings.login_cache_entries), secrets.token_bytes(32))


# One cache per event loop: a Redis connection belongs to the loop that opened it.
_caches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoginCache] = weakref.WeakKeyDictionary()


def cache(settings: Settings) -> LoginCache:
    loop = asyncio.get_running_loop()
    found = _caches.get(loop)
    if found is None:
        found = _caches[loop] = build(settings)
    return found
