"""Every route of the mail API against every kind of caller, with a real access token:
anonymous (401), another organisation (404, as if nothing existed), a colleague without
access (404), a read-only grant trying to change (403), and bad input (4xx with a
message, never 500). What each route does when allowed is in the other files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import csrf_token, login
from tests.mail.api.helpers import API, Objects, Person, World, make_world, objects_in, own_mailbox


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # with {mailbox}, {folder}, {custom}, {target}, {message}
    body: dict[str, Any] | None = None
    writes: bool = False
    bad_path: str | None = None  # the same route with an invalid value
    bad_body: dict[str, Any] | None = None

    def request(self, objects: Objects, *, bad: bool = False) -> tuple[str, str, dict[str, Any] | None]:
        path = (self.bad_path if bad and self.bad_path else self.path).format(**vars(objects))
        body = self.bad_body if bad and self.bad_body is not None else self.body
        if body is not None:
            body = {k: v.format(**vars(objects)) if isinstance(v, str) else v for k, v in body.items()}
        return self.method, API + path, body


CASES = {
    "list folders": Case("GET", "/mailboxes/{mailbox}/folders", bad_path="/mailboxes/not-an-id/folders"),
    "create a folder": Case(
        "POST", "/mailboxes/{mailbox}/folders", {"name": "Projets"}, writes=True, bad_body={"name": "a*b"}
    ),
    "rename a folder": Case("PATCH", "/folders/{custom}", {"name": "Renamed"}, writes=True, bad_body={"name": ""}),
    "list messages": Case("GET", "/folders/{folder}/messages", bad_path="/folders/{folder}/messages?cursor=garbage"),
    "read a message": Case("GET", "/messages/{message}", bad_path="/messages/12345"),
    "set flags": Case("PATCH", "/messages/{message}", {"seen": True}, writes=True, bad_body={"seen": "maybe"}),
    "move a message": Case(
        "POST", "/messages/{message}/move", {"folder_id": "{target}"}, writes=True, bad_body={"folder_id": "nowhere"}
    ),
    "download an attachment": Case(
        "GET", "/messages/{message}/attachments/1", bad_path="/messages/{message}/attachments/-1"
    ),
}
ROUTES = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


@pytest.fixture(scope="module")
async def world(base_url: str) -> World:
    return await make_world(base_url)


async def call(
    client: httpx.AsyncClient, person: Person | None, request: tuple[str, str, dict[str, Any] | None]
) -> httpx.Response:
    """As ``person`` with their token; anonymous, as a browser without a session (its
    CSRF token on unsafe methods, so that the answer is the API guard's, not the CSRF check's)."""
    method, path, body = request
    if person is not None:
        return await client.request(method, path, json=body, headers=person.headers)
    headers = {"x-csrf-token": await csrf_token(client)} if method != "GET" else {}
    return await client.request(method, path, json=body, headers=headers)


def refused(response: httpx.Response, status: int) -> bool:
    """The status, with the API's error body and a message in it."""
    if response.status_code != status:
        return False
    payload = response.json()
    return payload["status"] == status and bool(payload["error"])


@ROUTES
async def test_route_anonymous_caller_is_told_to_authenticate(
    client: httpx.AsyncClient, world: World, case: Case
) -> None:
    objects = await objects_in(await own_mailbox(world.alice.user))
    response = await call(client, None, case.request(objects))
    assert refused(response, 401), response.text


@ROUTES
async def test_route_other_organisation_finds_nothing(client: httpx.AsyncClient, world: World, case: Case) -> None:
    objects = await objects_in(await own_mailbox(world.alice.user))
    response = await call(client, world.stranger, case.request(objects))
    assert refused(response, 404), response.text


@ROUTES
async def test_route_colleague_without_grant_finds_nothing(client: httpx.AsyncClient, world: World, case: Case) -> None:
    objects = await objects_in(await own_mailbox(world.alice.user))
    response = await call(client, world.bob, case.request(objects))
    assert refused(response, 404), response.text


@ROUTES
async def test_route_read_only_grant_reads_but_may_not_change(
    client: httpx.AsyncClient, world: World, case: Case
) -> None:
    objects = await objects_in(world.shared)
    response = await call(client, world.reader, case.request(objects))
    if case.writes:
        assert refused(response, 403), response.text
    else:
        assert response.status_code == 200, response.text


