"""CalDAV scheduling (RFC 6638) with the ``caldav`` library, a client nobody here wrote:
it finds the scheduling inbox and outbox from the principal, invites a colleague with
``save_with_invites``, reads the invitation in the colleague's inbox and accepts it from
there, sees the answer come back into the organiser's event and inbox, syncs and empties
the inbox, and asks free/busy through the outbox."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import caldav
import icalendar
import pytest
from caldav.calendarobjectresource import FreeBusy

from hexagone.calendar import ical
from hexagone.calendar.service import itip
from tests.calendar.dav.helpers import NS
from tests.calendar.factories import event
from tests.calendar.scheduling.helpers import attendee_props
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user

MAY = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


def _client(server: Server, user: TestUser) -> caldav.DAVClient:
    return caldav.DAVClient(url=server.base_url + "/", username=user.email, password=user.password)


def _meeting(uid: str, summary: str = "Point projet", start: datetime = MAY) -> str:
    return event(uid=uid, summary=summary, start=start)


def _params(calendar: icalendar.Calendar, address: str) -> dict[str, str]:
    for prop in attendee_props(calendar):
        if ical.mailto_address(prop) == address:
            return {k: str(v) for k, v in prop.params.items()}
    raise AssertionError(f"{address} is not an attendee")


@pytest.fixture
async def pair(org: TestOrg) -> tuple[TestUser, TestUser]:
    return await make_user(org), await make_user(org)


async def test_scheduling_principal_gives_inbox_outbox_and_addresses(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    with _client(server, user) as client:
        principal = client.principal()
        assert client.check_scheduling_support()
        inbox, outbox = principal.schedule_inbox(), principal.schedule_outbox()
        addresses = principal.calendar_user_address_set()
        kind = principal.get_property(caldav.elements.cdav.CalendarUserType())
    assert str(inbox.url).endswith(f"/calendar/dav/schedule/{user.id}/inbox/")
    assert str(outbox.url).endswith(f"/calendar/dav/schedule/{user.id}/outbox/")
    assert addresses[0] == f"mailto:{user.email}"
    assert kind == "INDIVIDUAL"


async def test_scheduling_invitation_lands_in_the_inbox_and_calendar_and_is_accepted_from_the_inbox(
    server: Server, pair: tuple[TestUser, TestUser]
) -> None:
    alice, bob = pair
    uid = f"{uuid.uuid4()}@tests"
    with _client(server, alice) as organiser, _client(server, bob) as attendee:
        work = organiser.principal().calendars()[0]
        work.save_with_invites(_meeting(uid), [f"mailto:{bob.email}"])
        [invitation] = attendee.principal().schedule_inbox().get_items()
        assert invitation.is_invite_request()
        assert str(invitation.icalendar_instance.walk("VEVENT")[0]["UID"]) == uid
        copy = attendee.principal().calendars()[0].event_by_uid(uid)
        assert str(copy.icalendar_component["SUMMARY"]) == "Point projet"
        sent = work.event_by_uid(uid).icalendar_instance
        assert _params(sent, bob.email)["SCHEDULE-STATUS"] == itip.DELIVERED

        invitation.accept_invite()

        answered = work.event_by_uid(uid).icalendar_instance
        [reply] = organiser.principal().schedule_inbox().get_items()
        reply.load()
    assert _params(answered, bob.email)["PARTSTAT"] == "ACCEPTED"
    assert reply.is_invite_reply()
    assert _params(reply.icalendar_instance, bob.email)["PARTSTAT"] == "ACCEPTED"


async def test_scheduling_inbox_messages_are_deleted_and_the_sync_reports_it(
    server: Server, pair: tuple[TestUser, TestUser]
) -> None:
    alice, bob = pair
    with _client(server, alice) as organiser, _client(server, bob) as attendee:
        work = organiser.principal().calendars()[0]
        work.save_with_invites(_meeting(f"{uuid.uuid4()}@tests", "Premier"), [f"mailto:{bob.email}"])
        inbox = attendee.principal().schedule_inbox()
        initial = inbox.objects_by_sync_token(load_objects=False)
        [first] = list(initial)
        work.save_with_invites(_meeting(f"{uuid.uuid4()}@tests", "Second"), [f"mailto:{bob.email}"])
        first.delete()
        later = inbox.objects_by_sync_token(sync_token=initial.sync_token, load_objects=True)
        changed = {str(o.url).rsplit("/", 1)[1]: o for o in later}
        remaining = [str(o.icalendar_component["SUMMARY"]) for o in inbox.get_items()]
    assert str(first.url).rsplit("/", 1)[1] in changed  # reported gone
    assert remaining == ["Second"]


def _request(start: datetime, end: datetime) -> icalendar.Calendar:
    """A VFREEBUSY REQUEST as ``caldav``'s ``Principal.freebusy_request`` builds it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    query = icalendar.FreeBusy()
    query.add("uid", str(uuid.uuid4()))
    query.add("dtstamp", datetime.now(UTC))
    query.add("dtstart", start)
    query.add("dtend", end)
    calendar.add_component(query)
    return calendar


