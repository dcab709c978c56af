"""RFC 6638 on the wire, where a client steers scheduling: ``Schedule-Reply: F`` on an
attendee's DELETE (the organiser is told nothing), a PUT that scheduling completes (no
ETag in the answer: the client fetches the stored event with its SCHEDULE-STATUS), and
``schedule-calendar-transp`` (a transparent calendar's events leave its owner free)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import icalendar
import pytest

from tests.calendar.dav.helpers import CALDAV_TYPE, NS, calendar_path, dav_client, parse, propfind_body
from tests.calendar.dav.test_scheduling_access import freebusy_request, outbox
from tests.calendar.factories import event
from tests.calendar.scheduling.helpers import copy_of, inbox_of, prop_of
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user

START = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
TRANSPARENT = (
    '<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
    "<C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp>"
    "</D:prop></D:set></D:propertyupdate>"
)


async def _invite(server: Server, organiser: TestUser, attendee: TestUser) -> str:
    uid = f"{uuid.uuid4()}@tests"
    text = event(uid=uid, start=START, organizer=organiser.email, attendees=(attendee.email,))
    async with dav_client(server.base_url, organiser) as client:
        put = await client.put(
            calendar_path(organiser) + "meeting.ics", content=text, headers={"content-type": CALDAV_TYPE}
        )
        stored = await client.get(calendar_path(organiser) + "meeting.ics")
    assert put.status_code == 201
    assert "etag" not in put.headers  # scheduling wrote SCHEDULE-STATUS into it
    assert "SCHEDULE-STATUS=1.2" in stored.text.replace("\r\n ", "")
    return uid


@pytest.mark.parametrize(("header", "answer"), [({"schedule-reply": "F"}, "NEEDS-ACTION"), ({}, "DECLINED")])
async def test_attendee_delete_tells_the_organiser_unless_schedule_reply_is_f(
    server: Server, org: TestOrg, header: dict[str, str], answer: str
) -> None:
    alice, bob = await make_user(org), await make_user(org)
    uid = await _invite(server, alice, bob)
    async with dav_client(server.base_url, bob) as client:
        deleted = await client.delete(calendar_path(bob) + f"{uid}.ics", headers=header)
    organised = await copy_of(alice, uid)
    assert deleted.status_code == 204
    assert organised is not None
    assert str(prop_of(organised, bob.email).params.get("PARTSTAT", "NEEDS-ACTION")) == answer
    assert len(await inbox_of(alice)) == (0 if header else 1)


async def _busy(server: Server, asker: TestUser, asked: TestUser) -> list[str]:
    async with dav_client(server.base_url, asker) as client:
        answer = await client.post(
            outbox(asker), content=freebusy_request(asker.email, (asked.email,)), headers={"content-type": CALDAV_TYPE}
        )
    data = parse(answer).findtext(".//C:calendar-data", namespaces=NS) or ""
    [reply] = icalendar.Calendar.from_ical(data).walk("VFREEBUSY")
    return [p.to_ical().decode() for p in ([reply["FREEBUSY"]] if "FREEBUSY" in reply else [])]


async def test_transparent_calendar_leaves_its_owner_free(server: Server, org: TestOrg) -> None:
    alice, bob = await make_user(org), await make_user(org)
    transp = propfind_body("C:schedule-calendar-transp")
    async with dav_client(server.base_url, bob) as client:
        await client.put(
            calendar_path(bob) + "busy.ics", content=event(start=START), headers={"content-type": CALDAV_TYPE}
        )
        before = await client.request("PROPFIND", calendar_path(bob), headers={"depth": "0"}, content=transp)
    busy_before = await _busy(server, alice, bob)
    async with dav_client(server.base_url, bob) as client:
        changed = await client.request("PROPPATCH", calendar_path(bob), content=TRANSPARENT)
        after = await client.request("PROPFIND", calendar_path(bob), headers={"depth": "0"}, content=transp)
    assert parse(before).find(".//C:schedule-calendar-transp/C:opaque", NS) is not None
    assert changed.status_code == 207 and "200 OK" in changed.text
    assert parse(after).find(".//C:schedule-calendar-transp/C:transparent", NS) is not None
    assert busy_before == ["20270607T090000Z/20270607T100000Z"]
    assert await _busy(server, alice, bob) == []
