"""Free/busy when planning: members see when colleagues and rooms are busy (not what
they do); cancelled, transparent and declined events leave them free; tentative ones
say so; guests see nothing and outside addresses are unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from hexagone.calendar.service import freebusy, resources
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, Invalid
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.factories import make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
DAY = datetime(2027, 6, 7, tzinfo=UTC)
NINE, TEN, ELEVEN = DAY + timedelta(hours=9), DAY + timedelta(hours=10), DAY + timedelta(hours=11)


async def test_busy_times_of_a_colleague_merge_their_events_and_skip_what_frees_them() -> None:
    org = await make_calendar_org()
    bob_user = await make_user(org)
    bob, alice = await principal(bob_user), await principal(await make_user(org))
    await write_event(bob, "a.ics", event(start=NINE, length=timedelta(minutes=45)))
    await write_event(bob, "b.ics", event(start=NINE + timedelta(minutes=30), length=timedelta(minutes=60)))
    cancelled = event(start=ELEVEN).replace("SUMMARY:", "STATUS:CANCELLED\r\nSUMMARY:")
    await write_event(bob, "c.ics", cancelled)
    free = event(start=ELEVEN + timedelta(hours=1)).replace("SUMMARY:", "TRANSP:TRANSPARENT\r\nSUMMARY:")
    await write_event(bob, "d.ics", free)
    async with org_session(org.id) as db:
        found = await freebusy.busy_times(db, alice, [bob_user.email], DAY, DAY + timedelta(days=1))
    assert found == {bob_user.email: [freebusy.Busy(NINE, NINE + timedelta(minutes=90), freebusy.BUSY)]}


async def test_busy_times_of_an_invitation_not_answered_are_tentative_and_declined_ones_free() -> None:
    org = await make_calendar_org()
    alice_user, bob_user = await make_user(org), await make_user(org)
    alice = await principal(alice_user)
    await write_event(alice, "m.ics", event(start=TEN, organizer=alice_user.email, attendees=(bob_user.email,)))
    async with org_session(org.id) as db:
        found = await freebusy.busy_times(db, alice, [bob_user.email], DAY, DAY + timedelta(days=1))
    assert found[bob_user.email] == [freebusy.Busy(TEN, ELEVEN, freebusy.TENTATIVE)]


async def test_busy_times_of_a_room_are_its_bookings_and_outsiders_are_unknown() -> None:
    org = await make_calendar_org()
    admin = await principal(await make_user(org, role="admin"))
    async with org_session(org.id) as db:
        room = await resources.create(db, admin, name="Salle", address=f"salle@{org.domain}")
        await db.commit()
    alice_user = await make_user(org)
    alice = await principal(alice_user)
    await write_event(alice, "r.ics", event(start=TEN, organizer=alice_user.email, attendees=(room.address,)))
    async with org_session(org.id) as db:
        found = await freebusy.busy_times(
            db, alice, [room.address, "someone@elsewhere.test"], DAY, DAY + timedelta(days=1)
        )
    assert found == {room.address: [freebusy.Busy(TEN, ELEVEN, freebusy.BUSY)], "someone@elsewhere.test": None}


async def test_busy_times_of_another_organisations_member_are_unknown() -> None:
    stranger = await make_user(await make_calendar_org())
    await write_event(await principal(stranger), "x.ics", event(start=TEN))
    org = await make_calendar_org()
    alice = await principal(await make_user(org))
    async with org_session(org.id) as db:
        assert await freebusy.busy_times(db, alice, [stranger.email], DAY, DAY + timedelta(days=1)) == {
            stranger.email: None
        }


async def test_busy_times_for_a_guest_or_a_bad_span_are_refused() -> None:
    org = await make_calendar_org()
    guest, member = await principal(await make_user(org, role="guest")), await principal(await make_user(org))
    async with org_session(org.id) as db:
        with pytest.raises(Forbidden):
            await freebusy.busy_times(db, guest, [member.email], DAY, DAY + timedelta(days=1))
        with pytest.raises(Invalid):
            await freebusy.busy_times(db, member, [guest.email], DAY, DAY - timedelta(days=1))
        with pytest.raises(Invalid):
            await freebusy.busy_times(db, member, [guest.email], DAY, DAY + timedelta(days=400))


def test_vfreebusy_lists_each_busy_span_with_its_type() -> None:
    reply = freebusy.vfreebusy(
        "a@x.test", "b@x.test", DAY, DAY + timedelta(days=1), [freebusy.Busy(NINE, TEN, freebusy.TENTATIVE)]
    )
    parsed = icalendar.Calendar.from_ical(reply.to_ical())
    [span] = parsed.walk("VFREEBUSY")
    assert str(parsed["METHOD"]) == "REPLY" and span["FREEBUSY"].params["FBTYPE"] == "BUSY-TENTATIVE"
    assert span["FREEBUSY"].dt == (NINE, TEN)
