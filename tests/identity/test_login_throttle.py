"""Brute force is slowed down, never turned into a lockout: the rules of
``identity.service.login`` run on the real database with tight settings, each attempt
from the address it names (the servers pass the connection's peer as ``ip``)."""

from __future__ import annotations

import logging
import time

import pytest

from hexagone.core import audit
from hexagone.core.config import Settings
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid, RateLimited
from hexagone.identity.service.login import login, verify_credentials
from tests.factories import TestUser, make_org, make_user, unique

pytestmark = pytest.mark.usefixtures("migrated")

WRONG = "not-the-password"


def settings(**limits: float) -> Settings:
    base: dict[str, float] = {
        "login_max_failures_per_account_and_ip": 3,
        "login_max_failures_per_ip": 1000,
        "login_slowdown_after_failures": 1000,
    }
    return Settings(**{**base, **limits})


def address() -> str:
    """A documentation address (RFC 5737) of its own, so that no other test's failures count."""
    number = int(unique("")[:6], 16)
    return f"198.51.{number // 254 % 256}.{number % 254 + 1}"


async def attempt(limits: Settings, email: str, password: str, ip: str) -> str:
    """ "ok", "invalid" or "throttled", as the service answers."""
    async with system_session() as db:
        try:
            await verify_credentials(db, limits, email=email, password=password, ip=ip, channel="imap")
            await db.commit()
            return "ok"
        except Invalid:
            return "invalid"
        except RateLimited:
            return "throttled"


async def sign_in_once(limits: Settings, user: TestUser, ip: str) -> None:
    """Make ``ip`` a known device of ``user`` (a protocol login is remembered)."""
    assert await attempt(limits, user.email, user.password, ip) == "ok"


async def test_failures_for_an_account_from_one_address_do_not_refuse_it_from_another() -> None:
    limits = settings()
    user = await make_user(await make_org())
    attacker, owner = address(), address()
    assert [await attempt(limits, user.email, WRONG, attacker) for _ in range(12)] == ["invalid"] * 3 + [
        "throttled"
    ] * 9
    assert await attempt(limits, user.email, user.password, attacker) == "throttled"
    assert await attempt(limits, user.email, user.password, owner) == "ok"


async def test_failures_from_one_address_against_many_accounts_refuse_that_address() -> None:
    limits = settings(login_max_failures_per_ip=4)
    org = await make_org()
    sprayed = [await make_user(org) for _ in range(4)]
    regular, newcomer = await make_user(org), await make_user(org)
    shared, elsewhere = address(), address()
    await sign_in_once(limits, regular, shared)
    assert [await attempt(limits, u.email, WRONG, shared) for u in sprayed] == ["invalid"] * 4
    assert await attempt(limits, f"{unique('x')}@{unique('d')}.test", WRONG, shared) == "throttled"
    # the right password of an account never used from there is refused too ...
    assert await attempt(limits, newcomer.email, newcomer.password, shared) == "throttled"
    # ... but not a known device at that address, nor the account from elsewhere
    assert await attempt(limits, regular.email, regular.password, shared) == "ok"
    assert await attempt(limits, newcomer.email, newcomer.password, elsewhere) == "ok"
    async with org_session(newcomer.org_id) as db:
        throttled = await audit.search(db, action=audit.LOGIN_THROTTLED)
    assert [(e.target_label, e.ip, e.details) for e in throttled] == [
        (newcomer.email, shared, {"channel": "imap", "limit": "ip"})
    ]


async def test_failures_from_everywhere_slow_unknown_devices_down_but_not_known_ones() -> None:
    limits = settings(login_slowdown_after_failures=2, login_max_delay_seconds=2.0)
    user = await make_user(await make_org())
    known = address()
    await sign_in_once(limits, user, known)
    for _ in range(3):  # a distributed attack: each address fails once
        assert await attempt(limits, user.email, WRONG, address()) == "invalid"
    started = time.monotonic()
    assert await attempt(limits, user.email, user.password, address()) == "ok"
    slowed = time.monotonic() - started
    started = time.monotonic()
    assert await attempt(limits, user.email, user.password, known) == "ok"
    unhindered = time.monotonic() - started
    assert slowed >= 2.0 and unhindered < 2.0, (slowed, unhindered)


async def test_a_browser_signed_in_to_the_account_is_not_slowed_down_by_failures_elsewhere() -> None:
    limits = settings(login_slowdown_after_failures=2, login_max_delay_seconds=2.0)
    user = await make_user(await make_org())
    async with system_session() as db:
        earlier = await login(db, limits, email=user.email, password=user.password, ip=address(), user_agent="")
    for _ in range(3):
        assert await attempt(limits, user.email, WRONG, address()) == "invalid"
    started = time.monotonic()
    async with system_session() as db:
        await login(
            db,
            limits,
            email=user.email,
            password=user.password,
            ip=address(),
            user_agent="",
            current_token=earlier.session_token,
        )
    assert time.monotonic() - started < 2.0


async def test_attempts_against_unknown_accounts_go_to_the_installation_log(caplog: pytest.LogCaptureFixture) -> None:
    limits = settings(login_max_failures_per_account_and_ip=1)
    nobody, ip = f"{unique('nobody')}@example.org", address()
    with caplog.at_level(logging.WARNING, logger="hexagone.audit"):
        assert [await attempt(limits, nobody, WRONG, ip) for _ in range(2)] == ["invalid", "throttled"]
    logged = [r.getMessage() for r in caplog.records if r.name == "hexagone.audit"]
    assert len(logged) == 2
    assert audit.LOGIN_FAILED in logged[0] and audit.LOGIN_THROTTLED in logged[1]
    assert all(nobody in line and ip in line and "imap" in line for line in logged)
