"""Admin console, spaces: every space of the organisation, creation for someone else,
archiving and restoring."""

from __future__ import annotations

import httpx

from tests.admin.factories_admin import audited, post, signed_in
from tests.factories import login, make_org, make_space, make_user, unique


async def test_admin_sees_every_space_even_those_they_are_not_in(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    owner = await make_user(org)
    space = await make_space(owner)
    page = (await client.get("/admin/spaces")).text
    assert space.name in page and f'href="/spaces/{space.id}"' in page
    assert (await client.get(f"/spaces/{space.id}")).status_code == 200


async def test_space_created_for_another_owner_is_theirs(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    owner = await make_user(org)
    name = unique("Projet ")
    response = await post(client, "/admin/spaces", {"name": name, "description": "", "owner": owner.email})
    assert response.headers["location"] == "/admin/spaces?done=created"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, owner)
        listing = (await theirs.get("/spaces")).text
        assert name in listing and "Propriétaire" in listing


async def test_space_creation_with_a_bad_owner_or_name_is_refused(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    guest = await make_user(org, role="guest")
    as_guest = await post(client, "/admin/spaces", {"name": unique("S "), "owner": guest.email})
    assert as_guest.status_code == 400
    unknown = await post(client, "/admin/spaces", {"name": unique("S "), "owner": "nobody@nowhere.test"})
    assert unknown.status_code == 400
    nameless = await post(client, "/admin/spaces", {"name": "", "owner": ""})
    assert nameless.status_code == 400
    name = unique("S ")
    await post(client, "/admin/spaces", {"name": name})
    assert (await post(client, "/admin/spaces", {"name": name})).status_code == 409


async def test_archived_space_leaves_lists_and_comes_back_when_restored(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    owner = await make_user(org)
    space = await make_space(owner)
    archived = await post(client, f"/admin/spaces/{space.id}/archive", {"archived": "1"})
    assert archived.headers["location"] == "/admin/spaces?done=archived"
    assert await audited("space.archived", space.name)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, owner)
        assert space.name not in (await theirs.get("/spaces")).text
        await post(client, f"/admin/spaces/{space.id}/archive", {"archived": "0"})
        assert space.name in (await theirs.get("/spaces")).text


async def test_archiving_another_organisations_space_answers_404(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await make_space(await make_user(await make_org()))
    assert other.name not in (await client.get("/admin/spaces")).text
    assert (await post(client, f"/admin/spaces/{other.id}/archive", {"archived": "1"})).status_code == 404
    assert (await client.get(f"/spaces/{other.id}")).status_code == 404