@ROUTES
async def test_route_owner_and_writable_grant_succeed(client: httpx.AsyncClient, world: World, case: Case) -> None:
    for person, mailbox in ((world.alice, await own_mailbox(world.alice.user)), (world.writer, world.shared)):
        response = await call(client, person, case.request(await objects_in(mailbox)))
        assert response.status_code in (200, 201), response.text


@ROUTES
async def test_route_bad_input_is_refused_with_a_message(client: httpx.AsyncClient, world: World, case: Case) -> None:
    objects = await objects_in(await own_mailbox(world.alice.user))
    response = await call(client, world.alice, case.request(objects, bad=True))
    assert response.status_code in (400, 404, 422), response.text
    assert response.json()["error"]


async def test_mailboxes_list_anonymous_is_401_and_colleague_sees_only_theirs(
    client: httpx.AsyncClient, world: World
) -> None:
    assert refused(await client.get(f"{API}/mailboxes"), 401)
    listed = (await client.get(f"{API}/mailboxes", headers=world.bob.headers)).json()
    assert [m["address"] for m in listed] == [world.bob.user.email.lower()]
    stranger = (await client.get(f"{API}/mailboxes", headers=world.stranger.headers)).json()
    assert [m["address"] for m in stranger] == [world.stranger.user.email.lower()]


async def test_mailboxes_list_guest_has_no_mailbox(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.guest)
    assert refused(await client.get(f"{API}/mailboxes"), 403)


SEND = f"{API}/send"


async def test_send_anonymous_is_401(client: httpx.AsyncClient, world: World) -> None:
    headers = {"x-csrf-token": await csrf_token(client)}
    assert refused(await client.post(SEND, json={"to": [world.bob.user.email], "text": "x"}, headers=headers), 401)


async def test_send_as_someone_else_is_forbidden(client: httpx.AsyncClient, world: World) -> None:
    as_alice = {"from": world.alice.user.email, "to": [world.bob.user.email], "text": "x"}
    assert refused(await client.post(SEND, json=as_alice, headers=world.bob.headers), 403)
    assert refused(await client.post(SEND, json=as_alice, headers=world.stranger.headers), 403)


async def test_send_as_shared_mailbox_without_send_as_grant_is_forbidden(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"from": world.shared.address, "to": [world.bob.user.email], "text": "x"}
    assert refused(await client.post(SEND, json=body, headers=world.reader.headers), 403)


async def test_send_bad_input_is_refused_with_a_message(client: httpx.AsyncClient, world: World) -> None:
    for body, status in (
        ({"to": ["not an address"], "text": "x"}, 400),
        ({"to": [world.bob.user.email], "subject": "\ud800"}, 422),
        ({"text": "no recipient"}, 422),
        ({"to": [world.bob.user.email], "attachments": [{"filename": "a", "data": "***"}]}, 422),
        ({"to": [world.bob.user.email], "colour": "blue"}, 422),
        ({"to": [world.bob.user.email], "attachments": [{"filename": "a\nb", "data": ""}]}, 422),
    ):
        encoded = json.dumps(body)  # ASCII escapes: a lone surrogate travels as JSON allows
        headers = {**world.alice.headers, "content-type": "application/json"}
        assert refused(await client.post(SEND, content=encoded, headers=headers), status), body


async def test_send_guest_is_forbidden(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.guest)
    headers = {"x-csrf-token": await csrf_token(client, "/")}
    body = {"to": [world.bob.user.email], "text": "x"}
    assert refused(await client.post(SEND, json=body, headers=headers), 403)


@ROUTES
async def test_route_guest_finds_nothing(client: httpx.AsyncClient, world: World, case: Case) -> None:
    """Guests get no token; with their session they find no object, their organisation's neither."""
    objects = await objects_in(await own_mailbox(world.alice.user))
    await login(client, world.guest)
    method, path, body = case.request(objects)
    headers = {"x-csrf-token": await csrf_token(client, "/")} if method != "GET" else {}
    assert refused(await client.request(method, path, json=body, headers=headers), 404)
