"""Admin console, applications à la carte: a module the organisation leaves unticked
disappears from the navigation and its pages answer 404, at once."""

from __future__ import annotations

import httpx

from tests.admin.factories_admin import audited, post, signed_in
from tests.factories import login, make_org, make_user


async def test_unsubscribing_hides_the_sample_module_and_subscribing_brings_it_back(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, user)
        assert 'href="/sample/"' in (await theirs.get("/")).text
        assert (await theirs.get("/sample/")).status_code == 200

        response = await post(client, "/admin/modules", {})
        assert response.headers["location"] == "/admin/modules?done=saved"
        assert 'href="/sample/"' not in (await theirs.get("/")).text
        assert (await theirs.get("/sample/")).status_code == 404
        assert (await theirs.get("/api/v1/sample/ping")).status_code == 404
        assert 'value="sample" checked' not in (await client.get("/admin/modules")).text

        await post(client, "/admin/modules", {"module": "sample"})
        assert 'href="/sample/"' in (await theirs.get("/")).text
        assert (await theirs.get("/sample/")).status_code == 200
        assert 'value="sample" checked' in (await client.get("/admin/modules")).text
    assert await audited("org.modules_changed", org.name)


async def test_unknown_module_is_refused_and_nothing_changes(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await post(client, "/admin/modules", {"module": ["sample", "teleportation"]})
    assert response.status_code == 400 and "teleportation" in response.text
    assert 'value="sample" checked' in response.text
    assert (await client.get("/sample/")).status_code == 200


async def test_one_organisations_choice_does_not_touch_another(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await make_user(await make_org())
    await post(client, "/admin/modules", {})
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, other)
        assert (await theirs.get("/sample/")).status_code == 200