async def test_scheduling_freebusy_through_the_outbox_reports_a_colleagues_busy_time(
    server: Server, pair: tuple[TestUser, TestUser]
) -> None:
    """caldav 1.6's ``freebusy_request`` cannot read an RFC 6638 schedule-response (it
    takes it for a multistatus; caldav 2 reads it): its request is built and posted with
    the library's own parts, and the answer read here."""
    alice, bob = pair
    with _client(server, bob) as attendee:
        attendee.principal().calendars()[0].add_event(event(uid=f"{uuid.uuid4()}@tests", start=MAY))
    with _client(server, alice) as organiser:
        outbox = organiser.principal().schedule_outbox()
        request = FreeBusy(data=_request(MAY - timedelta(hours=1), MAY + timedelta(hours=3)), parent=outbox)
        request.add_organizer()
        for address in (f"mailto:{bob.email}", "mailto:nobody@elsewhere.test"):
            request.add_attendee(address, no_default_parameters=True)
        answer = organiser.post(str(outbox.url), request.data, headers={"Content-Type": "text/calendar; charset=utf-8"})
    assert answer.status == 200
    root = ElementTree.fromstring(answer.raw)
    found = {
        r.findtext("C:recipient/D:href", namespaces=NS): (
            r.findtext("C:request-status", namespaces=NS),
            r.findtext("C:calendar-data", namespaces=NS) or "",
        )
        for r in root.findall("C:response", NS)
    }
    status, data = found[f"mailto:{bob.email}"]
    [busy] = icalendar.Calendar.from_ical(data).walk("VFREEBUSY")
    assert status == "2.0;Success"
    assert busy["FREEBUSY"].to_ical().decode() == "20270503T090000Z/20270503T100000Z"
    assert found["mailto:nobody@elsewhere.test"] == ("3.7;Invalid calendar user", "")


TOOLS_PYTHON = Path(__file__).resolve().parents[3] / ".venv-tools" / "bin" / "python"
CALDAV3_FREEBUSY = """
import sys, datetime, caldav
url, user, password, attendee = sys.argv[1:]
start = datetime.datetime(2027, 5, 3, 8, tzinfo=datetime.timezone.utc)
with caldav.DAVClient(url=url, username=user, password=password) as client:
    answer = client.principal().freebusy_request(start, start + datetime.timedelta(hours=4), [attendee])
print(answer[attendee].icalendar_instance.walk("VFREEBUSY")[0]["FREEBUSY"].to_ical().decode())
"""


async def test_scheduling_freebusy_request_of_caldav_3_reads_the_schedule_response(
    server: Server, pair: tuple[TestUser, TestUser]
) -> None:
    """The same through ``Principal.freebusy_request`` of caldav 3 (the version
    caldav-server-tester needs, in its own environment)."""
    alice, bob = pair
    with _client(server, bob) as attendee:
        attendee.principal().calendars()[0].add_event(event(uid=f"{uuid.uuid4()}@tests", start=MAY))
    run = subprocess.run(
        [
            str(TOOLS_PYTHON),
            "-c",
            CALDAV3_FREEBUSY,
            server.base_url + "/",
            alice.email,
            alice.password,
            f"mailto:{bob.email}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip() == "20270503T090000Z/20270503T100000Z", run.stderr[-2000:]
