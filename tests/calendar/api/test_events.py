"""The calendar API with real access tokens from our own provider: calendars listed and
created, events created, read, listed over a range with their recurrences expanded,
changed under If-Match, moved (one occurrence or the series), deleted, answered; and
every route against every kind of caller (anonymous 401, second factor pending 401, a
guest, a colleague without share 404, a read share 403 on changes, an administrator no
more than a colleague, another organisation 404), bad input 4xx never 500."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hexagone.calendar.service import agenda, collections
from hexagone.core.db import org_session
from tests.calendar.factories import make_calendar_org
from tests.factories import TestUser, csrf_token, login, make_user, principal
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

API = "/api/v1/calendar"
RANGE = {"start": "2027-03-01T00:00:00+01:00", "end": "2027-04-01T00:00:00+02:00"}
BODY = {
    "summary": "Comité",
    "start": "2027-03-02T09:00:00",
    "end": "2027-03-02T10:00:00",
    "timezone": "Europe/Paris",
    "repeat": "weekly",
    "count": 3,
    "attendees": [],
}


@dataclass
class World:
    owner: TestUser
    owner_token: str
    reader: TestUser  # a read share of the owner's calendar
    reader_token: str
    colleague_token: str  # no share
    admin_token: str  # an administrator of the organisation, without share
    stranger_token: str  # another organisation
    guest: TestUser
    mfa_user: TestUser
    calendar: uuid.UUID


@pytest.fixture(scope="module")
async def world(base_url: str) -> World:
    org = await make_calendar_org()
    owner, reader, colleague = [await make_user(org) for _ in range(3)]
    admin = await make_user(org, role="admin")
    stranger = await make_user(await make_calendar_org())
    me = await principal(owner)
    async with org_session(org.id, write=True) as db:
        [own] = [c for c in await agenda.calendars(db, me) if c.owner_id == owner.id]
        await collections.share(db, me, own.id, user_id=reader.id, access="read")
        await db.commit()
    return World(
        owner=owner,
        owner_token=await token_for(base_url, owner),
        reader=reader,
        reader_token=await token_for(base_url, reader),
        colleague_token=await token_for(base_url, colleague),
        admin_token=await token_for(base_url, admin),
        stranger_token=await token_for(base_url, stranger),
        guest=await make_user(org, role="guest"),
        mfa_user=await make_user(org, mfa=True),
        calendar=own.id,
    )


async def _create(client: httpx.AsyncClient, world: World, **changes: Any) -> dict[str, Any]:
    response = await client.post(
        f"{API}/calendars/{world.calendar}/events", json={**BODY, **changes}, headers=bearer(world.owner_token)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_calendars_list_and_create_with_a_token(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.owner_token)
    listed = (await client.get(f"{API}/calendars", headers=headers)).json()
    assert [c["access"] for c in listed if c["id"] == str(world.calendar)] == ["delegate"]
    created = await client.post(f"{API}/calendars", json={"name": "Projets", "color": "#18753c"}, headers=headers)
    assert created.status_code == 201 and created.json()["can_write"] is True
    assert (
        await client.post(f"{API}/calendars", json={"name": "X", "color": "red"}, headers=headers)
    ).status_code == 422
    shared = (await client.get(f"{API}/calendars", headers=bearer(world.reader_token))).json()
    assert [c["can_write"] for c in shared if c["id"] == str(world.calendar)] == [False]


async def test_events_create_list_expanded_get_update_move_and_delete(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.owner_token)
    event = await _create(client, world, summary="Revue", reminder_minutes=10)
    assert event["repeat"] == "weekly" and event["count"] == 3 and event["reminder_minutes"] == 10
    path = f"{API}/calendars/{world.calendar}/events/{event['event_id']}"
    listed = (await client.get(f"{API}/events", params=RANGE, headers=headers)).json()
    mine = [o for o in listed if o["event_id"] == event["event_id"]]
    assert [o["start"] for o in mine] == [
        "2027-03-02T09:00:00+01:00",
        "2027-03-09T09:00:00+01:00",
        "2027-03-16T09:00:00+01:00",
    ]
    in_utc = (await client.get(f"{API}/events", params={**RANGE, "timezone": "UTC"}, headers=headers)).json()
    assert in_utc[0]["start"].endswith("Z") or in_utc[0]["start"].endswith("+00:00")
    changed = await client.put(
        path, json={**BODY, "summary": "Revue budgétaire"}, headers={**headers, "if-match": f'"{event["etag"]}"'}
    )
    assert changed.status_code == 200 and changed.json()["summary"] == "Revue budgétaire"
    stale = await client.put(path, json=BODY, headers={**headers, "if-match": event["etag"]})
    assert stale.status_code == 412 and stale.json()["error"]
    second = mine[1]["recurrence_id"]
    moved = await client.post(
        f"{path}/move",
        json={"start": "2027-03-10T15:00:00+01:00", "end": "2027-03-10T16:00:00+01:00", "recurrence_id": second},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    starts = [
        o["start"]
        for o in (await client.get(f"{API}/events", params=RANGE, headers=headers)).json()
        if o["event_id"] == event["event_id"]
    ]
    assert "2027-03-10T15:00:00+01:00" in starts and "2027-03-09T09:00:00+01:00" not in starts
    one = await client.delete(path, params={"recurrence_id": mine[2]["recurrence_id"]}, headers=headers)
    assert one.status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 200
    assert (await client.delete(path, headers=headers)).status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 404


async def test_events_all_day_and_reply_with_my_partstat(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.owner_token)
    holiday = await _create(
        client, world, summary="Congés", all_day=True, start="2027-03-03", end="2027-03-04", repeat=""
    )
    assert holiday["all_day"] and holiday["start"] == "2027-03-03" and holiday["end"] == "2027-03-04"
    invited = await _create(client, world, attendees=[world.owner.email, "eve@partner.test"], repeat="")
    path = f"{API}/calendars/{world.calendar}/events/{invited['event_id']}"
    answered = await client.post(f"{path}/reply", json={"partstat": "declined"}, headers=headers)
    assert answered.status_code == 200
    assert {a["email"]: a["partstat"] for a in answered.json()["attendees"]} == {
        world.owner.email.lower(): "DECLINED",
        "eve@partner.test": "NEEDS-ACTION",
    }
    assert (await client.post(f"{path}/reply", json={"partstat": "maybe"}, headers=headers)).status_code == 422


BAD = [
    ("GET", "/events", {"start": "2027-03-01T00:00:00+01:00", "end": "2029-03-01T00:00:00+01:00"}, None, 400),
    ("GET", "/events", {"start": "2027-03-01T00:00:00", "end": "2027-03-02T00:00:00"}, None, 400),
    ("GET", "/events", {**RANGE, "timezone": "Mars/Olympus"}, None, 400),
    ("GET", "/events", {**RANGE, "timezone": "Europe/Paris\u0000"}, None, 400),
    (
        "DELETE",
        "/calendars/{calendar}/events/00000000-0000-4000-8000-000000000000",
        {"recurrence_id": "2027\u0000"},
        None,
        400,
    ),
    ("GET", "/events", {"start": "yesterday", "end": "now"}, None, 422),
    ("POST", "/calendars/{calendar}/events", None, {**BODY, "end": "2027-03-02T08:00:00"}, 400),
    ("POST", "/calendars/{calendar}/events", None, {**BODY, "attendees": ["nobody"]}, 400),
    ("POST", "/calendars/{calendar}/events", None, {**BODY, "count": "3"}, 422),
    ("POST", "/calendars/{calendar}/events", None, {**BODY, "summary": "\ud800"}, 422),
    ("POST", "/calendars/not-an-id/events", None, BODY, 422),
]


@pytest.mark.parametrize(("method", "path", "params", "body", "status"), BAD)
async def test_bad_input_is_refused_with_a_message(
    client: httpx.AsyncClient, world: World, method: str, path: str, params: Any, body: Any, status: int
) -> None:
    response = await client.request(
        method,
        API + path.format(calendar=world.calendar),
        params=params,
        content=None if body is None else json.dumps(body),  # ASCII: a lone surrogate travels escaped
        headers={**bearer(world.owner_token), "content-type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]


def _routes(world: World, event_id: str) -> dict[str, tuple[str, str, dict[str, Any] | None, bool]]:
    event = f"/calendars/{world.calendar}/events/{event_id}"
    move = {"start": "2027-03-02T11:00:00+01:00", "end": "2027-03-02T12:00:00+01:00"}
    return {
        "read one": ("GET", event, None, False),
        "create": ("POST", f"/calendars/{world.calendar}/events", {**BODY, "repeat": ""}, True),
        "reply": ("POST", event + "/reply", {"partstat": "accepted"}, True),
        "move": ("POST", event + "/move", move, True),
        "update": ("PUT", event, BODY, True),  # after the reply: its body has no attendee
        "delete": ("DELETE", event, None, True),
    }


async def test_every_route_against_every_kind_of_caller(client: httpx.AsyncClient, world: World) -> None:
    event = await _create(client, world, attendees=[world.reader.email, world.owner.email], repeat="")
    routes = _routes(world, event["event_id"])
    for label, (method, path, body, writes) in routes.items():
        anonymous = await client.request(
            method, API + path, json=body, headers={"x-csrf-token": await csrf_token(client)} if writes else {}
        )
        assert anonymous.status_code == 401, label
        for who in (world.colleague_token, world.admin_token, world.stranger_token):
            refused = await client.request(method, API + path, json=body, headers=bearer(who))
            assert refused.status_code == 404 and refused.json()["error"], label
        reader = await client.request(method, API + path, json=body, headers=bearer(world.reader_token))
        assert reader.status_code == (403 if writes else 200), (label, reader.text)
    assert (await client.get(f"{API}/calendars", headers={"authorization": "Bearer not-a-token"})).status_code == 401
    listed = await client.get(f"{API}/events", params=RANGE, headers=bearer(world.stranger_token))
    assert listed.status_code == 200 and event["event_id"] not in listed.text
    for label, (method, path, body, _writes) in routes.items():  # the owner may do all, delete last
        done = await client.request(method, API + path, json=body, headers=bearer(world.owner_token))
        assert done.status_code in (200, 201, 204), (label, done.text)


async def test_guest_with_the_session_has_no_calendar_of_their_own(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.guest)
    headers = {"x-csrf-token": await csrf_token(client, "/")}
    assert (await client.get(f"{API}/calendars")).json() == []
    refused = await client.post(f"{API}/calendars", json={"name": "Moi"}, headers=headers)
    assert refused.status_code == 400 and refused.json()["error"]
    event = await _create(client, world, repeat="")
    path = f"{API}/calendars/{world.calendar}/events/{event['event_id']}"
    assert (await client.get(path)).status_code == 404


async def test_second_factor_pending_session_is_not_signed_in(client: httpx.AsyncClient, world: World) -> None:
    await login(client, world.mfa_user, second_factor=False)
    assert (await client.get(f"{API}/calendars")).status_code == 401
    assert (await client.get(f"{API}/events", params=RANGE)).status_code == 401


async def test_openapi_documents_the_calendar_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    prefix = next(p for p in paths if p.endswith("/calendar/events")).removesuffix("/events")
    event = paths[f"{prefix}/calendars/{{calendar_id}}/events/{{event_id}}"]
    assert {"get", "put", "delete"} <= set(event) and "412" in event["put"]["responses"]
    assert f"{prefix}/calendars" in paths and f"{prefix}/calendars/{{calendar_id}}/events/{{event_id}}/reply" in paths


async def test_event_text_with_a_nul_character_is_refused_with_a_message(
    client: httpx.AsyncClient, world: World
) -> None:
    refused = await client.post(
        f"{API}/calendars/{world.calendar}/events",
        json={**BODY, "description": "avant\u0000après"},
        headers=bearer(world.owner_token),
    )
    assert refused.status_code == 422 and "NUL" in refused.text
