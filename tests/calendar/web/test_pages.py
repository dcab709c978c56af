"""The agenda's pages over a real server: the views show the occurrences of the
calendars shown, in the viewer's zone, every action works as a plain form (create, move,
delete, answer, import, export, new calendar, subscription), a form built on an older
version is told so, and no one reaches what the policy refuses."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from hexagone.calendar.service import agenda, collections
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from tests.calendar.agenda_factories import add_event
from tests.calendar.factories import make_calendar_org
from tests.factories import TestUser, csrf_token, login, make_org, make_user, principal

PARIS = ZoneInfo("Europe/Paris")


async def _signed_in(client: httpx.AsyncClient, user: TestUser | None = None) -> tuple[TestUser, uuid.UUID]:
    user = user or await make_user(await make_calendar_org())
    await login(client, user)
    me = await principal(user)
    async with org_session(me.org_id) as db:
        [own] = [c for c in await agenda.calendars(db, me) if c.owner_id == me.user_id]
        await db.commit()
    return user, own.id


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await csrf_token(client, "/calendar/week"), **data}, **kwargs)  # type: ignore[arg-type]


async def test_views_show_the_week_month_day_and_list_with_the_event(client: httpx.AsyncClient) -> None:
    user, calendar = await _signed_in(client)
    await add_event(user, calendar, summary="Revue budgétaire", repeat="weekly", count=3)
    for view in ("day", "week", "month", "list"):
        response = await client.get(f"/calendar/{view}?date=2027-03-02")
        assert response.status_code == 200, (view, response.text[:300])
        assert "Revue budgétaire" in response.text, view
    week = (await client.get("/calendar/week?date=2027-03-09")).text
    assert "09:00 – 10:00" in week and 'data-move="/calendar/events/' in week
    assert (await client.get("/calendar/")).headers["location"].startswith("/calendar/week")


async def test_views_hide_a_calendar_unticked_and_refuse_a_bad_date(client: httpx.AsyncClient) -> None:
    user, calendar = await _signed_in(client)
    await add_event(user, calendar, summary="Caché")
    other = str(uuid.uuid4())
    hidden = await client.get(f"/calendar/week?date=2027-03-02&cal={other}")
    assert hidden.status_code == 200 and "Caché" not in hidden.text
    none_ticked = await client.get("/calendar/week?date=2027-03-02&cal=")
    assert none_ticked.status_code == 200 and "Caché" not in none_ticked.text
    assert "Caché" in (await client.get("/calendar/week?date=2027-03-02")).text
    assert (await client.get("/calendar/week?date=2027-03-02&cal=nope")).status_code == 400
    assert (await client.get("/calendar/week?date=2027-13-45")).status_code == 400
    assert (await client.get("/calendar/year")).status_code == 404
    assert (await client.get("/calendar/week?date=0001-01-01")).status_code == 400
    event_id = await add_event(user, calendar)
    for nonsense in ("00010101T000000Z", "garbage"):
        assert (await client.get(f"/calendar/events/{calendar}/{event_id}?occurrence={nonsense}")).status_code == 400


async def test_create_by_form_then_move_then_delete_without_javascript(client: httpx.AsyncClient) -> None:
    _user, calendar = await _signed_in(client)
    form = await client.get("/calendar/events/new?date=2027-03-04&time=14:00")
    assert 'value="14:00"' in form.text and 'value="2027-03-04"' in form.text
    created = await _post(
        client,
        "/calendar/events/new",
        {
            "summary": "Atelier",
            "calendar": str(calendar),
            "start_date": "2027-03-04",
            "start_time": "14:00",
            "end_date": "2027-03-04",
            "end_time": "15:00",
            "timezone": "Europe/Paris",
            "repeat": "daily",
            "count": "2",
            "attendees": "eve@partner.test",
            "reminder": "15",
        },
    )
    assert created.status_code == 303, created.text[:500]
    detail_path = created.headers["location"].split("?")[0]
    detail = await client.get(detail_path)
    assert "Atelier" in detail.text and "eve@partner.test" in detail.text
    week = (await client.get("/calendar/week?date=2027-03-04")).text
    occurrence = re.findall(r'data-occurrence="([0-9TZ]+)"', week)[1]
    move_page = await client.get(f"{detail_path}/move?occurrence={occurrence}")
    etag = re.search(r'name="etag" value="([^"]+)"', move_page.text).group(1)  # type: ignore[union-attr]
    moved = await _post(
        client,
        f"{detail_path}/move",
        {
            "occurrence": occurrence,
            "etag": etag,
            "scope": "one",
            "start_date": "2027-03-05",
            "start_time": "16:30",
            "end_date": "2027-03-05",
            "end_time": "17:00",
        },
    )
    assert moved.status_code == 303, moved.text[:500]
    week = (await client.get("/calendar/week?date=2027-03-04")).text
    assert "14:00 – 15:00" in week and "16:30 – 17:00" in week
    stale = await _post(
        client,
        f"{detail_path}/delete",
        {"scope": "series", "etag": etag},
    )
    assert stale.status_code == 409 and "modifié par quelqu’un d’autre" in stale.text
    fresh = re.search(r'name="etag" value="([^"]+)"', (await client.get(f"{detail_path}/delete")).text)
    deleted = await _post(client, f"{detail_path}/delete", {"scope": "series", "etag": fresh.group(1)})  # type: ignore[union-attr]
    assert deleted.status_code == 303
    assert "Atelier" not in (await client.get("/calendar/week?date=2027-03-04")).text


async def test_create_refuses_bad_input_and_keeps_what_was_typed(client: httpx.AsyncClient) -> None:
    _user, calendar = await _signed_in(client)
    refused = await _post(
        client,
        "/calendar/events/new",
        {
            "summary": "Sans fin",
            "calendar": str(calendar),
            "start_date": "2027-03-04",
            "start_time": "14:00",
            "end_date": "2027-03-04",
            "end_time": "13:00",
        },
    )
    valid = {"calendar": str(calendar), "start_date": "2027-03-04", "start_time": "14:00", "end_time": "15:00"}
    nul = await _post(client, "/calendar/events/new", {**valid, "summary": "Revue\x00"})
    assert refused.status_code == 400 and 'value="Sans fin"' in refused.text
    assert (await _post(client, "/calendar/events/new", {"calendar": "x", "summary": "a"})).status_code == 400
    assert nul.status_code == 400 and "NUL" in nul.text


async def test_reply_sets_my_answer_from_the_detail_page(client: httpx.AsyncClient) -> None:
    user, calendar = await _signed_in(client)
    event_id = await add_event(user, calendar, attendees=(user.email,))
    path = f"/calendar/events/{calendar}/{event_id}"
    page = await client.get(path)
    assert "Your answer" in page.text or "Votre réponse" in page.text
    answered = await _post(client, f"{path}/reply", {"partstat": "accepted"})
    assert answered.status_code == 303
    me = await principal(user)
    async with org_session(me.org_id) as db:
        shown = await agenda.event(db, me, calendar, event_id)
    assert [a.partstat for a in shown.attendees] == ["ACCEPTED"]


async def test_calendars_create_change_subscribe_import_and_export(client: httpx.AsyncClient) -> None:
    user, calendar = await _signed_in(client)
    assert (await _post(client, "/calendar/calendars", {"name": "Projets", "color": "#18753c"})).status_code == 303
    assert (await _post(client, "/calendar/calendars", {"name": "Bad", "color": "red"})).status_code == 400
    changed = await _post(
        client, f"/calendar/calendars/{calendar}", {"name": "Agenda", "color": "#c9191e", "timezone": "Indian/Reunion"}
    )
    assert changed.status_code == 303
    assert "Indian/Reunion" in (await client.get("/calendar/week")).text
    css = (await client.get("/calendar/colours.css")).text
    assert f".c-{calendar.hex}{{--cal-color:#c9191e}}" in css
    feed = await _post(
        client, "/calendar/calendars/subscribe", {"url": "https://example.org/f.ics", "feed_name": "Fériés"}
    )
    assert feed.status_code == 303
    assert (
        await _post(client, "/calendar/calendars/subscribe", {"url": "javascript:x", "feed_name": "X"})
    ).status_code == 400
    await add_event(user, calendar, summary="Exporté")
    exported = await client.get(f"/calendar/calendars/{calendar}/export.ics")
    assert exported.headers["content-type"].startswith("text/calendar") and "SUMMARY:Exporté" in exported.text
    imported = await client.post(
        "/calendar/calendars/import",
        data={"csrf_token": await csrf_token(client, "/calendar/week"), "calendar": str(calendar)},
        files={"file": ("a.ics", exported.text.replace("Exporté", "Réimporté").encode(), "text/calendar")},
    )
    assert imported.status_code == 303, imported.text[:300]
    assert "Réimporté" in (await client.get("/calendar/list?date=2027-03-01")).text
    garbage = await client.post(
        "/calendar/calendars/import",
        data={"csrf_token": await csrf_token(client, "/calendar/week"), "calendar": str(calendar)},
        files={"file": ("a.ics", b"hello", "text/calendar")},
    )
    assert garbage.status_code == 400


async def test_home_shows_todays_agenda_only_to_an_organisation_subscribed(client: httpx.AsyncClient) -> None:
    user, calendar = await _signed_in(client)
    now = datetime.now(PARIS).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    await add_event(user, calendar, summary="Point du jour", start=now.replace(hour=0), end=now.replace(hour=23))
    home = await client.get("/")
    assert "Point du jour" in home.text and "L’agenda du jour" in home.text
    client.cookies.clear()
    await login(client, await make_user(await make_org(modules=("mail",))))
    assert "L’agenda du jour" not in (await client.get("/")).text


async def test_pages_refuse_other_organisation_colleague_guest_and_anonymous(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    owner = await make_user(org)
    _owner, calendar = await _signed_in(client, owner)
    event_id = await add_event(owner, calendar)
    path = f"/calendar/events/{calendar}/{event_id}"
    client.cookies.clear()
    assert (await client.get(path)).status_code == 404  # anonymous: the module does not show
    assert (await client.get("/calendar/week")).status_code == 404
    others = [await make_user(org, role=role) for role in ("user", "admin", "guest")]
    for other in (*others, await make_user(await make_calendar_org())):
        client.cookies.clear()
        await login(client, other)
        for suffix in ("", "/edit", "/move", "/delete"):
            assert (await client.get(path + suffix)).status_code == 404, (other.role, suffix)
        assert (await _post(client, path + "/delete", {"scope": "series"})).status_code == 404
        assert (await client.get(f"/calendar/calendars/{calendar}/export.ics")).status_code == 404
        assert "Comité" not in (await client.get("/calendar/week?date=2027-03-02")).text
    client.cookies.clear()
    unsubscribed = await make_user(await make_org(modules=("mail",)))
    await login(client, unsubscribed)
    assert (await client.get("/calendar/week")).status_code == 404


async def test_read_share_sees_the_event_but_cannot_change_it(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    owner, reader = await make_user(org), await make_user(org)
    owner_principal = await principal(owner)
    async with org_session(org.id, write=True) as db:
        [own] = [c for c in await agenda.calendars(db, owner_principal) if c.owner_id == owner.id]
        await collections.share(db, owner_principal, own.id, user_id=reader.id, access="read")
        await db.commit()
    event_id = await add_event(owner, own.id, summary="Partagé")
    await login(client, reader)
    assert "Partagé" in (await client.get("/calendar/week?date=2027-03-02")).text
    path = f"/calendar/events/{own.id}/{event_id}"
    assert (await client.get(path)).status_code == 200
    for suffix in ("/edit", "/move", "/delete"):
        assert (await client.get(path + suffix)).status_code == 403
    assert (await _post(client, path + "/delete", {"scope": "series"})).status_code == 403


async def test_calendar_shared_from_its_page_reaches_the_colleague_and_can_be_withdrawn(
    client: httpx.AsyncClient,
) -> None:
    org = await make_calendar_org()
    owner, colleague = await make_user(org), await make_user(org)
    stranger = await make_user(await make_calendar_org())
    await login(client, owner)
    await client.get("/calendar/calendars")
    me = await principal(owner)
    async with org_session(org.id) as db:
        [mine] = [c for c in await agenda.calendars(db, me) if c.owner_id == owner.id]
    shared = await _post(
        client, f"/calendar/calendars/{mine.id}/shares", {"address": colleague.email, "access": "write"}
    )
    assert shared.status_code == 303
    page = await client.get("/calendar/calendars")
    assert colleague.email in page.text
    async with org_session(org.id) as db:
        reach = await collections.reach(db, await principal(colleague), mine.id, "write")
        assert reach.shared == "write"
    refused = await _post(
        client, f"/calendar/calendars/{mine.id}/shares", {"address": stranger.email, "access": "read"}
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    removed = await _post(client, f"/calendar/calendars/{mine.id}/shares/remove", {"user_id": str(colleague.id)})
    assert removed.status_code == 303
    async with org_session(org.id) as db:
        with pytest.raises(NotFound):
            await collections.reach(db, await principal(colleague), mine.id)
