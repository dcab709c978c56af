"""Who reaches the DAV tree, and how: every kind of caller (anonymous, wrong password,
guest, member, administrator, MFA account with its password or an app password, API
token, browser session with and without CSRF token, MFA-pending session) and every
crossing (another user's home, another organisation's collection, an organisation that
does not subscribe to calendar): a refusal is 401 asking for credentials, or 404 where
existence must not leak."""

from __future__ import annotations

import uuid

import httpx
import pytest

from hexagone.calendar.models import Access, CollectionKind
from hexagone.calendar.service import collections
from hexagone.core.db import org_session, system_session
from hexagone.identity.service import users
from hexagone.mail.service import auth as mail_auth
from tests.calendar.dav.helpers import (
    CALDAV_TYPE,
    ROOT,
    calendar_path,
    dav_client,
    hrefs,
    propfind_body,
)
from tests.calendar.factories import event, make_calendar_org
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, csrf_token, get_user_row, login, make_org, make_user, principal
from tests.mail.api.helpers import token_for

DEPTH0 = {"depth": "0"}


async def _propfind(client: httpx.AsyncClient, path: str = ROOT) -> httpx.Response:
    return await client.request("PROPFIND", path, headers=DEPTH0, content=propfind_body("D:current-user-principal"))


async def _calendar_id(user: TestUser) -> str:
    me = await principal(user)
    async with org_session(me.org_id, write=True) as db:
        await collections.ensure_defaults(db, me)
        await db.commit()
        [mine] = [
            r for r in await collections.visible(db, me, CollectionKind.CALENDAR) if r.collection.owner_id == me.user_id
        ]
        return mine.collection.id.hex


async def test_access_anonymous_gets_401_with_a_basic_challenge(server: Server) -> None:
    async with dav_client(server.base_url) as client:
        response = await _propfind(client)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="Hexagone"')


