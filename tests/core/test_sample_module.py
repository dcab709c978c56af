"""The module contract, proven by the sample module (tests/sample_module, written from
docs/module-kit.md "Writing a module") over the real server: its page, API route,
command, job, search provider, admin tab and permission rule."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from hexagone.core import notifications
from hexagone.core.db import org_session
from hexagone.identity.models import OrgRole
from tests.admin.factories_admin import post
from tests.commands import hexagone
from tests.factories import TestUser, login, make_org, make_user, unique
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer


async def make_note(user: TestUser, text: str) -> str:
    """A note as the module's job files it: a notification of the sample module."""
    async with org_session(user.org_id) as db:
        note = notifications.post(db, org_id=user.org_id, user_id=user.id, module="sample", title=text)
        await db.commit()
        return str(note.id)


async def wait_for_text(client: httpx.AsyncClient, path: str, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = (await client.get(path)).text
        if text in page or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.2)


async def test_sample_page_shows_the_shell_and_a_translated_form_to_a_signed_in_user(client: httpx.AsyncClient) -> None:
    await login(client, await make_user(await make_org()))
    page = await client.get("/sample/")
    assert page.status_code == 200
    assert 'href="/sample/"' in page.text and "Nouvelle note" in page.text and "Aucune note" in page.text


async def test_sample_page_answers_404_to_an_organisation_without_the_module_and_to_visitors(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/sample/")).status_code == 404  # no session: the gate cannot know the organisation
    await login(client, await make_user(await make_org(modules=())))
    assert (await client.get("/sample/")).status_code == 404


async def test_sample_form_refuses_an_empty_note_with_a_translated_message(client: httpx.AsyncClient) -> None:
    await login(client, await make_user(await make_org()))
    response = await post(client, "/sample/", {"text": "   "})
    assert response.status_code == 400 and "Écrivez le texte de la note." in response.text


async def test_sample_form_queues_a_job_that_the_servers_worker_runs(client: httpx.AsyncClient) -> None:
    await login(client, await make_user(await make_org()))
    text = unique("Buy   bread ")
    response = await post(client, "/sample/", {"text": text})
    assert response.status_code == 303 and response.headers["location"] == "/sample/?done=sample_note_queued"
    assert "La note est en route." in (await client.get(response.headers["location"])).text
    tidied = " ".join(text.split())
    assert tidied in await wait_for_text(client, "/sample/", tidied)


async def test_sample_api_lists_notes_for_a_bearer_token_of_our_provider(base_url: str) -> None:
    user = await make_user(await make_org())
    text = unique("api note ")
    note_id = await make_note(user, text)
    token = await token_for(base_url, user)
    async with httpx.AsyncClient(base_url=base_url) as api:
        listed = await api.get("/api/v1/sample/notes", headers=bearer(token))
        assert listed.status_code == 200 and listed.json() == [{"id": note_id, "text": text}]
        refused = await api.get("/api/v1/sample/notes", headers=bearer("not-a-token"))
        assert refused.status_code == 401 and refused.json()["status"] == 401
        assert (await api.get("/api/v1/sample/notes")).status_code == 401


async def test_sample_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"/sample/ping", "/sample/notes", "/sample/notes/{note_id}"} <= set(paths)


async def test_sample_permission_rule_lets_only_the_author_delete_a_note(base_url: str) -> None:
    org = await make_org()
    author, colleague = await make_user(org), await make_user(org)
    admin = await make_user(org, role=OrgRole.ADMIN)
    stranger = await make_user(await make_org())
    note_id = await make_note(author, unique("mine "))
    path = f"/api/v1/sample/notes/{note_id}"
    async with httpx.AsyncClient(base_url=base_url) as api:
        assert (await api.delete(path, headers=bearer(await token_for(base_url, stranger)))).status_code == 404
        assert (await api.delete(path, headers=bearer(await token_for(base_url, colleague)))).status_code == 404
        refused = await api.delete(path, headers=bearer(await token_for(base_url, admin)))
        assert refused.status_code == 403 and refused.json()["error"]
        assert (await api.delete(path, headers=bearer(await token_for(base_url, author)))).status_code == 204
        assert (await api.delete(path, headers=bearer(await token_for(base_url, author)))).status_code == 404


async def test_sample_search_provider_finds_own_notes_and_never_another_organisations(
    client: httpx.AsyncClient,
) -> None:
    word = unique("zebra")
    user = await make_user(await make_org())
    await make_note(user, f"Feed the {word}")
    stranger = await make_user(await make_org())
    await make_note(stranger, f"Paint the {word}")
    await login(client, user)
    found = (await client.get("/search", params={"q": word})).text
    assert f"Feed the {word}" in found and f"Paint the {word}" not in found


async def test_sample_admin_tab_is_in_the_console_for_an_admin_and_403_for_a_user(base_url: str) -> None:
    org = await make_org()
    user = await make_user(org)
    await make_note(user, unique("counted "))
    async with httpx.AsyncClient(base_url=base_url) as admin, httpx.AsyncClient(base_url=base_url) as member:
        await login(admin, await make_user(org, role=OrgRole.ADMIN))
        assert 'href="/sample/admin"' in (await admin.get("/admin")).text
        tab = await admin.get("/sample/admin")
        assert tab.status_code == 200 and "L’organisation compte 1 notes." in tab.text
        await login(member, user)
        assert (await member.get("/sample/admin")).status_code == 403


@pytest.mark.usefixtures("migrated")  # no server fixture here migrates the database first
async def test_sample_command_counts_an_organisations_notes() -> None:
    org = await make_org()
    user = await make_user(org)
    await make_note(user, "one")
    await make_note(user, "two")

    counted = hexagone("sample", "count", org.domain, "--json")
    assert counted.returncode == 0 and json.loads(counted.stdout) == {"domain": org.domain, "notes": 2}
    unknown = hexagone("sample", "count", "nowhere.test")
    assert unknown.returncode == 2 and "nowhere.test" in unknown.stderr
