"""Acting for a manager (delegation): the manager shares their calendar with the *act
for me* access; the delegate then organises meetings and answers invitations there in
the manager's name, through the API, the pages and CalDAV. The ORGANIZER or ATTENDEE
is the manager's, with SENT-BY the delegate (RFC 5545 3.2.18), in the event, in the
attendees' copies and inboxes and in the iMIP e-mail, which comes from the delegate on
the manager's behalf. A colleague who may only write in the calendar does not act."""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import icalendar
import pytest

from hexagone.calendar.models import Access, CollectionKind
from hexagone.calendar.service import collections, objects
from hexagone.core.db import org_session
from tests.calendar.dav.helpers import CALDAV_TYPE, ROOT, dav_client
from tests.calendar.factories import event, write_event
from tests.calendar.scheduling.helpers import copy_of, inbox_of, prop_of
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, csrf_token, login, make_org, principal
from tests.mail.api.helpers import token_for
from tests.mail.smtp.helpers import eventually, mail_user
from tests.mail.smtp.peers import REMOTE_DOMAIN
from tests.mail.smtp.sink import Sink
from tests.oidc.factories_oidc import bearer

API = "/api/v1/calendar"
START = datetime(2027, 11, 8, 10, 0, tzinfo=UTC)


@dataclass
class Office:
    org: TestOrg
    manager: TestUser
    delegate: TestUser
    writer: TestUser  # may write in the manager's calendar, not act for them
    colleague: TestUser
    calendar: uuid.UUID  # the manager's calendar


@pytest.fixture
async def office(mail_server: Server) -> Office:
    org = await make_org(modules=("calendar", "mail"))
    manager, delegate, writer, colleague = [await mail_user(org) for _ in range(4)]
    boss = await principal(manager)
    async with org_session(org.id, write=True) as db:
        await collections.ensure_defaults(db, boss)
        [own] = [
            r.collection
            for r in await collections.visible(db, boss, CollectionKind.CALENDAR)
            if r.collection.owner_id == manager.id
        ]
        await collections.share(db, boss, own.id, user_id=delegate.id, access=Access.DELEGATE)
        await collections.share(db, boss, own.id, user_id=writer.id, access=Access.WRITE)
        await db.commit()
    return Office(org, manager, delegate, writer, colleague, own.id)


def _sent_by(prop: object) -> str:
    return str(getattr(prop, "params", {}).get("SENT-BY", ""))


