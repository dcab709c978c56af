"""The cache of recently verified passwords, on both backends: in process, and the real
Redis on 127.0.0.1 (down, these tests fail, never skip). What it keeps is inspected
directly: keyed digests only, bounded in time and in number."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from hexagone.core.config import get_settings
from hexagone.core.security import hash_password
from hexagone.identity.service import verified

REDIS = "redis://127.0.0.1:6379/0"
BACKENDS = {"memory": "memory://", "redis": REDIS}
PASSWORD = "Correct horse battery staple"


def build(pubsub_url: str, **settings: object) -> verified.LoginCache:
    return verified.build(get_settings().model_copy(update={"pubsub_url": pubsub_url, **settings}))


@pytest.fixture(params=list(BACKENDS))
async def login_cache(request: pytest.FixtureRequest) -> AsyncIterator[verified.LoginCache]:
    cache = build(BACKENDS[request.param], login_cache_seconds=1)
    yield cache
    await cache.close()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS)
    yield client
    await client.aclose()


async def test_login_cache_remembers_a_verified_password_until_it_expires(login_cache: verified.LoginCache) -> None:
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    assert not await login_cache.seen(user_id, stored, PASSWORD)
    await login_cache.remember(user_id, stored, PASSWORD)
    assert await login_cache.seen(user_id, stored, PASSWORD)
    await asyncio.sleep(1.2)
    assert not await login_cache.seen(user_id, stored, PASSWORD)


async def test_login_cache_answers_nothing_for_another_password_hash_or_user(login_cache: verified.LoginCache) -> None:
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    await login_cache.remember(user_id, stored, PASSWORD)
    assert not await login_cache.seen(user_id, stored, PASSWORD + "!")
    assert not await login_cache.seen(user_id, stored, PASSWORD.lower())
    assert not await login_cache.seen(user_id, hash_password(PASSWORD), PASSWORD)  # the password was set again
    assert not await login_cache.seen(uuid.uuid4(), stored, PASSWORD)


async def test_login_cache_in_process_keeps_at_most_its_entries_dropping_the_oldest() -> None:
    cache = build("memory://", login_cache_entries=3)
    users = [uuid.uuid4() for _ in range(4)]
    for user_id in users:
        await cache.remember(user_id, "hash", PASSWORD)
    assert [await cache.seen(user_id, "hash", PASSWORD) for user_id in users] == [False, True, True, True]


async def test_login_cache_in_process_digests_with_a_key_of_its_own() -> None:
    one, other = build("memory://"), build("memory://")
    user_id = uuid.uuid4()
    assert one.digest(user_id, "hash", PASSWORD) != other.digest(user_id, "hash", PASSWORD)


async def test_login_cache_in_redis_is_shared_by_processes_with_the_same_secret_key() -> None:
    one, other = build(REDIS), build(REDIS)  # two processes of one installation
    stranger = build(REDIS, secret_key="another-installation-entirely-0123456789")
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    try:
        await one.remember(user_id, stored, PASSWORD)
        assert await other.seen(user_id, stored, PASSWORD)
        assert not await stranger.seen(user_id, stored, PASSWORD)
    finally:
        for cache in (one, other, stranger):
            await cache.close()


async def test_login_cache_in_redis_expires_entries_itself(redis: Redis) -> None:
    cache = build(REDIS, login_cache_seconds=600)
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    try:
        await cache.remember(user_id, stored, PASSWORD)
        ttl = await redis.ttl(verified.RedisCache.key(cache.digest(user_id, stored, PASSWORD)))
        assert 590 <= ttl <= 600
    finally:
        await cache.close()


def unkeyed_forms(password: str, stored: str) -> list[bytes]:
    """The password, the stored hash and every unkeyed digest of the password one could
    try against a leaked cache, as bytes and as hexadecimal text."""
    raw = password.encode()
    digests = [hashlib.new(name, raw).digest() for name in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256")]
    return [raw, stored.encode(), *digests, *(d.hex().encode() for d in digests)]


async def test_login_cache_in_redis_holds_neither_the_password_nor_an_unkeyed_hash_of_it(redis: Redis) -> None:
    cache = build(REDIS)
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    try:
        await cache.remember(user_id, stored, PASSWORD)
        key = verified.RedisCache.key(cache.digest(user_id, stored, PASSWORD))
        entries = [(k, await redis.get(k)) async for k in redis.scan_iter(match=verified.REDIS_PREFIX + "*")]
        assert key.encode() in [k for k, _value in entries]
        for name, value in entries:
            assert value == b""
            assert not any(form in name for form in unkeyed_forms(PASSWORD, stored)), name
    finally:
        await cache.close()


async def test_login_cache_in_process_holds_neither_the_password_nor_an_unkeyed_hash_of_it() -> None:
    cache = build("memory://")
    user_id, stored = uuid.uuid4(), hash_password(PASSWORD)
    await cache.remember(user_id, stored, PASSWORD)
    assert isinstance(cache.store, verified.MemoryCache)
    kept = [*cache.store._expiry.items()]
    assert len(kept) == 1
    digest, expiry = kept[0]
    assert isinstance(expiry, float)
    assert not any(form in digest or digest in form for form in unkeyed_forms(PASSWORD, stored))


async def test_login_cache_with_redis_down_answers_a_miss_and_remembers_nothing() -> None:
    cache = build("redis://127.0.0.1:1/0")
    user_id = uuid.uuid4()
    try:
        await cache.remember(user_id, "hash", PASSWORD)
        assert not await cache.seen(user_id, "hash", PASSWORD)
    finally:
        await cache.close()


async def test_login_cache_of_zero_seconds_remembers_nothing() -> None:
    cache = build(REDIS, login_cache_seconds=0)
    user_id = uuid.uuid4()
    await cache.remember(user_id, "hash", PASSWORD)
    assert not await cache.seen(user_id, "hash", PASSWORD)
