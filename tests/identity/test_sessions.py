"""A user lists their sessions and signs out other devices."""

from __future__ import annotations

import re

import httpx

from hexagone.core.auth import SESSION_COOKIE
from tests.factories import csrf_token, login, make_org, make_user

SESSION_ID_RE = re.compile(r'name="session_id" value="([0-9a-f-]{36})"')


async def test_sessions_page_lists_each_device_and_revokes_one(base_url: str) -> None:
    user = await make_user(await make_org())
    async with (
        httpx.AsyncClient(base_url=base_url, headers={"user-agent": "Laptop"}) as laptop,
        httpx.AsyncClient(base_url=base_url, headers={"user-agent": "Phone"}) as phone,
    ):
        await login(laptop, user)
        await login(phone, user)
        page = await laptop.get("/account/sessions")
        assert "Laptop" in page.text and "Phone" in page.text
        other_ids = SESSION_ID_RE.findall(page.text)
        assert len(other_ids) == 1
        token = await csrf_token(laptop, "/account/sessions")
        await laptop.post("/account/sessions", data={"session_id": other_ids[0], "csrf_token": token})
        assert (await phone.get("/")).status_code == 303
        assert (await laptop.get("/")).status_code == 200


async def test_sessions_sign_out_all_others_keeps_the_current_one(base_url: str) -> None:
    user = await make_user(await make_org())
    clients = [httpx.AsyncClient(base_url=base_url) for _ in range(3)]
    try:
        for c in clients:
            await login(c, user)
        token = await csrf_token(clients[0], "/account/sessions")
        await clients[0].post("/account/sessions", data={"session_id": "others", "csrf_token": token})
        assert [(await c.get("/")).status_code for c in clients] == [200, 303, 303]
    finally:
        for c in clients:
            await c.aclose()


async def test_revoking_another_users_session_id_does_nothing(base_url: str) -> None:
    org = await make_org()
    victim, attacker = await make_user(org), await make_user(org)
    async with (
        httpx.AsyncClient(base_url=base_url) as v,
        httpx.AsyncClient(base_url=base_url) as a,
        httpx.AsyncClient(base_url=base_url) as v2,
    ):
        await login(v, victim)
        await login(a, attacker)
        await login(v2, victim)  # a second session, so the victim's page lists one to revoke
        victim_ids = SESSION_ID_RE.findall((await v.get("/account/sessions")).text)
        token = await csrf_token(a, "/account/sessions")
        await a.post("/account/sessions", data={"session_id": victim_ids[0], "csrf_token": token})
        assert len(SESSION_ID_RE.findall((await v.get("/account/sessions")).text)) == 1


async def home_status(base_url: str, cookie: str) -> int:
    """What GET / answers to a browser holding only this session cookie."""
    async with httpx.AsyncClient(base_url=base_url, cookies={SESSION_COOKIE: cookie}) as browser:
        return (await browser.get("/")).status_code


async def test_signing_in_again_in_the_same_browser_revokes_the_earlier_session(
    base_url: str, client: httpx.AsyncClient
) -> None:
    org = await make_org()
    user, other = await make_user(org), await make_user(org)
    await login(client, user)
    earlier = client.cookies[SESSION_COOKIE]
    token = await csrf_token(client, "/")
    response = await client.post("/login", data={"email": user.email, "password": user.password, "csrf_token": token})
    assert response.status_code == 303
    later = response.cookies[SESSION_COOKIE]
    assert later != earlier
    # the same browser signs in as someone else: that session ends too
    response = await client.post("/login", data={"email": other.email, "password": other.password, "csrf_token": token})
    assert response.status_code == 303
    assert [await home_status(base_url, c) for c in (earlier, later, response.cookies[SESSION_COOKIE])] == [
        303,
        303,
        200,
    ]


async def test_failed_sign_in_keeps_the_browser_session(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    token = await csrf_token(client, "/")
    response = await client.post(
        "/login", data={"email": user.email, "password": "not-the-password", "csrf_token": token}
    )
    assert response.status_code == 400
    assert (await client.get("/")).status_code == 200
