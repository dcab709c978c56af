"""A module the organisation does not subscribe to is invisible: no navigation, 404 routes."""

from __future__ import annotations

import httpx

from tests.factories import login, make_org, make_user


async def test_subscribed_module_shows_in_navigation_and_answers(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(modules=("sample",)))
    await login(client, user)
    assert 'href="/sample/"' in (await client.get("/")).text
    assert (await client.get("/sample/")).text == "sample module page"
    assert (await client.get("/api/v1/sample/ping")).json() == {"module": "sample", "user": user.email}


async def test_unsubscribed_module_is_hidden_and_its_routes_answer_404(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(modules=()))
    await login(client, user)
    assert 'href="/sample/"' not in (await client.get("/")).text
    assert (await client.get("/sample/")).status_code == 404
    api = await client.get("/api/v1/sample/ping")
    assert api.status_code == 404 and api.json()["error"]


async def test_module_routes_answer_404_to_anonymous_visitors(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sample/")).status_code == 404
    assert (await client.get("/api/v1/sample/ping")).status_code == 404
