"""A module the organisation does not subscribe to is invisible: no navigation, 404 routes.
A module reaches the core's services (notifications) through the core alone."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from hexagone.core import notifications
from hexagone.core.db import org_session
from hexagone.core.modules import Module, under
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


async def test_a_module_prefix_is_gated_like_its_own_path(client: httpx.AsyncClient, base_url: str) -> None:
    """``Module.prefixes``: a route the sample module mounts at /sample-feeds/… answers
    its subscribers, and 404 to an organisation without the module and to anonymous
    visitors, exactly as /sample/ does."""
    assert (await client.get("/sample-feeds/news")).status_code == 404  # anonymous
    subscriber = await make_user(await make_org(modules=("sample",)))
    await login(client, subscriber)
    answer = await client.get("/sample-feeds/news")
    assert answer.status_code == 200 and answer.json() == {"feed": "news", "user": subscriber.email}
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as other:
        await login(other, await make_user(await make_org(modules=())))
        assert (await other.get("/sample-feeds/news")).status_code == 404
        assert (await other.get("/sample-feeds")).status_code == 404


def test_a_prefix_covers_whole_segments_only() -> None:
    assert under("/dav/files/alice", "/dav/files") and under("/dav/files", "/dav/files")
    assert not under("/dav/filesx", "/dav/files") and not under("/dav", "/dav/files")


@pytest.mark.parametrize("prefix", ["dav", "/dav/", "/", "/api/x", "/static", "/a b", "/login/x"])
def test_a_module_may_not_take_a_prefix_that_is_not_its_own(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Module(name="x", label="X", package_dir=Path("."), prefixes=(prefix,))


def test_a_prefix_route_outside_the_declared_prefixes_is_refused_at_start_up() -> None:
    from hexagone.app import _prefix_routes

    escaping = Module(
        name="x",
        label="X",
        package_dir=Path("."),
        prefixes=("/x-feeds",),
        prefix_routes=[Route("/elsewhere", _nothing)],
    )
    with pytest.raises(RuntimeError, match="lies under none of its prefixes"):
        _prefix_routes(escaping)
    kept = Module(
        name="x",
        label="X",
        package_dir=Path("."),
        prefixes=("/x-feeds",),
        prefix_routes=[Route("/x-feeds/{n}", _nothing)],
    )
    assert len(_prefix_routes(kept)) == 1


async def _nothing(_request: object) -> None:
    return None
