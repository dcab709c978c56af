"""The principal of a session is kept a few seconds (core.principal_cache), and every change
that alters it takes effect on the very next request: each test warms the server's cache
with two requests, changes one thing, and looks at the next answer. The changes are made
in this process, as a command or another worker would (across processes), or through the
server itself (in process)."""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from sqlalchemy import event

from hexagone.core import auth, principal_cache
from hexagone.core.auth import SESSION_COOKIE
from hexagone.core.config import Settings
from hexagone.core.db import get_engine, org_session, system_session, utcnow
from hexagone.identity.models import OrgRole, SpaceRole, User
from hexagone.identity.service import groups, orgs, spaces, users
from hexagone.identity.service.principals import load_principal
from tests.conftest import Server
from tests.factories import csrf_token, emailed, login, make_org, make_space, make_user, principal

LINK_RE = re.compile(r"(/password/reset/[A-Za-z0-9_-]+)")
REDIS = "redis://127.0.0.1:6379/0"


async def warmed(client: httpx.AsyncClient, path: str = "/") -> None:
    """Two requests: the first loads the principal, the second is answered from the cache."""
    for _ in range(2):
        assert (await client.get(path)).status_code == 200


async def me(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/v1/me")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


@pytest.fixture
def loader_installed() -> Iterator[None]:
    """This process resolves sessions itself, as the server does."""
    previous = auth._loader, auth._bearer
    auth.install(load_principal)
    yield
    auth.install(*previous)


@pytest.fixture
async def statements() -> AsyncIterator[list[str]]:
    """The SQL statements this process sends from now on."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    engine = get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


async def test_a_session_is_resolved_from_the_cache_until_its_user_changes(
    client: httpx.AsyncClient, loader_installed: None, statements: list[str]
) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    token = client.cookies[SESSION_COOKIE]
    first = await auth.principal_from_session_token(token)
    assert first is not None and statements
    statements.clear()
    assert await auth.principal_from_session_token(token) == first
    assert statements == []
    async with org_session(user.org_id) as db:
        await users.update_profile(db, first, display_name="Renamed Person", locale="en")
        await db.commit()
    statements.clear()
    renamed = await auth.principal_from_session_token(token)
    assert renamed is not None and renamed.display_name == "Renamed Person" and renamed.locale == "en"
    assert statements


async def test_disabling_a_user_refuses_their_session_on_the_next_request(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org)
    await login(client, user)
    await warmed(client)
    async with org_session(org.id) as db:
        await users.set_active(db, await principal(admin), user.id, False)
        await db.commit()
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_a_process_that_caches_nothing_still_drops_the_servers_entries(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org)
    await login(client, user)
    await warmed(client)
    monkeypatch.setattr(principal_cache, "_cache", principal_cache.Cache(Settings(principal_cache_seconds=0)))
    async with org_session(org.id) as db:
        await users.set_active(db, await principal(admin), user.id, False)
        await db.commit()
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_demoting_an_admin_closes_the_admin_pages_on_the_next_request(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin, other_admin = await make_user(org, role=OrgRole.ADMIN), await make_user(org, role=OrgRole.ADMIN)
    await login(client, admin)
    await warmed(client, "/sample/admin")
    async with org_session(org.id) as db:
        await users.set_role(db, await principal(other_admin), admin.id, OrgRole.USER)
        await db.commit()
    assert (await client.get("/sample/admin")).status_code == 403


async def test_a_password_reset_signs_every_session_out_on_the_next_request(base_url: str) -> None:
    user = await make_user(await make_org())
    async with httpx.AsyncClient(base_url=base_url) as signed_in, httpx.AsyncClient(base_url=base_url) as resetting:
        await login(signed_in, user)
        await warmed(signed_in)
        token = await csrf_token(resetting, "/password/forgot")
        await resetting.post("/password/forgot", data={"email": user.email, "csrf_token": token})
        link = await emailed(user.email, LINK_RE)
        token = await csrf_token(resetting, link)
        password = "Another-new-password-77"
        changed = await resetting.post(
            link, data={"password": password, "password_confirm": password, "csrf_token": token}
        )
        assert changed.status_code == 200
        answer = await signed_in.get("/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_enrolling_mfa_elsewhere_lifts_the_organisations_demand_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(await make_org(mfa_required=True))
    await login(client, user)
    for _ in range(2):
        assert (await client.get("/")).headers["location"] == "/account/mfa"
    async with system_session() as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.totp_secret = "JBSWY3DPEHPK3PXP"
        row.totp_enabled_at = utcnow()
        await db.commit()
    assert (await client.get("/")).status_code == 200


async def test_an_admin_resetting_mfa_signs_the_user_out_on_the_next_request(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org, mfa=True)
    await login(client, user)
    await warmed(client)
    async with org_session(org.id) as db:
        await users.reset_mfa(db, await principal(admin), user.id)
        await db.commit()
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_requiring_mfa_in_the_organisation_sends_the_user_to_set_it_up_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org)
    await login(client, user)
    await warmed(client)
    async with org_session(org.id) as db:
        await orgs.set_mfa_required(db, await principal(admin), True)
        await db.commit()
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/account/mfa"


async def test_joining_then_leaving_a_space_shows_in_the_next_api_answer(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner, user = await make_user(org), await make_user(org)
    space = await make_space(owner)
    await login(client, user)
    await warmed(client, "/api/v1/me")
    async with org_session(org.id) as db:
        found = await spaces.get_space(db, await principal(owner), space.id)
        await spaces.add_member(db, await principal(owner), found, user.id, SpaceRole.MEMBER)
        await db.commit()
    assert [s["id"] for s in (await me(client))["spaces"]] == [str(space.id)]  # type: ignore[union-attr]
    async with org_session(org.id) as db:
        found = await spaces.get_space(db, await principal(owner), space.id)
        await spaces.remove_member(db, await principal(owner), found, user.id)
        await db.commit()
    assert (await me(client))["spaces"] == []


async def test_joining_a_group_shows_in_the_next_api_answer(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org)
    await login(client, user)
    await warmed(client, "/api/v1/me")
    async with org_session(org.id) as db:
        group = await groups.create_group(db, await principal(admin), name="Readers")
        await groups.add_to_group(db, await principal(admin), group, user.id)
        await db.commit()
    assert (await me(client))["groups"] == [{"id": str(group.id), "name": "Readers"}]


async def test_unsubscribing_the_organisation_hides_the_module_on_the_next_request(client: httpx.AsyncClient) -> None:
    org = await make_org(modules=("sample",))
    admin = await make_user(org, role=OrgRole.ADMIN)
    await login(client, admin)
    await warmed(client, "/sample/")
    async with org_session(org.id) as db:
        await orgs.set_modules(db, await principal(admin), [], ["sample"])
        await db.commit()
    assert (await client.get("/sample/")).status_code == 404


async def test_choosing_a_language_serves_the_next_page_in_it(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    await login(client, user)
    await warmed(client)
    token = await csrf_token(client, "/")
    for lang, word in (("en", '<html lang="en">'), ("fr", '<html lang="fr">')):
        await client.post("/lang", data={"lang": lang, "next": "/", "csrf_token": token})
        client.cookies.delete("lang")  # the profile's choice, not the cookie's
        assert word in (await client.get("/")).text


@pytest.fixture(scope="module")
def two_machines(start_server: Callable[..., Server]) -> list[Server]:
    """Two servers on one database and one Redis, each with a data directory of its own:
    they share no generations file, as two machines would not."""
    return [
        start_server(HEXAGONE_PUBSUB_URL=REDIS, HEXAGONE_DATA_DIR=tempfile.mkdtemp(prefix="hexagone-machine-"))
        for _ in range(2)
    ]


async def test_signing_out_on_one_machine_reaches_the_other_through_the_bus(two_machines: list[Server]) -> None:
    first, second = two_machines
    user = await make_user(await make_org())
    async with (
        httpx.AsyncClient(base_url=first.base_url) as on_first,
        httpx.AsyncClient(base_url=second.base_url) as on_second,
    ):
        await login(on_first, user)
        on_second.cookies.set(SESSION_COOKIE, on_first.cookies[SESSION_COOKIE])
        await warmed(on_second)
        token = await csrf_token(on_first, "/")
        assert (await on_first.post("/logout", data={"csrf_token": token})).status_code == 303
        # the bus delivers after the commit, in milliseconds: allow it a second
        deadline = time.monotonic() + 1
        while (await on_second.get("/")).status_code == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        answer = await on_second.get("/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
