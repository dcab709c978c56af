"""Sharing a calendar through the API with a token from our provider: with a colleague
(who then reaches it), listed, withdrawn; refused for someone else's calendar, another
organisation's member, and a share naming nobody."""

from __future__ import annotations

import httpx

from hexagone.calendar.service import agenda, collections
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from tests.calendar.factories import make_calendar_org
from tests.factories import make_user, principal
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

API = "/api/v1/calendar/calendars"


async def test_share_put_list_and_delete_with_a_token(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_calendar_org()
    owner, colleague = await make_user(org), await make_user(org)
    stranger = await make_user(await make_calendar_org())
    headers = bearer(await token_for(base_url, owner))
    me = await principal(owner)
    async with org_session(org.id, write=True) as db:
        [mine] = [c for c in await agenda.calendars(db, me) if c.owner_id == owner.id]
        await db.commit()
    path = f"{API}/{mine.id}/shares"
    assert (
        await client.put(path, json={"address": colleague.email, "access": "read"}, headers=headers)
    ).status_code == 204
    listed = (await client.get(path, headers=headers)).json()
    assert listed == [{"user_id": str(colleague.id), "group_id": None, "label": colleague.email, "access": "read"}]
    async with org_session(org.id) as db:
        assert (await collections.reach(db, await principal(colleague), mine.id)).shared == "read"
    refused = await client.put(path, json={"address": stranger.email}, headers=headers)
    assert refused.status_code == 400 and refused.json()["error"]
    assert (await client.delete(path, headers=headers)).status_code == 400  # names nobody
    colleague_headers = bearer(await token_for(base_url, colleague))
    assert (await client.put(path, json={"address": owner.email}, headers=colleague_headers)).status_code == 403
    assert (await client.delete(path, params={"user_id": str(colleague.id)}, headers=headers)).status_code == 204
    async with org_session(org.id) as db:
        try:
            await collections.reach(db, await principal(colleague), mine.id)
            reached = True
        except NotFound:
            reached = False
    assert not reached
    other = bearer(await token_for(base_url, stranger))
    assert (await client.get(path, headers=other)).status_code == 404
