"""Rooms and equipment: an admin adds them in the console; an organiser books one by
inviting its address — accepted when it is free, declined on a conflict (for any
occurrence of a repeating meeting), released when the meeting is cancelled."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hexagone.calendar import ical
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, objects, resources, scheduling
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid
from tests.admin.factories_admin import post, signed_in
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.factories import TestOrg, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
SOON = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=7)


async def _room(org: TestOrg, name: str = "Salle Jean Moulin") -> resources.ResourceInfo:
    admin = await principal(await make_user(org, role="admin"))
    async with org_session(org.id) as db:
        made = await resources.create(
            db, admin, name=name, address=f"salle-{uuid.uuid4().hex[:6]}@{org.domain}", capacity=12
        )
        await db.commit()
    return made


async def _organise(who: Principal, text: str | None, name: str | None = None) -> str:
    name = name or f"{uuid.uuid4()}.ics"
    await write_event(who, name, text)
    return name


async def _answer(who: Principal, uid: str, room: str) -> str | None:
    async with org_session(who.org_id) as db:
        for reach in await collections.visible(db, who, CollectionKind.CALENDAR):
            if reach.collection.owner_id == who.user_id and (found := await objects.by_uid(db, reach, uid)):
                return scheduling.attendees(ical.parse(found.data)).get(room)
    return None


async def _bookings(org: TestOrg, room: resources.ResourceInfo) -> list[str]:
    member = await principal(await make_user(org))
    async with org_session(org.id) as db:
        reach = await collections.reach(db, member, room.id)  # every member sees a room's bookings
        return [o.uid for o in await objects.listing(db, reach)]


async def test_room_invited_when_free_accepts_and_shows_the_booking() -> None:
    org = await make_calendar_org()
    room = await _room(org)
    alice = await principal(await make_user(org))
    uid = f"{uuid.uuid4()}@t"
    await _organise(alice, event(uid=uid, start=SOON, organizer=alice.email, attendees=(room.address,)))
    assert await _answer(alice, uid, room.address) == "ACCEPTED"
    assert await _bookings(org, room) == [uid]


async def test_room_invited_over_a_booking_declines_and_keeps_the_first() -> None:
    org = await make_calendar_org()
    room = await _room(org)
    alice, bob = await principal(await make_user(org)), await principal(await make_user(org))
    first, second = f"{uuid.uuid4()}@t", f"{uuid.uuid4()}@t"
    await _organise(alice, event(uid=first, start=SOON, organizer=alice.email, attendees=(room.address,)))
    overlapping = SOON + timedelta(minutes=30)
    await _organise(bob, event(uid=second, start=overlapping, organizer=bob.email, attendees=(room.address,)))
    assert await _answer(bob, second, room.address) == "DECLINED"
    assert await _bookings(org, room) == [first]


async def test_room_invited_by_a_weekly_meeting_declines_when_one_occurrence_collides() -> None:
    org = await make_calendar_org()
    room = await _room(org)
    alice, bob = await principal(await make_user(org)), await principal(await make_user(org))
    await _organise(alice, event(start=SOON + timedelta(weeks=3), organizer=alice.email, attendees=(room.address,)))
    weekly = f"{uuid.uuid4()}@t"
    text = event(uid=weekly, start=SOON, rrule={"FREQ": "WEEKLY"}, organizer=bob.email, attendees=(room.address,))
    await _organise(bob, text)
    assert await _answer(bob, weekly, room.address) == "DECLINED"


async def test_room_booking_is_released_when_the_meeting_is_deleted() -> None:
    org = await make_calendar_org()
    room = await _room(org)
    alice = await principal(await make_user(org))
    name = await _organise(alice, event(start=SOON, organizer=alice.email, attendees=(room.address,)))
    await _organise(alice, None, name)
    assert await _bookings(org, room) == []


async def test_resource_create_refuses_other_domains_taken_addresses_and_non_admins() -> None:
    org = await make_calendar_org()
    admin = await principal(await make_user(org, role="admin"))
    user = await make_user(org)
    async with org_session(org.id) as db:
        with pytest.raises(Invalid):
            await resources.create(db, admin, name="Salle", address="salle@elsewhere.test")
        with pytest.raises(Conflict):
            await resources.create(db, admin, name="Salle", address=user.email)
        with pytest.raises(Forbidden):
            await resources.create(db, await principal(user), name="Salle", address=f"s@{org.domain}")


async def test_admin_page_adds_a_room_then_removes_it(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    await signed_in(client, "admin", org)
    address = f"salle-{uuid.uuid4().hex[:6]}@{org.domain}"
    added = await post(
        client, "/calendar/admin", {"name": "Salle Simone Veil", "address": address, "kind": "room", "capacity": "20"}
    )
    assert added.status_code == 303
    page = await client.get("/calendar/admin")
    assert page.status_code == 200 and address in page.text and "Salle Simone Veil" in page.text
    [resource_id] = re.findall(r"/calendar/admin/([0-9a-f-]{36})/remove", page.text)
    assert (await post(client, f"/calendar/admin/{resource_id}/remove")).status_code == 303
    assert address not in (await client.get("/calendar/admin")).text


async def test_admin_page_with_a_bad_capacity_answers_the_form_with_the_reason(client: httpx.AsyncClient) -> None:
    org = await make_calendar_org()
    await signed_in(client, "admin", org)
    refused = await post(
        client, "/calendar/admin", {"name": "Salle", "address": f"s@{org.domain}", "capacity": "douze"}
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text and 'value="Salle"' in refused.text


async def test_admin_page_of_another_organisations_resource_is_not_found(client: httpx.AsyncClient) -> None:
    room = await _room(await make_calendar_org())
    await signed_in(client, "admin", await make_calendar_org())
    assert (await post(client, f"/calendar/admin/{room.id}/remove")).status_code == 404
