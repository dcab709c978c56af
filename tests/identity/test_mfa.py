"""Two-step verification: enrolment, the second-factor gate, recovery codes, org policy."""

from __future__ import annotations

import re

import httpx
import pyotp

from hexagone.core.auth import SESSION_COOKIE
from tests.factories import csrf_token, get_user_row, login, make_org, make_user
from tests.identity.test_sessions import home_status

SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
CODE_RE = re.compile(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>")


async def enrol(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    page = await client.get("/account/mfa")
    assert page.status_code == 200
    secret = SECRET_RE.search(page.text)
    assert secret, page.text[:1000]
    token = await csrf_token(client, "/account/mfa")
    done = await client.post(
        "/account/mfa", data={"action": "confirm", "code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": token}
    )
    assert done.status_code == 200
    codes = CODE_RE.findall(done.text)
    return secret.group(1), codes


async def test_mfa_enrolment_with_right_code_turns_it_on_and_shows_ten_recovery_codes(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    _secret, codes = await enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    row = await get_user_row(user.id)
    assert row.totp_enabled_at is not None


async def test_mfa_enrolment_with_wrong_code_is_refused(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    await client.get("/account/mfa")
    token = await csrf_token(client, "/account/mfa")
    response = await client.post("/account/mfa", data={"action": "confirm", "code": "000000", "csrf_token": token})
    assert response.status_code == 400
    assert (await get_user_row(user.id)).totp_enabled_at is None


async def test_login_with_mfa_keeps_the_session_pending_until_the_code(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(), mfa=True)
    response = await login(client, user, second_factor=False)
    assert response.headers["location"].startswith("/login/mfa")
    for path in ("/", "/account", "/admin"):
        blocked = await client.get(path)
        assert blocked.status_code == 303 and blocked.headers["location"] == "/login/mfa", path
    api = await client.get("/api/v1/me")
    assert api.status_code == 401
    token = await csrf_token(client, "/login/mfa")
    wrong = await client.post("/login/mfa", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code == 400
    right = await client.post("/login/mfa", data={"code": user.totp(), "csrf_token": token, "next": "/account"})
    assert right.status_code == 303 and right.headers["location"] == "/account"
    assert (await client.get("/api/v1/me")).json()["email"] == user.email


async def test_recovery_code_works_once(base_url: str) -> None:
    user = await make_user(await make_org())
    async with httpx.AsyncClient(base_url=base_url) as first:
        await login(first, user)
        secret, codes = await enrol(first)
    user.totp_secret = secret
    for expected in (303, 400):
        async with httpx.AsyncClient(base_url=base_url) as browser:
            await login(browser, user, second_factor=False)
            token = await csrf_token(browser, "/login/mfa")
            response = await browser.post("/login/mfa", data={"code": codes[0].upper(), "csrf_token": token})
            assert response.status_code == expected


async def test_org_requiring_mfa_sends_unenrolled_users_to_set_up(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(mfa_required=True))
    await login(client, user)
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/account/mfa"
    await enrol(client)
    assert (await client.get("/")).status_code == 200


async def test_mfa_cannot_be_turned_off_when_the_org_requires_it(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(mfa_required=True), mfa=True)
    await login(client, user)
    token = await csrf_token(client, "/account/mfa")
    response = await client.post("/account/mfa", data={"action": "disable", "csrf_token": token})
    assert response.status_code == 400
    assert (await get_user_row(user.id)).totp_enabled_at is not None


async def test_second_factor_gives_a_new_session_cookie_and_the_password_step_one_stops_working(
    base_url: str, client: httpx.AsyncClient
) -> None:
    user = await make_user(await make_org(), mfa=True)
    await login(client, user, second_factor=False)
    pending = client.cookies[SESSION_COOKIE]
    token = await csrf_token(client, "/login/mfa")
    response = await client.post("/login/mfa", data={"code": user.totp(), "csrf_token": token, "next": "/"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    signed_in = response.cookies[SESSION_COOKIE]
    assert signed_in != pending
    assert [await home_status(base_url, c) for c in (pending, signed_in)] == [303, 200]
    async with httpx.AsyncClient(base_url=base_url, cookies={SESSION_COOKIE: pending}) as planted:
        assert (await planted.get("/login/mfa")).headers["location"] == "/login"


async def test_turning_mfa_on_signs_out_the_other_sessions(base_url: str) -> None:
    user = await make_user(await make_org())
    async with httpx.AsyncClient(base_url=base_url) as laptop, httpx.AsyncClient(base_url=base_url) as stolen:
        await login(laptop, user)
        await login(stolen, user)
        await enrol(laptop)
        assert (await laptop.get("/")).status_code == 200
        assert (await stolen.get("/")).status_code == 303


async def test_turning_mfa_off_signs_out_the_other_sessions(base_url: str) -> None:
    user = await make_user(await make_org(), mfa=True)
    async with httpx.AsyncClient(base_url=base_url) as laptop, httpx.AsyncClient(base_url=base_url) as stolen:
        await login(laptop, user)
        await login(stolen, user)
        token = await csrf_token(laptop, "/account/mfa")
        response = await laptop.post("/account/mfa", data={"action": "disable", "csrf_token": token})
        assert response.status_code == 200
        assert (await get_user_row(user.id)).totp_enabled_at is None
        assert (await laptop.get("/")).status_code == 200
        assert (await stolen.get("/")).status_code == 303
