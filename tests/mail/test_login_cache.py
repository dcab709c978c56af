"""Mail clients signing in again and again: a password that opened the account is not
verified again for a while (identity/service/verified.py), in process on the default
server and through the real Redis on 127.0.0.1 for two servers sharing it, as two
processes of one installation would. A password change, a disabled account or a revoked
app password refuses the very next sign-in everywhere; a wrong password is never taken
from the cache; the limits and the audit log see what they saw before.

An entry is planted where the test can compute one (Redis shares the installation's
secret key, which the test process has): a password no hash knows then opens the account
only if the server asked the cache.
"""

from __future__ import annotations

import base64
import itertools
import re
import smtplib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis
from sqlalchemy import select

from hexagone.core import audit
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid
from hexagone.core.models import AuditEntry
from hexagone.core.security import password_needs_rehash, verify_password
from hexagone.identity.models import OrgRole
from hexagone.identity.service import tokens, users, verified
from hexagone.mail.service import auth
from tests.conftest import Server
from tests.factories import TestUser, emailed, get_user_row, principal, set_password_hash
from tests.mail.factories import make_mail_org, make_mail_user
from tests.mail.smtp.helpers import wait_for_port
from tests.mail.test_protocol_auth import imap_login

pytestmark = pytest.mark.usefixtures("migrated")  # some tests use the database without a server


REDIS = "redis://127.0.0.1:6379/0"
TOKEN_RE = re.compile(r"/password/reset/([A-Za-z0-9_-]+)")
# Source addresses of their own (see test_protocol_auth): no attempt here counts against another's.
_addresses = (f"127.0.{b}.{c}" for b, c in itertools.product(range(200, 250), range(2, 250)))


def listening(srv: Server) -> Server:
    wait_for_port(srv.imap_port)
    wait_for_port(srv.submission_port)
    return srv


@pytest.fixture(scope="module")
def mail_server(server: Server) -> Server:
    return listening(server)


@pytest.fixture(scope="module")
def redis_servers(start_servers: Callable[..., list[Server]]) -> list[Server]:
    """Two servers on one Redis: two processes of one installation."""
    return [listening(srv) for srv in start_servers(2, HEXAGONE_PUBSUB_URL=REDIS)]


@pytest.fixture(params=["memory", "redis"])
def servers(request: pytest.FixtureRequest) -> list[Server]:
    """The processes a user signs in to: one with the cache in process, or two on Redis."""
    return (
        [request.getfixturevalue("mail_server")]
        if request.param == "memory"
        else request.getfixturevalue("redis_servers")
    )


@pytest.fixture
async def shared_cache() -> AsyncIterator[verified.LoginCache]:
    """The cache the Redis servers use, as this process can reach it (same secret key)."""
    cache = verified.build(get_settings().model_copy(update={"pubsub_url": REDIS}))
    yield cache
    await cache.close()


def smtp_auth(srv: Server, email: str, password: str) -> int:
    """The reply code of one AUTH PLAIN on submission (smtplib's ``login`` would try the
    next mechanism after a refusal: two attempts)."""
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=30, source_address=(next(_addresses), 0)) as client:
        client.ehlo()
        return client.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{email}\0{password}".encode()).decode())[0]


def signs_in(srv: Server, user: TestUser, password: str) -> bool:
    """Whether ``password`` opens ``user``'s account on ``srv``, over IMAP and SMTP alike."""
    imap = imap_login(srv, user.email, password, next(_addresses))[0]
    smtp = smtp_auth(srv, user.email, password)
    assert (imap == "OK") == (smtp == 235), (imap, smtp)
    return imap == "OK"


async def plant(cache: verified.LoginCache, user: TestUser, password: str) -> None:
    """An entry saying ``password`` opened the account under its current hash."""
    await cache.remember(user.id, (await get_user_row(user.id)).password_hash, password)


async def entries_for(user: TestUser, action: str) -> list[AuditEntry]:
    async with org_session(user.org_id) as db:
        stmt = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.target_label == user.email)
        return list((await db.execute(stmt.order_by(AuditEntry.created_at))).scalars())


async def test_login_cache_planted_entry_opens_imap_and_smtp_on_every_process_sharing_redis(
    redis_servers: list[Server], shared_cache: verified.LoginCache
) -> None:
    user = await make_mail_user()
    planted = f"never-hashed-{uuid.uuid4().hex}"
    assert not any(signs_in(srv, user, planted) for srv in redis_servers)
    await plant(shared_cache, user, planted)
    assert all(signs_in(srv, user, planted) for srv in redis_servers)


async def test_login_cache_planted_entry_opens_a_mail_session_in_this_process() -> None:
    user = await make_mail_user()
    planted = f"never-hashed-{uuid.uuid4().hex}"
    with pytest.raises(Invalid):
        await auth.authenticate(user.email, planted, ip=next(_addresses), channel="imap")
    await plant(verified.cache(get_settings()), user, planted)
    signed_in = await auth.authenticate(user.email, planted, ip=next(_addresses), channel="imap")
    assert signed_in.id == user.id


