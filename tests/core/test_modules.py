"""A module the organisation does not subscribe to is invisible: no navigation, 404 routes.
A module reaches the core's services (notifications) through the core alone."""

from __future__ import annotations

import httpx

from hexagone.core import notifications
from hexagone.core.db import org_session
from tests.factories import login, make_org, make_user


async def test_subscribed_module_shows_in_navigation_and_answers(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(modules=("sample",)))
    await login(client, user)
    assert 'href="/sample/"' in (await client.get("/")).text
    assert (await client.get("/sample/")).status_code == 200
    assert (await client.get("/api/v1/sample/ping")).json() == {"module": "sample", "user": user.email}


async def test_unsubscribed_module_is_hidden_and_its_routes_answer_404(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(modules=()))
    await login(client, user)
    assert 'href="/sample/"' not in (await client.get("/")).text
    assert (await client.get("/sample/")).status_code == 404
    api = await client.get("/api/v1/sample/ping")
    assert api.status_code == 404 and api.json()["error"]


async def test_module_pages_answer_404_and_its_api_401_to_anonymous_visitors(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sample/")).status_code == 404
    assert (await client.get("/api/v1/sample/ping")).status_code == 401


async def test_a_module_finds_its_own_latest_notification_to_refresh_it(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org(modules=("sample",)))
    async with org_session(user.org_id) as db:
        notifications.post(db, org_id=user.org_id, user_id=user.id, module="sample", title="Build 1 finished")
        await db.commit()
        notifications.post(db, org_id=user.org_id, user_id=user.id, module="other", title="Unrelated")
        await db.commit()
        latest = await notifications.last_from(db, user.id, "sample")
        assert latest is not None and latest.title == "Build 1 finished"
        latest.title = "Build 2 finished"
        await db.commit()
        assert await notifications.unread_count(db, user.id) == 2
    await login(client, user)
    page = (await client.get("/notifications")).text
    assert "Build 2 finished" in page and "Build 1 finished" not in page