async def test_delegate_organising_through_the_api_speaks_as_the_manager_sent_by_them(
    office: Office, base_url: str, sink: Sink
) -> None:
    partner = f"partner-{uuid.uuid4().hex[:6]}@{REMOTE_DOMAIN}"
    body = {
        "summary": "Comité de direction",
        "start": "2027-11-08T10:00:00",
        "end": "2027-11-08T11:00:00",
        "timezone": "Europe/Paris",
        "attendees": [office.colleague.email, partner],
    }
    token = await token_for(base_url, office.delegate)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        created = await client.post(f"{API}/calendars/{office.calendar}/events", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["organizer"] == office.manager.email.lower()
    uid = created.json()["uid"]
    stored, received = await copy_of(office.manager, uid), await copy_of(office.colleague, uid)
    [invitation] = await inbox_of(office.colleague)
    manager, delegate = office.manager.email.lower(), f"mailto:{office.delegate.email.lower()}"
    assert stored is not None and _sent_by(prop_of(stored, manager)) == delegate
    assert received is not None and _sent_by(prop_of(received, manager)) == delegate
    assert _sent_by(prop_of(invitation, manager)) == delegate

    [mail] = await eventually(lambda: _async(sink.messages_for(partner)), timeout=30)
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    attached = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert mail.mail_from == office.delegate.email
    assert office.manager.email in message["Reply-To"]
    boss, aide = await principal(office.manager), await principal(office.delegate)
    assert f"{aide.display_name} vous écrit de la part de {boss.display_name}." in text
    assert _sent_by(prop_of(attached, manager)) == delegate


async def test_delegate_answering_through_the_api_answers_for_the_manager(office: Office, base_url: str) -> None:
    uid = f"{uuid.uuid4()}@tests"
    text = event(uid=uid, start=START, organizer=office.colleague.email, attendees=(office.manager.email,))
    await write_event(await principal(office.colleague), "invite.ics", text)
    token = await token_for(base_url, office.delegate)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        listed = await client.get(
            f"{API}/events",
            params={
                "start": "2027-11-08T00:00:00+00:00",
                "end": "2027-11-09T00:00:00+00:00",
                "calendar": str(office.calendar),
            },
            headers=bearer(token),
        )
        [found] = [o for o in listed.json() if o["uid"] == uid]
        answered = await client.post(
            f"{API}/calendars/{office.calendar}/events/{found['event_id']}/reply",
            json={"partstat": "accepted"},
            headers=bearer(token),
        )
    assert answered.status_code == 200, answered.text
    organised = await copy_of(office.colleague, uid)
    [reply] = await inbox_of(office.colleague)
    manager, delegate = office.manager.email.lower(), f"mailto:{office.delegate.email.lower()}"
    assert organised is not None
    assert prop_of(organised, manager).params["PARTSTAT"] == "ACCEPTED"
    assert _sent_by(prop_of(organised, manager)) == delegate
    assert _sent_by(prop_of(reply, manager)) == delegate


async def test_delegate_answers_on_the_managers_event_page(office: Office, base_url: str) -> None:
    uid = f"{uuid.uuid4()}@tests"
    text = event(
        uid=uid,
        summary="Revue budgétaire",
        start=START,
        organizer=office.colleague.email,
        attendees=(office.manager.email,),
    )
    await write_event(await principal(office.colleague), "page.ics", text)
    async with org_session(office.org.id) as db:
        reach = await collections.reach(db, await principal(office.manager), office.calendar)
        stored = await objects.by_uid(db, reach, uid)
    assert stored is not None
    page = f"/calendar/events/{office.calendar}/{stored.id}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as browser:
        await login(browser, office.delegate)
        shown = await browser.get(page)
        token = await csrf_token(browser, page)
        answered = await browser.post(
            f"{page}/reply", data={"csrf_token": token, "partstat": "declined", "etag": stored.etag}
        )
    assert shown.status_code == 200
    assert f"Répondre pour {(await principal(office.manager)).display_name}" in shown.text
    assert answered.status_code == 303
    organised = await copy_of(office.colleague, uid)
    assert organised is not None and prop_of(organised, office.manager.email.lower()).params["PARTSTAT"] == "DECLINED"


async def _put_for_the_manager(office: Office, base_url: str, who: TestUser) -> tuple[str, httpx.Response, str]:
    """``who`` writes a meeting the manager organises into the manager's calendar, as
    their CalDAV client sees it in their own home; the UID, the PUT's answer, the text
    stored."""
    uid = f"{uuid.uuid4()}@tests"
    text = event(uid=uid, start=START, organizer=office.manager.email, attendees=(office.colleague.email,))
    shared = f"{ROOT}calendars/{who.id}/{office.calendar.hex}/meeting.ics"
    async with dav_client(base_url, who) as client:
        put = await client.put(shared, content=text, headers={"content-type": CALDAV_TYPE})
        fetched = await client.get(shared)
    return uid, put, fetched.text


async def test_delegate_writing_through_caldav_is_signed_sent_by(office: Office, base_url: str) -> None:
    uid, put, fetched = await _put_for_the_manager(office, base_url, office.delegate)
    assert put.status_code == 201 and "etag" not in put.headers  # the server signed it: fetch again
    stored = icalendar.Calendar.from_ical(fetched)
    received = await copy_of(office.colleague, uid)
    delegate = f"mailto:{office.delegate.email.lower()}"
    assert _sent_by(prop_of(stored, office.manager.email.lower())) == delegate
    assert received is not None and _sent_by(prop_of(received, office.manager.email.lower())) == delegate


async def test_write_access_alone_does_not_act_for_the_manager(office: Office, base_url: str) -> None:
    uid, put, _stored = await _put_for_the_manager(office, base_url, office.writer)
    assert put.status_code == 201
    assert await copy_of(office.colleague, uid) is None
    assert await inbox_of(office.colleague) == []


async def _async(value):  # type: ignore[no-untyped-def]
    return value
