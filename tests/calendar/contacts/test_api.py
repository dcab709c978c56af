"""The contacts API under /api/v1/calendar/contacts with real access tokens from our
provider: what an owner does (list books, create, read, search, change with If-Match,
delete), and every other kind of caller: anonymous (401), a guest's session (no book of
their own, nothing of others), a colleague (404), another organisation (404), an
organisation without the module (404 from the subscription gate), an MFA-pending
session (refused), and bad input (4xx with a message)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.calendar.factories import make_calendar_org
from tests.factories import TestUser, csrf_token, login, make_org, make_user
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

API = "/api/v1/calendar/contacts"
ELOISE: dict[str, object] = {
    "given": "Éloïse",
    "family": "Dupré",
    "emails": ["eloise@partner.test"],
    "groups": ["Clients"],
}


@dataclass
class World:
    owner: dict[str, str]
    admin: dict[str, str]
    colleague: dict[str, str]
    stranger: dict[str, str]
    unsubscribed: dict[str, str]
    guest: TestUser
    mfa: TestUser
    book: str
    contact: str


@pytest.fixture(scope="module")
async def world(base_url: str) -> World:
    org = await make_calendar_org()
    owner, admin, colleague = await make_user(org), await make_user(org, role="admin"), await make_user(org)
    stranger = await make_user(await make_calendar_org())
    unsubscribed = await make_user(await make_org(modules=("mail",)))
    headers = [bearer(await token_for(base_url, u)) for u in (owner, admin, colleague, stranger, unsubscribed)]
    async with httpx.AsyncClient(base_url=base_url) as client:
        books = (await client.get(f"{API}/address-books", headers=headers[0])).json()
        book = next(b["id"] for b in books if b["purpose"] == "personal")
        created = await client.post(f"{API}/address-books/{book}/contacts", json=ELOISE, headers=headers[0])
        assert created.status_code == 201, created.text
    return World(
        owner=headers[0],
        admin=headers[1],
        colleague=headers[2],
        stranger=headers[3],
        unsubscribed=headers[4],
        guest=await make_user(org, role="guest"),
        mfa=await make_user(org, mfa=True),
        book=book,
        contact=created.json()["id"],
    )


def _paths(world: World) -> list[tuple[str, str, dict[str, object] | None]]:
    one = f"{API}/address-books/{world.book}/contacts/{world.contact}"
    return [
        ("GET", f"{API}/address-books/{world.book}/contacts", None),
        ("GET", one, None),
        ("POST", f"{API}/address-books/{world.book}/contacts", ELOISE),
        ("PUT", one, ELOISE),
        ("DELETE", one, None),
    ]


async def test_owner_creates_reads_searches_changes_and_deletes(client: httpx.AsyncClient, world: World) -> None:
    books = (await client.get(f"{API}/address-books", headers=world.owner)).json()
    created = await client.post(f"{API}/address-books/{world.book}/contacts", json=ELOISE, headers=world.owner)
    one = f"{API}/address-books/{world.book}/contacts/{created.json()['id']}"
    etag = created.json()["etag"]
    found = (await client.get(f"{API}/search", params={"q": "éloïse"}, headers=world.owner)).json()
    stale = await client.put(one, json={"given": "X"}, headers={**world.owner, "if-match": '"stale"'})
    changed = await client.put(one, json={**ELOISE, "title": "Directrice"}, headers={**world.owner, "if-match": etag})
    deleted = await client.delete(one, headers=world.owner)

    assert {b["purpose"] for b in books} >= {"personal", "directory"}
    assert [b["writable"] for b in books if b["purpose"] == "directory"] == [False]
    assert created.json()["display_name"] == "Éloïse Dupré" and created.json()["groups"] == ["Clients"]
    assert len(found) >= 1 and found[0]["emails"] == ["eloise@partner.test"]
    assert stale.status_code == 412 and stale.json()["error"]
    assert changed.status_code == 200 and changed.json()["title"] == "Directrice"
    assert deleted.status_code == 204 and (await client.get(one, headers=world.owner)).status_code == 404


async def test_admin_colleague_and_stranger_reach_nothing_and_unsubscribed_is_gated(
    client: httpx.AsyncClient, world: World
) -> None:
    for caller in (world.admin, world.colleague, world.stranger, world.unsubscribed):
        for method, path, body in _paths(world):
            response = await client.request(method, path, json=body, headers=caller)
            assert response.status_code == 404, (method, path, response.text)
    gated = await client.get(f"{API}/address-books", headers=world.unsubscribed)
    assert gated.status_code == 404


async def test_anonymous_is_told_to_authenticate(client: httpx.AsyncClient, world: World) -> None:
    headers = {"x-csrf-token": await csrf_token(client)}
    for method, path, body in [("GET", f"{API}/address-books", None), *_paths(world)]:
        response = await client.request(method, path, json=body, headers=headers if method != "GET" else {})
        assert response.status_code == 401, (method, path, response.text)


async def test_guest_session_has_no_book_and_reaches_none(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.guest)
    headers = {"x-csrf-token": await csrf_token(client, "/")}
    books = await client.get(f"{API}/address-books")
    answers = [(await client.request(m, p, json=b, headers=headers)).status_code for m, p, b in _paths(world)]
    assert books.status_code == 200 and books.json() == []
    assert answers == [404] * 5


async def test_mfa_pending_session_reaches_nothing(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.mfa, second_factor=False)
    response = await client.get(f"{API}/address-books")
    assert response.status_code in (401, 403), response.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"emails": ["not an address"]},
        {"given": "x" * 300},
        {"emails": "one"},
        {"addresses": [{"street": 3}]},
        {"given": "Zoé\u0000"},
        {"given": "Zoé", "emails": ["z\u0000@partner.test"]},
        {"given": "Zoé", "addresses": [{"street": "rue\u0000"}]},
    ],
    ids=["empty", "bad-address", "too-long", "not-a-list", "bad-type", "nul-name", "nul-address", "nul-street"],
)
async def test_bad_input_gets_a_4xx_with_a_message(client: httpx.AsyncClient, world: World, body: object) -> None:
    response = await client.post(f"{API}/address-books/{world.book}/contacts", json=body, headers=world.owner)
    assert response.status_code in (400, 422) and response.json()["error"], response.text
    bad_id = await client.get(f"{API}/address-books/not-an-id/contacts", headers=world.owner)
    assert bad_id.status_code == 422


@pytest.mark.parametrize("route", ["/search?q=a%00b", "/address-books/{book}/contacts?q=a%00b"])
async def test_search_with_a_nul_character_gets_a_4xx_with_a_message(
    client: httpx.AsyncClient, world: World, route: str
) -> None:
    response = await client.get(API + route.format(book=world.book), headers=world.owner)
    assert response.status_code == 400 and "NUL" in response.text, response.text
