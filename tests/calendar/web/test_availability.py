"""The availability page: a colleague's busy spans on a day in the viewer's zone, a room
ticked among the organisation's rooms, outsiders unknown, and a guest told why not."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from hexagone.calendar.service import resources
from hexagone.core.db import org_session
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.factories import login, make_user, principal

NINE_PARIS = datetime(2027, 6, 7, 7, tzinfo=UTC)  # 09:00 in Paris (summer time)


async def test_availability_shows_busy_spans_in_the_viewers_zone_and_rooms(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    admin = await principal(await make_user(org, role="admin"))
    async with org_session(org.id) as db:
        room = await resources.create(db, admin, name="Salle Lumière", address=f"lumiere@{org.domain}", capacity=8)
        await db.commit()
    await write_event(await principal(bob), "m.ics", event(summary="Secret", start=NINE_PARIS))
    await login(client, alice)
    params = {"date": "2027-06-07", "addresses": f"{bob.email}\nquelqu.un@ailleurs.test", "room": room.address}
    page = await client.get("/calendar/availability", params=params)
    assert page.status_code == 200, page.text[:300]
    text = re.sub(r"\s+", " ", page.text)
    assert "09:00–10:00" in text and "Secret" not in text
    assert "Salle Lumière" in text and f'<th scope="row">{room.address}</th> <td> Libre toute la journée' in text
    assert "quelqu.un@ailleurs.test</th> <td> Inconnu" in text


async def test_availability_for_a_guest_says_why_not(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    member = await make_user(org)
    await login(client, await make_user(org, role="guest"))
    refused = await client.get("/calendar/availability", params={"date": "2027-06-07", "addresses": member.email})
    assert refused.status_code == 403 and 'role="alert"' in refused.text
