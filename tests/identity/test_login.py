"""Signing in and out through the real form, over HTTP, against the real database."""

from __future__ import annotations

import httpx

from hexagone.core import audit
from hexagone.core.auth import SESSION_COOKIE
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from tests.factories import DEFAULT_PASSWORD, csrf_token, login, make_org, make_user, set_password_hash


async def test_login_with_right_password_opens_a_session_and_shows_home(client: httpx.AsyncClient) -> None:
    org = await make_org()
    user = await make_user(org)
    response = await login(client, user)
    assert response.headers["location"] == "/"
    cookie = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly")
    home = await client.get("/")
    assert home.status_code == 200
    assert user.email.split("@")[0] in home.text


async def test_login_with_wrong_password_is_refused_with_a_message(client: httpx.AsyncClient) -> None:
    org = await make_org()
    user = await make_user(org)
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"email": user.email, "password": "wrong-password!", "csrf_token": token}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert SESSION_COOKIE not in client.cookies


async def test_login_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    org = await make_org()
    user = await make_user(org)
    await client.get("/login")
    response = await client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


async def test_login_next_parameter_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    org = await make_org()
    user = await make_user(org)
    for evil in ("https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)"):
        client.cookies.clear()
        token = await csrf_token(client)
        response = await client.post(
            "/login", data={"email": user.email, "password": user.password, "csrf_token": token, "next": evil}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/", evil


async def test_pages_redirect_anonymous_visitors_to_login_with_next(client: httpx.AsyncClient) -> None:
    response = await client.get("/account/sessions")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/sessions"


async def test_logout_revokes_the_session(client: httpx.AsyncClient) -> None:
    org = await make_org()
    user = await make_user(org)
    await login(client, user)
    stolen = client.cookies[SESSION_COOKIE]
    token = await csrf_token(client, "/")
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, stolen)
    replay = await client.get("/")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


async def test_disabled_user_cannot_login(client: httpx.AsyncClient) -> None:
    from hexagone.core.db import system_session
    from hexagone.identity.models import User

    org = await make_org()
    user = await make_user(org)
    async with system_session() as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.is_active = False
        await db.commit()
    token = await csrf_token(client)
    response = await client.post("/login", data={"email": user.email, "password": user.password, "csrf_token": token})
    assert response.status_code == 400


def from_address(base_url: str, address: str) -> httpx.AsyncClient:
    """A browser whose connections come from another loopback address (the server tells
    clients apart by the connection's peer)."""
    return httpx.AsyncClient(base_url=base_url, transport=httpx.AsyncHTTPTransport(local_address=address))


async def test_login_failures_from_one_address_refuse_it_but_not_the_owner_elsewhere(base_url: str) -> None:
    user = await make_user(await make_org())
    limit = get_settings().login_max_failures_per_account_and_ip
    async with from_address(base_url, "127.0.0.2") as attacker, from_address(base_url, "127.0.0.3") as owner:
        token = await csrf_token(attacker)
        statuses = []
        for _ in range(limit + 2):
            r = await attacker.post(
                "/login", data={"email": user.email, "password": "nope-nope-nope", "csrf_token": token}
            )
            statuses.append(r.status_code)
        assert statuses == [400] * limit + [429, 429]
        # the attacker's address stays refused, even with the right password ...
        r = await attacker.post("/login", data={"email": user.email, "password": user.password, "csrf_token": token})
        assert r.status_code == 429
        # ... and the owner, from another address, signs in.
        assert (await login(owner, user)).status_code == 303
        assert (await owner.get("/")).status_code == 200
    async with org_session(user.org_id) as db:
        throttled = await audit.search(db, action=audit.LOGIN_THROTTLED)
    assert [(e.target_label, e.ip, e.details["limit"]) for e in throttled] == [
        (user.email, "127.0.0.2", "account_and_ip")
    ] * 3


async def test_login_with_a_hash_of_other_parameters_signs_in_and_rehashes_it(client: httpx.AsyncClient) -> None:
    from argon2 import PasswordHasher

    from hexagone.core.db import system_session
    from hexagone.core.security import password_needs_rehash, verify_password
    from hexagone.identity.models import User

    user = await make_user(await make_org())
    settings = get_settings()
    older = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib * 2,
        parallelism=settings.password_hash_parallelism,
    ).hash(user.password)
    await set_password_hash(user.id, older)
    assert (await login(client, user)).status_code == 303
    async with system_session() as db:
        row = await db.get(User, user.id)
        assert row is not None
        assert row.password_hash != older and not password_needs_rehash(row.password_hash)
        assert verify_password(row.password_hash, user.password)
