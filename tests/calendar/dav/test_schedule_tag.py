"""RFC 6638 3.2.10 on the wire: the Schedule-Tag of a scheduling object resource (GET,
HEAD, PUT, the ``C:schedule-tag`` property), which stays when the server only merges an
attendee's answer, and If-Schedule-Tag-Match on PUT and DELETE (an organiser's write
under it keeps the answers merged since the client read the event)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import caldav
import httpx
import icalendar
import pytest
from caldav.elements import cdav

from tests.calendar.dav.helpers import (
    CALDAV_TYPE,
    NS,
    calendar_path,
    calendar_query,
    dav_client,
    parse,
    propfind_body,
    sync_body,
)
from tests.calendar.factories import event
from tests.calendar.scheduling.helpers import copy_of, prop_of
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user

START = datetime(2027, 9, 6, 9, 0, tzinfo=UTC)
TYPE = {"content-type": CALDAV_TYPE}


async def _put(server: Server, user: TestUser, name: str, text: str, **headers: str) -> httpx.Response:
    async with dav_client(server.base_url, user) as client:
        return await client.put(calendar_path(user) + name, content=text, headers={**TYPE, **headers})


async def _get(server: Server, user: TestUser, name: str) -> httpx.Response:
    async with dav_client(server.base_url, user) as client:
        return await client.get(calendar_path(user) + name)


async def _meeting(server: Server, organiser: TestUser, attendee: TestUser) -> str:
    """The organiser's meeting.ics, with ``attendee`` invited; its UID."""
    uid = f"{uuid.uuid4()}@tests"
    text = event(uid=uid, start=START, organizer=organiser.email, attendees=(attendee.email,))
    assert (await _put(server, organiser, "meeting.ics", text)).status_code == 201
    return uid


def _answered(text: str, address: str, partstat: str) -> str:
    """``text`` with ``address``'s PARTSTAT set, as a client answering writes it."""
    calendar = icalendar.Calendar.from_ical(text)
    prop_of(calendar, address).params["PARTSTAT"] = partstat
    return str(calendar.to_ical().decode())


