"""Admin console, groups: create, list with sizes, add and remove members."""

from __future__ import annotations

import re
import uuid

import httpx

from hexagone.core.db import org_session
from hexagone.identity.service import groups
from tests.admin.factories_admin import post, signed_in
from tests.factories import make_org, make_user, principal, unique


async def _created_group_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    found = re.match(r"^/admin/groups/([0-9a-f-]{36})\?done=created$", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


async def test_group_created_then_members_added_and_removed(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    name = unique("Comptabilité ")
    group_id = await _created_group_id(await post(client, "/admin/groups", {"name": name, "description": "Paie"}))
    listing = (await client.get("/admin/groups")).text
    assert name in listing
    added = await post(client, f"/admin/groups/{group_id}/members", {"email": user.email.upper()})
    assert added.headers["location"] == f"/admin/groups/{group_id}?done=added"
    assert user.email in (await client.get(f"/admin/groups/{group_id}")).text
    removed = await post(client, f"/admin/groups/{group_id}/members/remove", {"user_id": str(user.id)})
    assert removed.status_code == 303
    assert user.email not in (await client.get(f"/admin/groups/{group_id}")).text


async def test_group_with_an_empty_or_taken_name_is_refused_and_the_form_kept(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    empty = await post(client, "/admin/groups", {"name": "  ", "description": "kept text"})
    assert empty.status_code == 400 and "kept text" in empty.text
    name = unique("G ")
    await _created_group_id(await post(client, "/admin/groups", {"name": name}))
    assert (await post(client, "/admin/groups", {"name": name})).status_code == 409


async def test_adding_an_unknown_address_or_removing_a_non_member_is_refused(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    group_id = await _created_group_id(await post(client, "/admin/groups", {"name": unique("G ")}))
    unknown = await post(client, f"/admin/groups/{group_id}/members", {"email": "nobody@nowhere.test"})
    assert unknown.status_code == 400 and "nobody@nowhere.test" in unknown.text
    not_member = await post(client, f"/admin/groups/{group_id}/members/remove", {"user_id": str(uuid.uuid4())})
    assert not_member.status_code == 404
    bad_id = await post(client, f"/admin/groups/{group_id}/members/remove", {"user_id": "not-a-uuid"})
    assert bad_id.status_code == 400


async def test_groups_and_people_of_another_organisation_are_out_of_reach(client: httpx.AsyncClient) -> None:
    _org, _admin = await signed_in(client)
    other_org = await make_org()
    other_admin = await make_user(other_org, role="admin")
    outsider = await make_user(other_org)
    async with org_session(other_org.id) as db:
        theirs = await groups.create_group(db, await principal(other_admin), name=unique("Theirs "))
        await groups.add_to_group(db, await principal(other_admin), theirs, outsider.id)
        await db.commit()
    assert theirs.name not in (await client.get("/admin/groups")).text
    assert (await client.get(f"/admin/groups/{theirs.id}")).status_code == 404
    assert (await post(client, f"/admin/groups/{theirs.id}/members", {"email": outsider.email})).status_code == 404
    assert (
        await post(client, f"/admin/groups/{theirs.id}/members/remove", {"user_id": str(outsider.id)})
    ).status_code == 404
    mine = await _created_group_id(await post(client, "/admin/groups", {"name": unique("Mine ")}))
    foreign = await post(client, f"/admin/groups/{mine}/members", {"email": outsider.email})
    assert foreign.status_code == 400
    async with org_session(other_org.id) as db:
        assert [u.id for u in await groups.group_members(db, theirs.id)] == [outsider.id]