async def test_login_cache_keeps_a_right_password_under_a_keyed_digest_that_expires(
    redis_servers: list[Server], shared_cache: verified.LoginCache
) -> None:
    user = await make_mail_user()
    stored = (await get_user_row(user.id)).password_hash
    key = verified.RedisCache.key(shared_cache.digest(user.id, stored, user.password))
    redis = Redis.from_url(REDIS)
    try:
        assert not await redis.exists(key)
        assert signs_in(redis_servers[0], user, user.password)
        assert 0 < await redis.ttl(key) <= get_settings().login_cache_seconds
        assert await redis.get(key) == b""
        assert signs_in(redis_servers[1], user, user.password)
    finally:
        await redis.aclose()


async def test_login_cache_wrong_password_after_a_right_one_is_refused_counted_and_audited(
    servers: list[Server],
) -> None:
    user = await make_mail_user()
    assert all(signs_in(srv, user, user.password) for srv in servers)
    failures = len(await entries_for(user, audit.LOGIN_FAILED))
    for srv in servers:
        assert not signs_in(srv, user, user.password + "x")
    failed = await entries_for(user, audit.LOGIN_FAILED)
    assert len(failed) == failures + 2 * len(servers)  # one IMAP and one SMTP attempt per process
    assert {(e.details["channel"], e.details["reason"]) for e in failed} == {
        ("imap", "bad_credentials"),
        ("smtp", "bad_credentials"),
    }


async def test_login_cache_password_reset_refuses_the_old_password_at_once_everywhere(servers: list[Server]) -> None:
    user = await make_mail_user()
    assert all(signs_in(srv, user, user.password) for srv in servers)
    async with system_session() as db:
        await tokens.request_password_reset(db, email=user.email, base_url="http://test", ip="127.0.0.1")
        await db.commit()
    new_password = f"A-new-password-{uuid.uuid4().hex[:8]}"
    async with system_session() as db:
        token = await emailed(user.email, TOKEN_RE)
        await tokens.reset_password(db, token=token, password=new_password, ip="127.0.0.1")
        await db.commit()
    assert not any(signs_in(srv, user, user.password) for srv in servers)
    assert all(signs_in(srv, user, new_password) for srv in servers)


async def test_login_cache_disabled_account_is_refused_at_once_everywhere(servers: list[Server]) -> None:
    org = await make_mail_org()
    user, admin = await make_mail_user(org), await make_mail_user(org, role=OrgRole.ADMIN)
    assert all(signs_in(srv, user, user.password) for srv in servers)
    async with org_session(user.org_id) as db:
        await users.set_active(db, await principal(admin), user.id, False)
        await db.commit()
    assert not any(signs_in(srv, user, user.password) for srv in servers)
    failed = await entries_for(user, audit.LOGIN_FAILED)
    assert {e.details["reason"] for e in failed} == {"bad_credentials"}


async def test_login_cache_revoked_app_password_is_refused_at_once_everywhere(servers: list[Server]) -> None:
    user = await make_mail_user(mfa=True)
    async with system_session() as db:
        row, secret = await auth.create_app_password(db, await get_user_row(user.id), "Thunderbird")
        await db.commit()
    assert all(signs_in(srv, user, secret) for srv in servers)
    async with system_session() as db:
        await auth.revoke_app_password(db, user.id, row.id)
        await db.commit()
    assert not any(signs_in(srv, user, secret) for srv in servers)


async def test_login_cache_remembered_password_from_a_throttled_address_is_refused(mail_server: Server) -> None:
    user = await make_mail_user()
    attacker = next(_addresses)
    assert imap_login(mail_server, user.email, user.password, attacker)[0] == "OK"
    limit = get_settings().login_max_failures_per_account_and_ip
    for n in range(limit):
        assert "AUTHENTICATIONFAILED" in imap_login(mail_server, user.email, f"guess {n}", attacker)[0]
    assert "UNAVAILABLE" in imap_login(mail_server, user.email, user.password, attacker)[0]
    throttled = await entries_for(user, audit.LOGIN_THROTTLED)
    assert [e.ip for e in throttled] == [attacker]


async def test_login_cache_remembered_sign_in_is_audited_once_a_day_per_address_as_before(
    mail_server: Server,
) -> None:
    user = await make_mail_user()
    first, second = next(_addresses), next(_addresses)
    for source in (first, first, first, second, second):  # the first from each address verifies
        assert imap_login(mail_server, user.email, user.password, source)[0] == "OK"
    logins = await entries_for(user, audit.LOGIN)
    assert [(e.ip, e.details["channel"]) for e in logins] == [(first, "imap"), (second, "imap")]


async def test_login_cache_hash_of_other_parameters_is_upgraded_at_the_next_mail_sign_in(mail_server: Server) -> None:
    user = await make_mail_user()
    settings = get_settings()
    older = PasswordHasher(
        time_cost=settings.password_hash_time_cost + 1,
        memory_cost=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    ).hash(user.password)
    await set_password_hash(user.id, older)
    assert imap_login(mail_server, user.email, user.password)[0] == "OK"
    upgraded = (await get_user_row(user.id)).password_hash
    assert upgraded != older and not password_needs_rehash(upgraded)
    assert verify_password(upgraded, user.password)
    assert imap_login(mail_server, user.email, user.password)[0] == "OK"
