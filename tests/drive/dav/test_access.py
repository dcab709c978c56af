"""Who reaches the drive's WebDAV tree, and how, for every method: anonymous callers and
wrong passwords get 401 asking for Basic credentials; guests sign in with their session
only and reach only their spaces' drives; administrators reach no other user's drive;
an API token opens /api/ only; an account with MFA needs an app password; a session
still owing its second factor reaches nothing; another organisation's drive or space,
or an organisation without the drive, is 404."""

from __future__ import annotations

import httpx
import pytest

from hexagone.core.db import system_session
from hexagone.mail.service import auth as mail_auth
from tests.conftest import Server
from tests.drive.dav.helpers import LOCK_BODY, dav_client, files, propfind_body, space
from tests.drive.factories import make_drive_org
from tests.factories import TestOrg, TestUser, csrf_token, get_user_row, login, make_org, make_space, make_user
from tests.mail.api.helpers import token_for

# Every method, with what it needs to be a well-formed request.
METHODS: dict[str, dict[str, object]] = {
    "OPTIONS": {},
    "PROPFIND": {"headers": {"depth": "0"}, "content": propfind_body("D:getetag")},
    "PROPPATCH": {
        "content": '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set>'
        "</D:propertyupdate>"
    },
    "MKCOL": {},
    "GET": {},
    "HEAD": {},
    "PUT": {"content": b"data"},
    "DELETE": {},
    "COPY": {"headers": {"destination": "/dav/files/nobody@example.test/copy.txt"}},
    "MOVE": {"headers": {"destination": "/dav/files/nobody@example.test/moved.txt"}},
    "LOCK": {"content": LOCK_BODY},
    "UNLOCK": {"headers": {"lock-token": "<urn:uuid:00000000-0000-0000-0000-000000000000>"}},
}


async def _send(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    options = METHODS[method]
    return await client.request(method, path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
async def test_access_anonymous_gets_401_with_a_basic_challenge(server: Server, org: TestOrg, method: str) -> None:
    user = await make_user(org)
    async with dav_client(server.base_url) as client:
        response = await _send(client, method, files(user, "file.txt"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="Hexagone"')


async def test_access_wrong_password_gets_401(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    async with dav_client(server.base_url, user, password="not-the-password") as client:
        assert (await _send(client, "PROPFIND", files(user))).status_code == 401


@pytest.mark.parametrize("role", ["user", "admin"])
async def test_access_member_with_password_reaches_their_drive(server: Server, org: TestOrg, role: str) -> None:
    user = await make_user(org, role=role)
    async with dav_client(server.base_url, user) as client:
        assert (await _send(client, "PROPFIND", files(user))).status_code == 207
        assert (await _send(client, "PUT", files(user, "file.txt"))).status_code == 201


@pytest.mark.parametrize("method", METHODS)
async def test_access_admin_does_not_reach_another_users_drive(server: Server, org: TestOrg, method: str) -> None:
    admin, user = await make_user(org, role="admin"), await make_user(org)
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "file.txt"), content=b"private")
    async with dav_client(server.base_url, admin) as client:
        response = await _send(client, method, files(user, "file.txt"))
    assert response.status_code == 404


@pytest.mark.parametrize("method", METHODS)
async def test_access_another_organisations_drive_and_space_are_404(server: Server, org: TestOrg, method: str) -> None:
    user = await make_user(org)
    shared = await make_space(user)
    stranger = await make_user(await make_drive_org(), role="admin")
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "file.txt"), content=b"private")
        await client.put(space(shared.id, "file.txt"), content=b"shared")
    async with dav_client(server.base_url, stranger) as client:
        mine = await _send(client, method, files(user, "file.txt"))
        theirs = await _send(client, method, space(shared.id, "file.txt"))
    assert (mine.status_code, theirs.status_code) == (404, 404)


async def test_access_organisation_without_the_drive_gets_404(server: Server) -> None:
    user = await make_user(await make_org(modules=("calendar",)))
    async with dav_client(server.base_url, user) as client:
        assert (await _send(client, "PROPFIND", files(user))).status_code in (401, 404)


async def test_access_guest_password_is_refused(server: Server, org: TestOrg) -> None:
    guest = await make_user(org, role="guest")
    async with dav_client(server.base_url, guest) as client:
        assert (await _send(client, "PROPFIND", files(guest))).status_code == 401


async def test_access_guest_session_reaches_their_space_only(server: Server, org: TestOrg) -> None:
    owner = await make_user(org)
    guest = await make_user(org, role="guest")
    theirs = await make_space(owner, members={guest: "member"})
    other = await make_space(owner)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, guest)
        token = {"x-csrf-token": await csrf_token(browser, "/")}
        own = await browser.request("PROPFIND", files(guest), headers={"depth": "0", **token})
        in_space = await browser.request("PUT", space(theirs.id, "from-guest.txt"), headers=token, content=b"hi")
        elsewhere = await browser.request("PROPFIND", space(other.id), headers={"depth": "0", **token})
        owners = await browser.request("PROPFIND", files(owner), headers={"depth": "0", **token})
    assert (own.status_code, in_space.status_code, elsewhere.status_code, owners.status_code) == (404, 201, 404, 404)


async def test_access_session_needs_the_csrf_token_for_changes(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, user)
        refused = await browser.put(files(user, "forged.txt"), content=b"x")
        token = await csrf_token(browser, "/")
        allowed = await browser.put(files(user, "mine.txt"), content=b"x", headers={"x-csrf-token": token})
        read = await browser.get(files(user, "mine.txt"))
    assert (refused.status_code, allowed.status_code, read.status_code) == (403, 201, 200)


async def test_access_mfa_account_needs_an_app_password(server: Server, org: TestOrg) -> None:
    user = await make_user(org, mfa=True)
    async with system_session() as db:
        _row, secret = await mail_auth.create_app_password(db, await get_user_row(user.id), "rclone")
        await db.commit()
    async with dav_client(server.base_url, user) as client:
        assert (await _send(client, "PROPFIND", files(user))).status_code == 401
    async with dav_client(server.base_url, user, password=secret) as client:
        assert (await _send(client, "PROPFIND", files(user))).status_code == 207


async def test_access_mfa_pending_session_reaches_nothing(server: Server, org: TestOrg) -> None:
    user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, user, second_factor=False)
        token = {"x-csrf-token": await csrf_token(browser, "/login/mfa")}
        read = await browser.get(files(user))
        listed = await browser.request("PROPFIND", files(user), headers={"depth": "0", **token})
    for response in (read, listed):
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login/mfa")


async def test_access_api_bearer_token_is_refused(server: Server, org: TestOrg) -> None:
    user: TestUser = await make_user(org)
    token = await token_for(server.base_url, user)
    async with dav_client(server.base_url) as client:
        response = await client.request(
            "PROPFIND", files(user), headers={"depth": "0", "authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
