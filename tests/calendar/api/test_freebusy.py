"""GET /api/v1/calendar/freebusy with a token from our provider: a colleague's busy
spans (nothing about what they do), outsiders unknown; a guest, an anonymous caller, bad
ranges and another organisation's people get their clear answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.calendar.factories import event, make_calendar_org, write_event
from tests.factories import login, make_user, principal
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

PATH = "/api/v1/calendar/freebusy"
TEN = datetime(2027, 6, 7, 10, tzinfo=UTC)
DAY = {"start": "2027-06-07T00:00:00+02:00", "end": "2027-06-08T00:00:00+02:00"}


async def test_freebusy_with_a_token_gives_a_colleagues_busy_spans_and_nothing_else(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    await write_event(await principal(bob), "secret.ics", event(summary="Dossier confidentiel", start=TEN))
    stranger = await make_user(await make_calendar_org())
    params = {**DAY, "address": [bob.email, "someone@elsewhere.test", stranger.email]}
    response = await client.get(PATH, params=params, headers=bearer(await token_for(base_url, alice)))
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "address": bob.email,
            "known": True,
            "busy": [{"start": "2027-06-07T10:00:00Z", "end": "2027-06-07T11:00:00Z", "status": "BUSY"}],
        },
        {"address": "someone@elsewhere.test", "known": False, "busy": []},
        {"address": stranger.email, "known": False, "busy": []},
    ]
    assert "confidentiel" not in response.text


async def test_freebusy_for_a_guest_anonymous_or_a_bad_range_is_refused_with_a_message(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_calendar_org()
    member = await make_user(org)
    assert (await client.get(PATH, params={**DAY, "address": member.email})).status_code == 401
    await login(client, await make_user(org, role="guest"))
    refused = await client.get(PATH, params={**DAY, "address": member.email})
    assert refused.status_code == 403 and refused.json()["error"]
    token = bearer(await token_for(base_url, member))
    backwards = {"start": DAY["end"], "end": DAY["start"], "address": member.email}
    assert (await client.get(PATH, params=backwards, headers=token)).status_code == 400
    naive = {"start": "2027-06-07T00:00:00", "end": "2027-06-08T00:00:00", "address": member.email}
    assert (await client.get(PATH, params=naive, headers=token)).status_code == 400
    year = {"start": DAY["start"], "end": (TEN + timedelta(days=400)).isoformat(), "address": member.email}
    assert (await client.get(PATH, params=year, headers=token)).status_code == 400
