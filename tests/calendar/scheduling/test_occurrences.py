"""Attendees of one occurrence (RFC 6638 3.2, RFC 5546 3.2.2.x): a weekly meeting whose
second occurrence, overridden with its own RECURRENCE-ID, has other attendees. Someone
invited to that occurrence only gets that occurrence (in their calendar, their inbox and
by e-mail), and its cancellation; someone of the series left out of one occurrence gets
that occurrence cancelled and keeps the others; answers come back per occurrence."""

from __future__ import annotations

import email
import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from hexagone.calendar import ical
from hexagone.calendar.service import itip
from tests.calendar.factories import make_calendar_org, write_event
from tests.calendar.scheduling.helpers import copy_of, inbox_of, keys, prop_of
from tests.conftest import Server
from tests.factories import TestUser, make_user, principal
from tests.mail.smtp.helpers import eventually, mail_user
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink

pytestmark = pytest.mark.usefixtures("migrated")
START = datetime(2027, 10, 4, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
SECOND, THIRD = START + WEEK, START + 2 * WEEK
SECOND_KEY, THIRD_KEY = itip.moment_key(SECOND), itip.moment_key(THIRD)


def _component(uid: str, organizer: str, attendees: tuple[str, ...], start: datetime, summary: str) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", uid)
    component.add("dtstamp", START)
    component.add("summary", summary)
    component.add("dtstart", start)
    component.add("dtend", start + timedelta(hours=1))
    component.add("organizer", f"mailto:{organizer}")
    for address in attendees:
        component.add("attendee", f"mailto:{address}", parameters={"PARTSTAT": "NEEDS-ACTION"})
    return component


def series(uid: str, organizer: str, master: tuple[str, ...], overrides: dict[datetime, tuple[str, ...]]) -> str:
    """A weekly meeting of four with ``master``'s attendees, and occurrences overridden
    with their own attendees."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//FR")
    calendar.add("version", "2.0")
    main = _component(uid, organizer, master, START, "Point hebdo")
    main.add("rrule", {"FREQ": "WEEKLY", "COUNT": 4})
    calendar.add_component(main)
    for moment, attendees in overrides.items():
        single = _component(uid, organizer, attendees, moment + timedelta(hours=2), "Point hebdo (déplacé)")
        single.add("recurrence-id", moment)
        calendar.add_component(single)
    return calendar.to_ical().decode()


async def _organise(organiser: TestUser, uid: str, text: str | None) -> None:
    await write_event(await principal(organiser), f"{uid}-series.ics", text)


async def test_attendee_of_one_occurrence_is_invited_to_that_occurrence_only() -> None:
    org = await make_calendar_org()
    alice, bob, carol = await make_user(org), await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {SECOND: (bob.email, carol.email)}))
    carols, bobs = await copy_of(carol, uid), await copy_of(bob, uid)
    [invitation] = await inbox_of(carol)
    assert carols is not None and keys(carols) == [SECOND_KEY]
    assert keys(invitation) == [SECOND_KEY] and str(invitation["METHOD"]) == "REQUEST"
    assert bobs is not None and keys(bobs) == [itip.MASTER, SECOND_KEY]


async def test_attendee_removed_from_their_occurrence_gets_that_occurrence_cancelled() -> None:
    org = await make_calendar_org()
    alice, bob, carol = await make_user(org), await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {SECOND: (bob.email, carol.email)}))
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {SECOND: (bob.email,)}))
    cancel = (await inbox_of(carol))[-1]
    carols = await copy_of(carol, uid)
    assert str(cancel["METHOD"]) == "CANCEL" and keys(cancel) == [SECOND_KEY]
    assert carols is not None and [str(c["STATUS"]) for c in itip.components(carols)] == ["CANCELLED"]
    assert [str(m["METHOD"]) for m in await inbox_of(bob)] == ["REQUEST"]  # nothing new for bob


async def test_attendee_of_the_series_left_out_of_one_occurrence_gets_it_cancelled_and_keeps_the_rest() -> None:
    org = await make_calendar_org()
    alice, bob, carol = await make_user(org), await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {}))
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {THIRD: (carol.email,)}))
    cancel, update = (await inbox_of(bob))[-2:]
    bobs = await copy_of(bob, uid)
    assert str(cancel["METHOD"]) == "CANCEL" and keys(cancel) == [THIRD_KEY]
    assert [str(a) for a in ical.as_list(itip.components(cancel)[0].get("ATTENDEE"))] == [f"mailto:{bob.email}"]
    assert str(update["METHOD"]) == "REQUEST"
    assert bobs is not None and keys(bobs) == [itip.MASTER]
    excluded = [itip.moment_key(d.dt) for x in ical.as_list(itip.components(bobs)[0].get("EXDATE")) for d in x.dts]
    assert excluded == [THIRD_KEY]
    carols = await copy_of(carol, uid)
    assert carols is not None and keys(carols) == [THIRD_KEY]


async def test_answer_of_an_occurrence_attendee_changes_that_occurrence_only() -> None:
    org = await make_calendar_org()
    alice, bob, carol = await make_user(org), await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {SECOND: (bob.email, carol.email)}))
    carols = await copy_of(carol, uid)
    assert carols is not None
    prop_of(carols, carol.email, SECOND_KEY).params["PARTSTAT"] = "ACCEPTED"
    await write_event(await principal(carol), f"{uid}.ics", carols.to_ical().decode())
    organised = await copy_of(alice, uid)
    assert organised is not None
    assert prop_of(organised, carol.email, SECOND_KEY).params["PARTSTAT"] == "ACCEPTED"
    assert prop_of(organised, bob.email, SECOND_KEY).params["PARTSTAT"] == "NEEDS-ACTION"
    [reply] = await inbox_of(alice)
    assert keys(reply) == [SECOND_KEY]


async def test_outside_attendee_of_one_occurrence_gets_that_occurrence_by_email(
    mail_server: Server, sink: Sink
) -> None:
    org = await make_calendar_org()
    alice, bob = await mail_user(org), await mail_user(org)
    partner = f"partner-{uuid.uuid4().hex[:6]}@{REMOTE_DOMAIN}"
    uid = f"{uuid.uuid4()}@tests"
    await _organise(alice, uid, series(uid, alice.email, (bob.email,), {SECOND: (bob.email, partner)}))
    [received] = await eventually(lambda: _messages(sink, partner), timeout=30)
    message = email.message_from_bytes(received)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    sent = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == "REQUEST"
    assert keys(sent) == [SECOND_KEY]


async def _messages(sink: Sink, address: str) -> list[bytes]:
    return [m.content for m in sink.messages_for(address)]
