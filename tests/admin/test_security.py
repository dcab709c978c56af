"""Admin console, security: two-step verification required for everyone, mail domains."""

from __future__ import annotations

import httpx

from tests.admin.factories_admin import audited, post, signed_in
from tests.factories import login, make_org, make_user, unique


async def test_requiring_mfa_sends_people_without_it_to_set_it_up(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    response = await post(client, "/admin/security", {"mfa_required": "1"})
    assert response.headers["location"] == "/admin/security?done=saved"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, user)
        home = await theirs.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/account/mfa"
    assert await audited("org.mfa_policy_changed", org.name)


async def test_unticking_the_policy_stops_requiring_mfa(client: httpx.AsyncClient) -> None:
    org = await make_org(mfa_required=True)
    admin = await make_user(org, role="admin", mfa=True)
    await login(client, admin)
    assert "checked" in (await client.get("/admin/security")).text
    await post(client, "/admin/security", {})
    user = await make_user(org)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, user)
        assert (await theirs.get("/")).status_code == 200


async def test_added_domain_is_listed_and_accepts_new_members(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    domain = f"{unique('second')}.test"
    response = await post(client, "/admin/security/domains", {"domain": domain.upper()})
    assert response.headers["location"] == "/admin/security?done=added"
    assert f"<code>{domain}</code>" in (await client.get("/admin/security")).text
    created = await post(
        client, "/admin/users/new", {"email": f"x@{domain}", "display_name": "X", "role": "user", "delivery": "show"}
    )
    assert created.status_code == 200


async def test_invalid_or_taken_domain_is_refused(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    invalid = await post(client, "/admin/security/domains", {"domain": "not a domain"})
    assert invalid.status_code == 400 and 'value="not a domain"' in invalid.text
    taken = await post(client, "/admin/security/domains", {"domain": (await make_org()).domain})
    assert taken.status_code == 409
