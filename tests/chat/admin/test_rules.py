"""The chat's tab of the admin console: how long messages are kept and whether edits
keep the earlier text, for the organisation's administrators only; bad input is shown
again as typed with the reason."""

from __future__ import annotations

import httpx
import pytest

from hexagone.chat import service
from hexagone.core.db import org_session
from tests.chat.factories import make_chat_org
from tests.factories import csrf_token, login, make_user

pytestmark = pytest.mark.usefixtures("migrated")


async def _rules(org_id: object) -> service.Rules:
    async with org_session(org_id) as db:  # type: ignore[arg-type]
        return await service.current_rules(db, org_id)  # type: ignore[arg-type]


async def test_chat_admin_saves_the_retention_and_the_history_rule(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    admin = await make_user(org, role="admin")
    await login(client, admin)
    page = await client.get("/chat/admin")
    assert page.status_code == 200 and 'href="/chat/admin"' in page.text and "Jours de conservation" in page.text
    token = await csrf_token(client, "/chat/admin")
    saved = await client.post("/chat/admin", data={"csrf_token": token, "retention_days": "90", "keep_history": "1"})
    assert saved.status_code == 303 and saved.headers["location"] == "/chat/admin?done=chat_rules_saved"
    assert await _rules(org.id) == service.Rules(90, True)
    shown = await client.get(saved.headers["location"])
    assert 'value="90"' in shown.text and "checked" in shown.text and "sont enregistrées" in shown.text
    forever = await client.post("/chat/admin", data={"csrf_token": token, "retention_days": " "})
    assert forever.status_code == 303
    assert await _rules(org.id) == service.Rules(None, False)


@pytest.mark.parametrize("typed", ["-3", "deux", "0", "99999999"])
async def test_chat_admin_bad_retention_is_refused_with_the_form_as_typed(
    client: httpx.AsyncClient, typed: str
) -> None:
    org = await make_chat_org()
    admin = await make_user(org, role="admin")
    await login(client, admin)
    token = await csrf_token(client, "/chat/admin")
    refused = await client.post("/chat/admin", data={"csrf_token": token, "retention_days": typed, "keep_history": "1"})
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text and f'value="{typed}"' in refused.text and "checked" in refused.text
    assert await _rules(org.id) == service.Rules()


async def test_chat_admin_is_not_for_visitors_or_members(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_chat_org()
    assert (await client.get("/chat/admin")).status_code == 404
    member = await make_user(org)
    await login(client, member)
    assert (await client.get("/chat/admin")).status_code == 403
    token = await csrf_token(client, "/chat/")
    refused = await client.post("/chat/admin", data={"csrf_token": token, "retention_days": "1"})
    assert refused.status_code == 403
    assert await _rules(org.id) == service.Rules()
