"""/api/v1/me: the current user, organisation, groups and spaces; OpenAPI document."""

from __future__ import annotations

import httpx

from hexagone.core.db import org_session
from hexagone.identity.service import groups
from tests.factories import login, make_org, make_space, make_user, principal


async def test_me_returns_user_org_groups_and_spaces(client: httpx.AsyncClient) -> None:
    org = await make_org()
    admin = await make_user(org, role="admin")
    user = await make_user(org)
    space = await make_space(admin, members={user: "reader"})
    actor = await principal(admin)
    async with org_session(org.id) as db:
        group = await groups.create_group(db, actor, name="Comptabilité")
        await groups.add_to_group(db, actor, group, user.id)
        await db.commit()
    await login(client, user)
    me = (await client.get("/api/v1/me")).json()
    assert me["email"] == user.email and me["role"] == "user"
    assert me["organisation"]["id"] == str(org.id) and me["organisation"]["domains"] == [org.domain]
    assert me["groups"] == [{"id": str(group.id), "name": "Comptabilité"}]
    assert me["spaces"] == [{"id": str(space.id), "name": space.name, "role": "reader"}]


async def test_openapi_document_describes_me(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/me" in doc["paths"]
