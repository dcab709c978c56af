"""Invitations (iTIP, RFC 5546) as an organiser and attendees live them: an organiser
writes an event with a colleague and an outside partner; the colleague finds it in their
calendar with a notification and an e-mail, the partner gets an iMIP e-mail; answers come
back (the colleague's from their calendar, the partner's by inbound SMTP) and update the
organiser's event; a cancellation reaches both."""

from __future__ import annotations

import email
import email.message
import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from hexagone.calendar import ical
from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import agenda, collections, objects, scheduling
from hexagone.core.db import org_session
from hexagone.core.models import Notification
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.calendar.scheduling.helpers import copy_of
from tests.conftest import Server
from tests.factories import TestUser, principal
from tests.mail.factories import folder_of
from tests.mail.smtp.helpers import eventually, inbound, inbox_bytes, mail_user
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink

pytestmark = pytest.mark.usefixtures("migrated")
START = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)


async def _partstat(user: TestUser, uid: str, attendee: str) -> str | None:
    found = await copy_of(user, uid)
    return None if found is None else scheduling.attendees(found).get(attendee)


async def _notes(user: TestUser) -> list[str]:
    async with org_session(user.org_id) as db:
        return list((await db.execute(select(Notification.title).where(Notification.user_id == user.id))).scalars())


def _calendar_part(raw: bytes) -> tuple[str, icalendar.Calendar]:
    message = email.message_from_bytes(raw)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return str(part.get_param("method")), icalendar.Calendar.from_ical(part.get_payload(decode=True))


@pytest.fixture
async def meeting(mail_server: Server) -> tuple[TestUser, TestUser, str, str]:
    org = await make_calendar_org()
    alice, bob = await mail_user(org), await mail_user(org)
    partner = f"partner-{uuid.uuid4().hex[:6]}@{REMOTE_DOMAIN}"
    uid = f"{uuid.uuid4()}@tests"
    text = event(
        uid=uid, summary="Comité de pilotage", start=START, organizer=alice.email, attendees=(bob.email, partner)
    )
    await write_event(await principal(alice), "comite.ics", text)
    return alice, bob, partner, uid


async def test_invitation_reaches_a_colleague_in_their_calendar_with_a_notification_and_an_email(
    meeting: tuple[TestUser, TestUser, str, str],
) -> None:
    _alice, bob, _partner, uid = meeting
    copy = await copy_of(bob, uid)
    assert copy is not None and str(copy.walk("VEVENT")[0]["SUMMARY"]) == "Comité de pilotage"
    assert any("Comité de pilotage" in title for title in await _notes(bob))
    [invite] = await eventually(lambda: inbox_bytes(bob))
    method, attached = _calendar_part(invite)
    assert method == "REQUEST" and str(attached["METHOD"]) == "REQUEST"


async def test_invitation_reaches_an_outside_partner_as_an_imip_email(
    meeting: tuple[TestUser, TestUser, str, str], sink: Sink
) -> None:
    alice, _bob, partner, uid = meeting
    [received] = await eventually(lambda: _async(sink.messages_for(partner)), timeout=30)
    method, attached = _calendar_part(received.content)
    assert received.mail_from == alice.email and method == "REQUEST"
    assert str(attached.walk("VEVENT")[0]["UID"]) == uid


