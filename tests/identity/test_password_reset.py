"""Password reset by e-mailed token: the token flow is real; the message waits in the outbox."""

from __future__ import annotations

import re

import httpx

from tests.factories import csrf_token, login, make_org, make_user, outbox_for

LINK_RE = re.compile(r"(/password/reset/[A-Za-z0-9_-]+)")


async def ask_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_token(client, "/password/forgot")
    return await client.post("/password/forgot", data={"email": email, "csrf_token": token})


async def test_password_reset_link_changes_the_password_once(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    assert (await ask_reset(client, user.email)).status_code == 200
    messages = await outbox_for(user.email)
    assert len(messages) == 1 and messages[0].kind == "password_reset"
    link = LINK_RE.search(messages[0].body)
    assert link
    assert (await client.get(link.group(1))).status_code == 200
    token = await csrf_token(client, link.group(1))
    new_password = "A-brand-new-password-42"
    changed = await client.post(
        link.group(1), data={"password": new_password, "password_confirm": new_password, "csrf_token": token}
    )
    assert changed.status_code == 200
    user.password = new_password
    await login(client, user)
    reused = await client.post(
        link.group(1), data={"password": new_password, "password_confirm": new_password, "csrf_token": token}
    )
    assert reused.status_code == 404


async def test_password_reset_for_unknown_address_looks_the_same_and_sends_nothing(client: httpx.AsyncClient) -> None:
    response = await ask_reset(client, "nobody-here@nowhere.test")
    assert response.status_code == 200
    assert await outbox_for("nobody-here@nowhere.test") == []


async def test_password_reset_with_short_password_is_refused(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await ask_reset(client, user.email)
    link = LINK_RE.search((await outbox_for(user.email))[0].body)
    assert link
    token = await csrf_token(client, link.group(1))
    response = await client.post(
        link.group(1), data={"password": "short", "password_confirm": "short", "csrf_token": token}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.text


async def test_password_reset_with_forged_token_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/password/reset/forged-token")).status_code == 404


async def test_password_reset_signs_out_every_session(base_url: str) -> None:
    user = await make_user(await make_org())
    async with httpx.AsyncClient(base_url=base_url) as victim, httpx.AsyncClient(base_url=base_url) as owner:
        await login(victim, user)
        await ask_reset(owner, user.email)
        link = LINK_RE.search((await outbox_for(user.email))[-1].body)
        assert link
        token = await csrf_token(owner, link.group(1))
        pw = "Another-new-password-7"
        await owner.post(link.group(1), data={"password": pw, "password_confirm": pw, "csrf_token": token})
        assert (await victim.get("/")).status_code == 303
