"""What the server writes and sends as RFC 6638 asks, whichever way the event was
written: SCHEDULE-STATUS on the organiser's attendees once it has sent (delivered to a
colleague or a room, handed to mail for an outsider, an address it cannot reach, a
disabled account), SCHEDULE-AGENT=CLIENT (the server sends nothing for that calendar
user), SCHEDULE-FORCE-SEND, the messages in the scheduling inboxes, and the status of
an attendee's answer on the ORGANIZER of their copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import icalendar
import pytest
from sqlalchemy import func, select

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, DavObject, InboxMessage
from hexagone.calendar.service import itip, resources
from hexagone.core.db import org_session
from hexagone.identity.service import users
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.calendar.scheduling.helpers import attendee_props, copy_of, inbox_of, prop_of
from tests.factories import TestUser, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
START = datetime(2027, 9, 6, 14, 0, tzinfo=UTC)


def _with(text: str, *extra: str) -> str:
    """The event with extra content lines (ATTENDEE variants) added to its VEVENT."""
    lines = "".join(f"{line}\r\n" for line in extra)
    return text.replace("END:VEVENT", lines + "END:VEVENT")


def _server_params(calendar: icalendar.Calendar) -> list[str]:
    return [
        name
        for prop in attendee_props(calendar)
        for name in prop.params
        if name in ("SCHEDULE-STATUS", "SCHEDULE-AGENT", "SCHEDULE-FORCE-SEND")
    ]


async def test_schedule_status_tells_delivered_sent_invalid_and_refused() -> None:
    org = await make_calendar_org()
    admin = await make_user(org, role="admin")
    alice, bob, gone = await make_user(org), await make_user(org), await make_user(org)
    async with org_session(org.id, write=True) as db:
        await users.set_active(db, await principal(admin), gone.id, False)
        room = await resources.create(
            db, await principal(admin), name="Salle Marie Curie", address=f"curie-{uuid.uuid4().hex[:6]}@{org.domain}"
        )
        await db.commit()
    uid = f"{uuid.uuid4()}@tests"
    partner = "partner@elsewhere.test"
    text = event(uid=uid, start=START, organizer=alice.email, attendees=(bob.email, partner, gone.email, room.address))
    text = _with(text, "ATTENDEE:urn:uuid:7f1c2a", "ATTENDEE:mailto:not-an-address")
    await write_event(await principal(alice), "statuses.ics", text)
    stored = await copy_of(alice, uid)
    assert stored is not None
    found = {str(prop): str(prop.params.get("SCHEDULE-STATUS", "")) for prop in attendee_props(stored)}
    assert found == {
        f"mailto:{bob.email}": itip.DELIVERED,
        f"mailto:{partner}": itip.SENT,
        f"mailto:{gone.email}": itip.NOT_ALLOWED,
        f"mailto:{room.address}": itip.DELIVERED,
        "urn:uuid:7f1c2a": itip.INVALID_USER,
        "mailto:not-an-address": itip.INVALID_USER,
    }
    received = await copy_of(bob, uid)
    assert received is not None and _server_params(received) == []
    async with org_session(org.id) as db:
        delivered = await db.scalar(
            select(DavObject.id)
            .join(Collection, Collection.id == DavObject.collection_id)
            .where(Collection.owner_id == gone.id, DavObject.uid == uid)
        )
    assert delivered is None


async def test_schedule_agent_client_attendee_gets_nothing_from_the_server() -> None:
    org = await make_calendar_org()
    alice, bob, carol = await make_user(org), await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    text = _with(
        event(uid=uid, start=START, organizer=alice.email, attendees=(carol.email,)),
        f"ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:{bob.email}",
    )
    await write_event(await principal(alice), "client.ics", text)
    stored = await copy_of(alice, uid)
    assert stored is not None
    assert await copy_of(bob, uid) is None and await inbox_of(bob) == []
    assert "SCHEDULE-STATUS" not in prop_of(stored, bob.email).params
    assert len(await inbox_of(carol)) == 1


async def _meeting() -> tuple[TestUser, TestUser, str]:
    """Alice invites Bob, both of a new organisation."""
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    await write_event(await principal(alice), f"{uid}-organised.ics", _text(alice, bob, uid))
    return alice, bob, uid


def _text(alice: TestUser, bob: TestUser, uid: str) -> str:
    return event(uid=uid, start=START, organizer=alice.email, attendees=(bob.email,))


async def test_schedule_force_send_sends_an_unchanged_invitation_again() -> None:
    alice, bob, uid = await _meeting()
    text = _text(alice, bob, uid)
    await write_event(await principal(alice), f"{uid}-organised.ics", text)  # no news: nothing sent
    assert len(await inbox_of(bob)) == 1
    forced = text.replace(f"ATTENDEE:mailto:{bob.email}", f"ATTENDEE;SCHEDULE-FORCE-SEND=REQUEST:mailto:{bob.email}")
    await write_event(await principal(alice), f"{uid}-organised.ics", forced)
    stored = await copy_of(alice, uid)
    assert len(await inbox_of(bob)) == 2
    assert stored is not None and "SCHEDULE-FORCE-SEND" not in prop_of(stored, bob.email).params


async def _answer(user: TestUser, uid: str, partstat: str, *, organizer_agent: str = "") -> None:
    """``user`` changes their answer in their own copy, as their client would."""
    copy = await copy_of(user, uid)
    assert copy is not None
    prop_of(copy, user.email).params["PARTSTAT"] = partstat
    if organizer_agent:
        ical.master(copy)["ORGANIZER"].params["SCHEDULE-AGENT"] = organizer_agent
    name = f"{uid}.ics"  # delivered copies are named after their UID
    await write_event(await principal(user), name, copy.to_ical().decode())


async def test_attendee_answer_lands_in_the_organisers_inbox_and_on_their_copys_organizer() -> None:
    alice, bob, uid = await _meeting()
    await _answer(bob, uid, "TENTATIVE")
    [reply] = await inbox_of(alice)
    mine = await copy_of(bob, uid)
    organised = await copy_of(alice, uid)
    assert str(reply["METHOD"]) == "REPLY"
    assert [str(a) for a in ical.as_list(reply.walk("VEVENT")[0]["ATTENDEE"])] == [f"mailto:{bob.email}"]
    assert prop_of(reply, bob.email).params["PARTSTAT"] == "TENTATIVE"
    assert organised is not None and prop_of(organised, bob.email).params["PARTSTAT"] == "TENTATIVE"
    assert mine is not None and prop_of(mine, alice.email).params["SCHEDULE-STATUS"] == itip.DELIVERED


async def test_attendee_with_organizer_schedule_agent_client_sends_no_answer() -> None:
    alice, bob, uid = await _meeting()
    await _answer(bob, uid, "DECLINED", organizer_agent="CLIENT")
    organised = await copy_of(alice, uid)
    assert organised is not None and prop_of(organised, bob.email).params.get("PARTSTAT") in (None, "NEEDS-ACTION")
    assert await inbox_of(alice) == []


async def test_cancelled_event_reaches_the_inbox_as_a_cancel() -> None:
    alice, bob, uid = await _meeting()
    await write_event(await principal(alice), f"{uid}-organised.ics", None)
    methods = [str(m["METHOD"]) for m in await inbox_of(bob)]
    copy = await copy_of(bob, uid)
    assert methods == ["REQUEST", "CANCEL"]
    assert copy is not None and str(copy.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


async def test_guest_attendee_gets_the_copy_but_no_inbox_message() -> None:
    """A guest reads the invitation in the agenda; they have no scheduling inbox."""
    org = await make_calendar_org()
    alice, guest = await make_user(org), await make_user(org, role="guest")
    uid = f"{uuid.uuid4()}@tests"
    await write_event(
        await principal(alice),
        "guest.ics",
        event(uid=uid, start=START, organizer=alice.email, attendees=(guest.email,)),
    )
    async with org_session(org.id) as db:
        messages = await db.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.user_id == guest.id)
        )
    assert await copy_of(guest, uid) is not None
    assert messages == 0