async def test_reply_of_an_outside_partner_by_smtp_updates_the_organisers_event(
    meeting: tuple[TestUser, TestUser, str, str], mail_server: Server
) -> None:
    alice, _bob, partner, uid = meeting
    reply = icalendar.Calendar.from_ical(
        event(uid=uid, summary="Comité de pilotage", start=START, organizer=alice.email, attendees=(partner,))
    )
    scheduling.set_partstat(reply, partner, "ACCEPTED")
    reply.add("method", "REPLY")
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = partner, alice.email, "Accepted"
    message.set_content("Accepted")
    message.add_alternative(reply.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"})
    with inbound(mail_server) as client:
        client.sendmail(partner, [alice.email], message.as_bytes())
    assert await eventually(lambda: _is(_partstat(alice, uid, partner), "ACCEPTED"), timeout=20)
    assert any(partner in title for title in await _notes(alice))


async def test_reply_from_someone_else_than_the_attendee_changes_nothing(
    meeting: tuple[TestUser, TestUser, str, str],
) -> None:
    alice, _bob, partner, uid = meeting
    reply = icalendar.Calendar.from_ical(event(uid=uid, start=START, organizer=alice.email, attendees=(partner,)))
    scheduling.set_partstat(reply, partner, "DECLINED")
    reply.add("method", "REPLY")
    inbox = await folder_of(alice)
    delivered = {"org_id": str(alice.org_id), "mailbox_id": str(inbox.mailbox_id), "message_id": None}
    await scheduling.on_calendar_mail(
        {**delivered, "mail_from": f"impostor@{REMOTE_DOMAIN}", "calendars": [reply.to_ical().decode()]}
    )
    assert await _partstat(alice, uid, partner) == "NEEDS-ACTION"
    await scheduling.on_calendar_mail({**delivered, "mail_from": partner, "calendars": [reply.to_ical().decode()]})
    assert await _partstat(alice, uid, partner) == "DECLINED"


async def test_colleague_accepting_in_their_calendar_updates_the_organisers_event(
    meeting: tuple[TestUser, TestUser, str, str],
) -> None:
    alice, bob, _partner, uid = meeting
    me = await principal(bob)
    async with org_session(me.org_id) as db:
        [reach] = list(await collections.visible(db, me, CollectionKind.CALENDAR))
        copy = await objects.by_uid(db, reach, uid)
    assert copy is not None
    answered = ical.parse(copy.data)
    scheduling.set_partstat(answered, bob.email, "ACCEPTED")
    await write_event(me, copy.name, answered.to_ical().decode())
    assert await _partstat(alice, uid, bob.email) == "ACCEPTED"
    assert any("Comité de pilotage" in t for t in await _notes(alice))


async def test_cancelling_the_event_marks_the_colleagues_copy_cancelled_and_mails_the_partner(
    meeting: tuple[TestUser, TestUser, str, str], sink: Sink
) -> None:
    alice, bob, partner, uid = meeting
    await write_event(await principal(alice), "comite.ics", None)
    copy = await copy_of(bob, uid)
    assert copy is not None and str(copy.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    cancels = await eventually(
        lambda: _async([m for m in sink.messages_for(partner) if _calendar_part(m.content)[0] == "CANCEL"]), timeout=30
    )
    assert len(cancels) == 1


async def _async(value):  # type: ignore[no-untyped-def]
    return value


async def _is(value, expected):  # type: ignore[no-untyped-def]
    return (await value) == expected


async def test_event_created_in_the_agenda_with_a_colleague_invites_them_and_their_answer_comes_back(
    mail_server: Server,
) -> None:
    org = await make_calendar_org()
    alice_user, bob_user = await mail_user(org), await mail_user(org)
    alice, bob = await principal(alice_user), await principal(bob_user)
    async with org_session(org.id, write=True) as db:
        await collections.ensure_defaults(db, alice)
        [own] = [
            r
            for r in await collections.visible(db, alice, CollectionKind.CALENDAR)
            if r.collection.owner_id == alice.user_id
        ]
        fields = agenda.EventFields(
            summary="Revue", start=START, end=START + timedelta(hours=1), attendees=(bob_user.email,)
        )
        event_id = await agenda.create(db, alice, own.collection.id, fields)
        await db.commit()
        uid = (await agenda.event(db, alice, own.collection.id, event_id)).uid
    copy = await copy_of(bob_user, uid)
    assert copy is not None and scheduling.attendees(copy)[bob_user.email] == "NEEDS-ACTION"
    async with org_session(org.id, write=True) as db:
        [mine] = [
            r
            for r in await collections.visible(db, bob, CollectionKind.CALENDAR)
            if r.collection.owner_id == bob.user_id
        ]
        stored = await objects.by_uid(db, mine, uid)
        assert stored is not None
        await agenda.reply(db, bob, mine.collection.id, stored.id, "ACCEPTED")
        await db.commit()
    assert await _partstat(alice_user, uid, bob_user.email) == "ACCEPTED"
