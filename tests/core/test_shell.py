"""The shell: unified search, notification centre, language switch, branding, health."""

from __future__ import annotations

import httpx

from hexagone.core import notifications
from hexagone.core.db import org_session
from tests.factories import csrf_token, login, make_org, make_space, make_user, shell_badge


async def test_search_finds_people_and_spaces_of_my_org_only(client: httpx.AsyncClient) -> None:
    org, other = await make_org(), await make_org()
    me = await make_user(org)
    colleague = await make_user(org, email=f"zoe-unique-{org.domain.split('.')[0]}@{org.domain}")
    stranger = await make_user(other, email=f"zoe-unique-{other.domain.split('.')[0]}@{other.domain}")
    space = await make_space(me, name=f"Zoe project {org.domain}")
    await login(client, me)
    page = (await client.get("/search", params={"q": "zoe"})).text
    assert colleague.email in page and space.name in page
    assert stranger.email not in page


async def test_search_as_guest_finds_no_people(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_user(org)
    guest = await make_user(org, role="guest")
    await make_space(owner, members={guest: "member"})
    await login(client, guest)
    page = (await client.get("/search", params={"q": owner.email.split("@")[0]})).text
    assert owner.email not in page


async def test_notification_centre_shows_unread_and_marks_read(client: httpx.AsyncClient) -> None:
    user = await make_user(await make_org())
    async with org_session(user.org_id) as db:
        notifications.post(db, org_id=user.org_id, user_id=user.id, module="sample", title="Build finished")
        await db.commit()
    await login(client, user)
    assert shell_badge(await client.get("/shell/badges"), "badge-notifications") == "1"
    assert "Build finished" in (await client.get("/notifications")).text
    token = await csrf_token(client, "/notifications")
    await client.post("/notifications", data={"csrf_token": token})
    assert shell_badge(await client.get("/shell/badges"), "badge-notifications") == ""


async def test_language_switch_sets_french_or_english(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    await client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert '<html lang="en">' in (await client.get("/login")).text
    await client.post("/lang", data={"lang": "fr", "next": "/login", "csrf_token": token})
    page = (await client.get("/login")).text
    assert '<html lang="fr">' in page and "Se connecter" in page
    bad = await client.post("/lang", data={"lang": "xx", "csrf_token": token})
    assert bad.status_code == 400


async def test_french_is_the_default_language(client: httpx.AsyncClient) -> None:
    page = (await client.get("/login")).text
    assert '<html lang="fr">' in page and "Mot de passe" in page


async def test_branding_css_gives_the_org_colour(client: httpx.AsyncClient) -> None:
    assert "--brand: #000091" in (await client.get("/branding.css")).text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).text == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "up"


async def test_favicon_ico_leads_to_the_bundled_icon(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
