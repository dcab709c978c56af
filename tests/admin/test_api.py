"""The JSON API of the admin console and of spaces: /api/v1/admin/users, /api/v1/spaces,
/api/v1/spaces/{id}/members."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.admin.factories_admin import api_headers, last_link_token, signed_in
from tests.factories import login, make_org, make_space, make_user, unique


async def test_admin_lists_and_searches_users(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    guest = await make_user(org, role="guest")
    everyone = (await client.get("/api/v1/admin/users")).json()
    assert {u["email"] for u in everyone} == {admin.email, guest.email}
    assert next(u for u in everyone if u["email"] == guest.email)["role"] == "guest"
    found = (await client.get("/api/v1/admin/users", params={"q": guest.email[:10]})).json()
    assert [u["email"] for u in found] == [guest.email]
    assert len((await client.get("/api/v1/admin/users", params={"q": "\x00"})).json()) == 2
    overlong = await client.get("/api/v1/admin/users", params={"q": "x" * 201})
    assert overlong.status_code == 422 and overlong.json()["status"] == 422


async def test_admin_creates_a_user_with_a_password_or_a_link(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    headers = await api_headers(client)
    email = f"{unique('api')}@{org.domain}"
    created = await client.post("/api/v1/admin/users", json={"email": email, "name": "Par API"}, headers=headers)
    assert created.status_code == 201
    body = created.json()
    assert body["user"]["email"] == email and body["user"]["role"] == "user" and len(body["password"]) >= 10
    assert (await client.get(f"/api/v1/admin/users/{body['user']['id']}")).json()["email"] == email
    linked = await client.post(
        "/api/v1/admin/users",
        headers=headers,
        json={"email": f"l{email}", "name": "Lien", "role": "admin", "send_password_link": True},
    )
    assert linked.status_code == 201 and linked.json()["password"] is None
    assert await last_link_token(f"l{email}")
    again = await client.post("/api/v1/admin/users", json={"email": email, "name": "Twice"}, headers=headers)
    assert again.status_code == 409 and email in again.json()["error"]


async def test_create_user_outside_the_organisations_domains_is_forbidden(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await client.post(
        "/api/v1/admin/users", json={"email": "x@elsewhere.test", "name": "Outside"}, headers=await api_headers(client)
    )
    assert response.status_code == 403 and "x@elsewhere.test" in response.json()["error"]


async def test_create_user_with_an_invalid_address_answers_400_with_a_message(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await client.post(
        "/api/v1/admin/users", json={"email": "not-an-address", "name": "X"}, headers=await api_headers(client)
    )
    assert response.status_code == 400 and "not-an-address" in response.json()["error"]


async def test_create_user_drops_control_characters_from_the_name(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    response = await client.post(
        "/api/v1/admin/users",
        json={"email": f"{unique('c')}@{org.domain}", "name": "Jean\u0000ne\tMartin"},
        headers=await api_headers(client),
    )
    assert response.status_code == 201 and response.json()["user"]["name"] == "Jeanne Martin"


async def test_create_user_with_a_malformed_body_answers_422(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    headers = await api_headers(client)
    for body in (
        {"email": "a@b.test"},
        {"email": "a@b.test", "name": "x", "role": "guest"},
        {"email": "a@b.test", "name": "x", "extra": 1},
        [1, 2],
        {"email": "a@b.test", "name": "  "},
        {"email": "a@b.test", "name": "\u0000\u0001"},
    ):
        response = await client.post("/api/v1/admin/users", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["problems"]


@pytest.mark.parametrize("role", ["user", "guest"])
async def test_admin_user_api_is_forbidden_to_non_admins(client: httpx.AsyncClient, role: str) -> None:
    org, _user = await signed_in(client, role)
    assert (await client.get("/api/v1/admin/users")).status_code == 403
    created = await client.post(
        "/api/v1/admin/users", json={"email": f"x@{org.domain}", "name": "X"}, headers=await api_headers(client)
    )
    assert created.status_code == 403


async def test_admin_user_api_requires_signing_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/admin/users")
    assert response.status_code == 401 and response.json()["status"] == 401


async def test_another_organisations_user_answers_404(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await make_user(await make_org())
    assert (await client.get(f"/api/v1/admin/users/{other.id}")).status_code == 404
    assert (await client.get(f"/api/v1/admin/users/{uuid.uuid4()}")).status_code == 404
    assert other.email not in (await client.get("/api/v1/admin/users")).text


async def test_guest_lists_only_their_spaces_and_their_members(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    guest = await make_user(org, role="guest")
    theirs = await make_space(owner, members={guest: "reader"})
    hidden = await make_space(owner)
    await login(client, guest)
    spaces = (await client.get("/api/v1/spaces")).json()
    assert spaces == [
        {"id": str(theirs.id), "name": theirs.name, "description": "", "archived": False, "role": "reader"}
    ]
    members = (await client.get(f"/api/v1/spaces/{theirs.id}/members")).json()
    assert {(m["email"], m["role"], m["guest"]) for m in members} == {
        (owner.email, "owner", False),
        (guest.email, "reader", True),
    }
    assert (await client.get(f"/api/v1/spaces/{hidden.id}")).status_code == 404
    assert (await client.get(f"/api/v1/spaces/{hidden.id}/members")).status_code == 404


async def test_owner_sets_and_removes_members_through_the_api(client: httpx.AsyncClient) -> None:
    org, owner = await signed_in(client, "user")
    colleague = await make_user(org)
    space = await make_space(owner)
    headers = await api_headers(client)
    put = await client.put(
        f"/api/v1/spaces/{space.id}/members/{colleague.id}", json={"role": "manager"}, headers=headers
    )
    assert put.status_code == 200 and put.json() == {
        "user_id": str(colleague.id),
        "email": colleague.email,
        "name": colleague.email.split("@")[0],
        "role": "manager",
        "guest": False,
    }
    assert (await client.get(f"/api/v1/spaces/{space.id}")).json()["role"] == "owner"
    removed = await client.delete(f"/api/v1/spaces/{space.id}/members/{colleague.id}", headers=headers)
    assert removed.status_code == 204 and removed.content == b""
    again = await client.delete(f"/api/v1/spaces/{space.id}/members/{colleague.id}", headers=headers)
    assert again.status_code == 404
    last_owner = await client.delete(f"/api/v1/spaces/{space.id}/members/{owner.id}", headers=headers)
    assert last_owner.status_code == 409
    no_csrf = await client.put(f"/api/v1/spaces/{space.id}/members/{colleague.id}", json={"role": "member"})
    assert no_csrf.status_code == 403


async def test_member_api_refuses_non_managers_and_other_organisations(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    member = await make_user(org)
    space = await make_space(owner, members={member: "member"})
    outsider = await make_user(await make_org())
    their_space = await make_space(outsider)
    await login(client, member)
    headers = await api_headers(client)
    assert (
        await client.put(f"/api/v1/spaces/{space.id}/members/{owner.id}", json={"role": "reader"}, headers=headers)
    ).status_code == 403
    assert (
        await client.put(
            f"/api/v1/spaces/{their_space.id}/members/{member.id}", json={"role": "reader"}, headers=headers
        )
    ).status_code == 404
    assert (await client.get(f"/api/v1/spaces/{their_space.id}/members")).status_code == 404
    client.cookies.clear()
    await login(client, owner)
    headers = await api_headers(client)
    foreign_user = await client.put(
        f"/api/v1/spaces/{space.id}/members/{outsider.id}", json={"role": "reader"}, headers=headers
    )
    assert foreign_user.status_code == 404
    bad_role = await client.put(
        f"/api/v1/spaces/{space.id}/members/{member.id}", json={"role": "king"}, headers=headers
    )
    assert bad_role.status_code == 422


async def test_openapi_declares_the_admin_and_space_routes(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    for path in (
        "/admin/users",
        "/admin/users/{user_id}",
        "/spaces",
        "/spaces/{space_id}",
        "/spaces/{space_id}/members",
        "/spaces/{space_id}/members/{user_id}",
    ):
        assert path in doc["paths"], path
    create = doc["paths"]["/admin/users"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "422"} <= set(create)
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorBody")