async def test_schedule_tag_given_on_put_get_and_head_of_a_scheduled_event_only(server: Server, org: TestOrg) -> None:
    alice, bob = await make_user(org), await make_user(org)
    created = await _put(
        server, alice, "meeting.ics", event(start=START, organizer=alice.email, attendees=(bob.email,))
    )
    plain = await _put(server, alice, "plain.ics", event(start=START))
    got = await _get(server, alice, "meeting.ics")
    async with dav_client(server.base_url, alice) as client:
        head = await client.head(calendar_path(alice) + "meeting.ics")
        plain_head = await client.head(calendar_path(alice) + "plain.ics")
    plain_get = await _get(server, alice, "plain.ics")
    assert created.status_code == 201 and plain.status_code == 201
    tag = created.headers["schedule-tag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2
    assert got.headers["schedule-tag"] == tag == head.headers["schedule-tag"]
    assert "schedule-tag" not in plain.headers
    assert "schedule-tag" not in plain_get.headers and "schedule-tag" not in plain_head.headers
    assert "etag" in plain_get.headers


async def test_schedule_tag_kept_when_an_answer_is_merged_and_changed_by_the_organiser(
    server: Server, org: TestOrg
) -> None:
    alice, bob = await make_user(org), await make_user(org)
    uid = await _meeting(server, alice, bob)
    before = await _get(server, alice, "meeting.ics")
    copy_before = await _get(server, bob, f"{uid}.ics")
    answered = await _put(
        server,
        bob,
        f"{uid}.ics",
        _answered(copy_before.text, bob.email, "ACCEPTED"),
        **{"if-schedule-tag-match": copy_before.headers["schedule-tag"]},
    )
    merged = await _get(server, alice, "meeting.ics")
    copy_after = await _get(server, bob, f"{uid}.ics")
    organised = await copy_of(alice, uid)
    assert answered.status_code == 204
    assert organised is not None and prop_of(organised, bob.email).params["PARTSTAT"] == "ACCEPTED"
    # The answer changed both copies (ETags) but neither schedule tag.
    assert merged.headers["etag"] != before.headers["etag"]
    assert merged.headers["schedule-tag"] == before.headers["schedule-tag"]
    assert copy_after.headers["etag"] != copy_before.headers["etag"]
    assert answered.headers["schedule-tag"] == copy_after.headers["schedule-tag"] == copy_before.headers["schedule-tag"]

    # The organiser's client, holding the text and tag from before the answer, may still
    # edit: the answer merged since is kept, in both copies.
    edited = await _put(
        server,
        alice,
        "meeting.ics",
        before.text.replace("SUMMARY:Réunion", "SUMMARY:Réunion déplacée"),
        **{"if-schedule-tag-match": before.headers["schedule-tag"]},
    )
    after = await _get(server, alice, "meeting.ics")
    copy_updated = await _get(server, bob, f"{uid}.ics")
    organised = await copy_of(alice, uid)
    attending = await copy_of(bob, uid)
    assert edited.status_code == 204
    assert "etag" not in edited.headers  # not stored as sent: the client fetches it
    assert edited.headers["schedule-tag"] == after.headers["schedule-tag"] != before.headers["schedule-tag"]
    assert "Réunion déplacée" in after.text.replace("\r\n ", "")
    assert organised is not None and prop_of(organised, bob.email).params["PARTSTAT"] == "ACCEPTED"
    assert attending is not None and prop_of(attending, bob.email).params["PARTSTAT"] == "ACCEPTED"
    # The organiser's update is news for the attendee: their copy's tag changes.
    assert "Réunion déplacée" in copy_updated.text.replace("\r\n ", "")
    assert copy_updated.headers["schedule-tag"] != copy_after.headers["schedule-tag"]


async def test_schedule_tag_changes_when_an_attendee_edits_more_than_their_answer(server: Server, org: TestOrg) -> None:
    alice, bob = await make_user(org), await make_user(org)
    uid = await _meeting(server, alice, bob)
    copy_before = await _get(server, bob, f"{uid}.ics")
    edited = await _put(server, bob, f"{uid}.ics", copy_before.text.replace("SUMMARY:Réunion", "SUMMARY:Autre"))
    assert edited.status_code == 204
    assert edited.headers["schedule-tag"] != copy_before.headers["schedule-tag"]


async def _conditional(
    server: Server, user: TestUser, method: str, before: httpx.Response, tag: str
) -> tuple[httpx.Response, httpx.Response]:
    """``method`` on meeting.ics (a PUT retitles it "Changé") under If-Schedule-Tag-Match
    ``tag``; its answer, and meeting.ics read again."""
    async with dav_client(server.base_url, user) as client:
        done = await client.request(
            method,
            calendar_path(user) + "meeting.ics",
            content=before.text.replace("SUMMARY:Réunion", "SUMMARY:Changé") if method == "PUT" else None,
            headers={**TYPE, "if-schedule-tag-match": tag},
        )
    return done, await _get(server, user, "meeting.ics")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_if_schedule_tag_match_mismatched_is_412_and_changes_nothing(
    server: Server, org: TestOrg, method: str
) -> None:
    alice, bob = await make_user(org), await make_user(org)
    await _meeting(server, alice, bob)
    before = await _get(server, alice, "meeting.ics")
    refused, after = await _conditional(server, alice, method, before, '"0123456789abcdef"')
    assert refused.status_code == 412
    assert after.status_code == 200
    assert after.headers["etag"] == before.headers["etag"]
    assert after.headers["schedule-tag"] == before.headers["schedule-tag"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_if_schedule_tag_match_matched_succeeds(server: Server, org: TestOrg, method: str) -> None:
    alice, bob = await make_user(org), await make_user(org)
    await _meeting(server, alice, bob)
    before = await _get(server, alice, "meeting.ics")
    done, after = await _conditional(server, alice, method, before, before.headers["schedule-tag"])
    assert done.status_code == 204
    if method == "PUT":
        assert "SUMMARY:Changé" in after.text
    else:
        assert after.status_code == 404


async def test_if_schedule_tag_match_on_a_plain_event_is_412(server: Server, org: TestOrg) -> None:
    alice = await make_user(org)
    text = event(start=START)
    await _put(server, alice, "plain.ics", text)
    etag = (await _get(server, alice, "plain.ics")).headers["etag"]
    refused = await _put(server, alice, "plain.ics", text, **{"if-schedule-tag-match": etag})
    assert refused.status_code == 412


def _tags(response: httpx.Response) -> dict[str, str | None]:
    """Each href's C:schedule-tag in a multistatus (None: listed as not found)."""
    found: dict[str, str | None] = {}
    for each in parse(response).findall("D:response", NS):
        href = (each.findtext("D:href", namespaces=NS) or "").rsplit("/", 1)[-1]
        for propstat in each.findall("D:propstat", NS):
            value = propstat.find("D:prop/C:schedule-tag", NS)
            if value is not None:
                ok = "200" in (propstat.findtext("D:status", namespaces=NS) or "")
                found[href] = (value.text or "") if ok else None
    return found


async def test_schedule_tag_property_in_propfind_and_reports(server: Server, org: TestOrg) -> None:
    alice, bob = await make_user(org), await make_user(org)
    await _meeting(server, alice, bob)
    await _put(server, alice, "plain.ics", event(start=START))
    tag = (await _get(server, alice, "meeting.ics")).headers["schedule-tag"]
    multiget = (
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:schedule-tag/></D:prop>'
        f"<D:href>{calendar_path(alice)}meeting.ics</D:href><D:href>{calendar_path(alice)}plain.ics</D:href>"
        "</C:calendar-multiget>"
    )
    async with dav_client(server.base_url, alice) as client:
        listing = await client.request(
            "PROPFIND", calendar_path(alice), headers={"depth": "1"}, content=propfind_body("C:schedule-tag")
        )
        one = await client.request(
            "PROPFIND",
            calendar_path(alice) + "meeting.ics",
            headers={"depth": "0"},
            content=propfind_body("C:schedule-tag"),
        )
        everything = await client.request(
            "PROPFIND",
            calendar_path(alice) + "meeting.ics",
            headers={"depth": "0"},
            content='<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
        )
        report = await client.request("REPORT", calendar_path(alice), headers={"depth": "1"}, content=multiget)
        query = await client.request(
            "REPORT",
            calendar_path(alice),
            headers={"depth": "1"},
            content=calendar_query('<C:comp-filter name="VEVENT"/>', "<C:schedule-tag/>"),
        )
        sync = await client.request(
            "REPORT",
            calendar_path(alice),
            content=sync_body(props='<C:schedule-tag xmlns:C="urn:ietf:params:xml:ns:caldav"/>'),
        )
    assert listing.status_code == one.status_code == report.status_code == 207
    assert _tags(query) == _tags(sync) == {"meeting.ics": tag, "plain.ics": None}
    assert _tags(listing)["meeting.ics"] == tag
    assert _tags(listing)["plain.ics"] is None
    assert _tags(one) == {"meeting.ics": tag}
    assert _tags(report) == {"meeting.ics": tag, "plain.ics": None}
    assert "schedule-tag" not in everything.text  # RFC 6638 9.3: not for allprop


def _client(server: Server, user: TestUser) -> caldav.DAVClient:
    return caldav.DAVClient(url=server.base_url + "/", username=user.email, password=user.password)


async def test_caldav_client_reads_the_schedule_tag_and_keeps_it_across_an_answer(server: Server, org: TestOrg) -> None:
    alice, bob = await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    with _client(server, alice) as client:
        calendar = client.principal().calendars()[0]
        saved = calendar.save_event(event(uid=uid, start=START, organizer=alice.email, attendees=(bob.email,)))
        loaded = calendar.event_by_uid(uid).load()
        header_tag = loaded.props[cdav.ScheduleTag.tag]
        property_tag = saved.get_property(cdav.ScheduleTag(), use_cached=False)
    with _client(server, bob) as client:
        invited = client.principal().calendars()[0].event_by_uid(uid)
        invited.change_attendee_status(attendee=f"mailto:{bob.email}", partstat="ACCEPTED")
        invited.save()
    with _client(server, alice) as client:
        again = client.principal().calendars()[0].event_by_uid(uid)
        after_answer = again.get_property(cdav.ScheduleTag(), use_cached=False)
        accepted = "PARTSTAT=ACCEPTED" in again.load().data.replace("\r\n ", "").replace("\n ", "")
    assert header_tag and header_tag == property_tag
    assert accepted
    assert after_answer == header_tag