async def test_access_wrong_password_gets_401(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    async with dav_client(server.base_url, user, password="not-the-password") as client:
        assert (await _propfind(client)).status_code == 401


async def test_access_malformed_basic_credentials_get_401(server: Server) -> None:
    async with dav_client(server.base_url) as client:
        response = await client.request("PROPFIND", ROOT, headers={**DEPTH0, "authorization": "Basic %%%"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["user", "admin"])
async def test_access_member_with_password_reaches_their_principal(server: Server, org: TestOrg, role: str) -> None:
    user = await make_user(org, role=role)
    async with dav_client(server.base_url, user) as client:
        response = await _propfind(client)
    assert response.status_code == 207
    assert f"/calendar/dav/principals/{user.id}/" in response.text


async def test_access_guest_password_is_refused(server: Server, org: TestOrg) -> None:
    guest = await make_user(org, role="guest")
    async with dav_client(server.base_url, guest) as client:
        assert (await _propfind(client)).status_code == 401


async def test_access_guest_session_gets_404(server: Server, org: TestOrg) -> None:
    guest = await make_user(org, role="guest")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, guest)
        token = await csrf_token(browser, "/")
        response = await browser.request(
            "PROPFIND", ROOT, headers={**DEPTH0, "x-csrf-token": token}, content=propfind_body("D:displayname")
        )
    assert response.status_code == 404


async def test_access_mfa_account_password_is_refused_but_an_app_password_opens(server: Server, org: TestOrg) -> None:
    user = await make_user(org, mfa=True)
    async with system_session() as db:
        _row, secret = await mail_auth.create_app_password(db, await get_user_row(user.id), "DAVx5")
        await db.commit()
    async with dav_client(server.base_url, user) as client:
        assert (await _propfind(client)).status_code == 401
    async with dav_client(server.base_url, user, password=secret) as client:
        assert (await _propfind(client)).status_code == 207


async def test_access_api_bearer_token_is_refused(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    token = await token_for(server.base_url, user)
    async with dav_client(server.base_url) as client:
        response = await client.request(
            "PROPFIND", ROOT, headers={**DEPTH0, "authorization": f"Bearer {token}"}, content=propfind_body()
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_access_session_needs_the_csrf_token_for_dav_methods(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, user)
        forged = await browser.put(
            calendar_path(user) + "x.ics", content=event(), headers={"content-type": CALDAV_TYPE}
        )
        token = await csrf_token(browser, "/")
        allowed = await browser.put(
            calendar_path(user) + "x.ics", content=event(), headers={"content-type": CALDAV_TYPE, "x-csrf-token": token}
        )
        listed = await browser.request("PROPFIND", ROOT, headers={**DEPTH0, "x-csrf-token": token})
    assert forged.status_code == 403
    assert allowed.status_code == 201
    assert listed.status_code == 207


async def test_access_post_with_basic_credentials_is_refused(server: Server, org: TestOrg) -> None:
    """A browser that remembered Basic credentials adds them to a form another site
    posts: POST changes nothing in the DAV tree."""
    user = await make_user(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.post(
            calendar_path(user), data={"x": "1"}, headers={"content-type": "application/x-www-form-urlencoded"}
        )
    assert response.status_code == 405


async def test_access_mfa_pending_session_is_sent_to_the_second_factor(server: Server, org: TestOrg) -> None:
    user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, user, second_factor=False)
        token = await csrf_token(browser, "/login/mfa")
        response = await browser.request("PROPFIND", ROOT, headers={**DEPTH0, "x-csrf-token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login/mfa"


async def test_access_unsubscribed_organisation_is_refused(server: Server) -> None:
    other = await make_org(modules=("mail",))
    user = await make_user(other)
    async with dav_client(server.base_url, user) as client:
        assert (await _propfind(client)).status_code == 401
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, user)
        token = await csrf_token(browser, "/")
        assert (await browser.request("PROPFIND", ROOT, headers={**DEPTH0, "x-csrf-token": token})).status_code == 404


async def test_access_another_users_home_and_calendar_answer_404(server: Server, org: TestOrg) -> None:
    me, colleague = await make_user(org), await make_user(org)
    theirs = await _calendar_id(colleague)
    async with dav_client(server.base_url, colleague) as client:
        await client.put(calendar_path(colleague) + "a.ics", content=event(), headers={"content-type": CALDAV_TYPE})
    async with dav_client(server.base_url, me) as client:
        paths = [
            f"{ROOT}principals/{colleague.id}/",
            f"{ROOT}calendars/{colleague.id}/",
            calendar_path(colleague),
            calendar_path(colleague) + "a.ics",
            f"{ROOT}calendars/{me.id}/{theirs}/",
            f"{ROOT}calendars/{me.id}/{theirs}/a.ics",
        ]
        statuses = [(await _propfind(client, p)).status_code for p in paths]
        statuses.append((await client.get(f"{ROOT}calendars/{me.id}/{theirs}/a.ics")).status_code)
        statuses.append((await client.delete(f"{ROOT}calendars/{me.id}/{theirs}/a.ics")).status_code)
        statuses.append(
            (
                await client.put(
                    f"{ROOT}calendars/{me.id}/{theirs}/b.ics", content=event(), headers={"content-type": CALDAV_TYPE}
                )
            ).status_code
        )
    assert statuses == [404] * 9


async def test_access_another_organisations_collection_answers_404(server: Server, org: TestOrg) -> None:
    me = await make_user(org)
    stranger = await make_user(await make_calendar_org())
    theirs = await _calendar_id(stranger)
    async with dav_client(server.base_url, me) as client:
        statuses = [
            (await _propfind(client, f"{ROOT}calendars/{me.id}/{theirs}/")).status_code,
            (await _propfind(client, calendar_path(stranger))).status_code,
            (await client.get(f"{ROOT}calendars/{me.id}/{theirs}/x.ics")).status_code,
        ]
    assert statuses == [404, 404, 404]


async def test_access_a_shared_calendar_appears_in_the_home_of_the_sharee(server: Server, org: TestOrg) -> None:
    owner, reader = await make_user(org), await make_user(org)
    shared = await _calendar_id(owner)
    owner_principal = await principal(owner)
    async with org_session(org.id, write=True) as db:
        await collections.share(db, owner_principal, uuid.UUID(hex=shared), user_id=reader.id, access=Access.READ)
        await db.commit()
    async with dav_client(server.base_url, owner) as client:
        await client.put(calendar_path(owner) + "s.ics", content=event(), headers={"content-type": CALDAV_TYPE})
    async with dav_client(server.base_url, reader) as client:
        home = await client.request("PROPFIND", f"{ROOT}calendars/{reader.id}/", headers={"depth": "1"})
        path = f"{ROOT}calendars/{reader.id}/{shared}/"
        read = await client.get(path + "s.ics")
        write = await client.put(path + "t.ics", content=event(), headers={"content-type": CALDAV_TYPE})
    assert path in hrefs(home)
    assert read.status_code == 200
    assert write.status_code == 403


async def test_access_disabled_account_is_refused_at_the_next_request(server: Server, org: TestOrg) -> None:
    """Signed-in credentials are kept per process a few seconds: disabling the account
    drops them at once."""
    admin, user = await make_user(org, role="admin"), await make_user(org)
    async with dav_client(server.base_url, user) as client:
        assert (await _propfind(client)).status_code == 207
        async with org_session(org.id, write=True) as db:
            await users.set_active(db, await principal(admin), user.id, False)
            await db.commit()
        assert (await _propfind(client)).status_code == 401


async def test_access_revoked_app_password_is_refused_at_the_next_request(server: Server, org: TestOrg) -> None:
    user = await make_user(org, mfa=True)
    async with system_session() as db:
        row, secret = await mail_auth.create_app_password(db, await get_user_row(user.id), "DAVx5")
        await db.commit()
    async with dav_client(server.base_url, user, password=secret) as client:
        assert (await _propfind(client)).status_code == 207
        async with system_session() as db:
            await mail_auth.revoke_app_password(db, user.id, row.id)
            await db.commit()
        assert (await _propfind(client)).status_code == 401
