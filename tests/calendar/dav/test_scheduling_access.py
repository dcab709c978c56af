"""Who reaches the scheduling inbox and outbox (RFC 6638), and what bad input gets.

Every kind of caller: anonymous, wrong password, guest (password and session), the
owner, a colleague, an administrator, an API token, a session owing its second factor,
a session without its CSRF token, a member of another organisation and of one that does
not subscribe to calendar. A box is its owner's only: anybody else gets 404 (nothing
tells whether it exists). Bad input to the outbox answers 4xx with the CalDAV
precondition RFC 6638 and RFC 4791 name."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest

from tests.calendar.dav.helpers import (
    CALDAV_TYPE,
    NS,
    ROOT,
    calendar_path,
    condition,
    dav_client,
    hrefs,
    parse,
    propfind_body,
    sync_body,
)
from tests.calendar.factories import event, make_calendar_org
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, csrf_token, login, make_org, make_user
from tests.mail.api.helpers import token_for

START = datetime(2027, 6, 7, 8, 0, tzinfo=UTC)
DEPTH1 = {"depth": "1"}


def inbox(user: TestUser) -> str:
    return f"{ROOT}schedule/{user.id}/inbox/"


def outbox(user: TestUser) -> str:
    return f"{ROOT}schedule/{user.id}/outbox/"


def freebusy_request(organizer: str, attendees: tuple[str, ...], *, method: str | None = "REQUEST") -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//tests//FR")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    query = icalendar.FreeBusy()
    query.add("uid", str(uuid.uuid4()))
    query.add("dtstamp", START)
    query.add("dtstart", START)
    query.add("dtend", START + timedelta(hours=8))
    query.add("organizer", f"mailto:{organizer}")
    for address in attendees:
        query.add("attendee", f"mailto:{address}")
    calendar.add_component(query)
    return calendar.to_ical().decode()


async def _invite(server: Server, organiser: TestUser, attendee: TestUser, summary: str = "Revue") -> None:
    text = event(
        uid=f"{uuid.uuid4()}@tests",
        summary=summary,
        start=START,
        organizer=organiser.email,
        attendees=(attendee.email,),
    )
    async with dav_client(server.base_url, organiser) as client:
        put = await client.put(
            calendar_path(organiser) + f"{uuid.uuid4()}.ics", content=text, headers={"content-type": CALDAV_TYPE}
        )
    assert put.status_code == 201


async def _messages(server: Server, user: TestUser) -> list[str]:
    async with dav_client(server.base_url, user) as client:
        listed = await client.request("PROPFIND", inbox(user), headers=DEPTH1, content=propfind_body("D:getetag"))
    assert listed.status_code == 207
    return [h for h in hrefs(listed) if h != inbox(user)]


@pytest.fixture
async def owner_with_message(server: Server, org: TestOrg) -> tuple[TestUser, str]:
    owner, colleague = await make_user(org), await make_user(org)
    await _invite(server, colleague, owner)
    [message] = await _messages(server, owner)
    return owner, message


# --- who ------------------------------------------------------------------------------------------


async def test_mailbox_anonymous_gets_401(server: Server, owner_with_message: tuple[TestUser, str]) -> None:
    owner, message = owner_with_message
    async with dav_client(server.base_url) as client:
        statuses = [
            (await client.request("PROPFIND", inbox(owner), headers=DEPTH1)).status_code,
            (await client.get(message)).status_code,
            (await client.post(outbox(owner), content=freebusy_request(owner.email, (owner.email,)))).status_code,
        ]
    assert statuses == [401, 401, 401]


async def test_mailbox_wrong_password_and_guest_password_get_401(server: Server, org: TestOrg) -> None:
    owner, guest = await make_user(org), await make_user(org, role="guest")
    async with dav_client(server.base_url, owner, password="wrong-password") as client:
        wrong = await client.request("PROPFIND", inbox(owner), headers=DEPTH1)
    async with dav_client(server.base_url, guest) as client:
        as_guest = await client.request("PROPFIND", inbox(guest), headers=DEPTH1)
    assert (wrong.status_code, as_guest.status_code) == (401, 401)


async def test_mailbox_guest_session_gets_404(server: Server, org: TestOrg) -> None:
    guest = await make_user(org, role="guest")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, guest)
        token = await csrf_token(browser, "/")
        listed = await browser.request("PROPFIND", inbox(guest), headers={**DEPTH1, "x-csrf-token": token})
        posted = await browser.post(
            outbox(guest),
            content=freebusy_request(guest.email, (guest.email,)),
            headers={"content-type": CALDAV_TYPE, "x-csrf-token": token},
        )
    assert (listed.status_code, posted.status_code) == (404, 404)


@pytest.mark.parametrize("role", ["user", "admin"])
async def test_mailbox_owner_lists_reads_and_deletes_their_messages(server: Server, org: TestOrg, role: str) -> None:
    owner, colleague = await make_user(org, role=role), await make_user(org)
    await _invite(server, colleague, owner, "Comité")
    [message] = await _messages(server, owner)
    async with dav_client(server.base_url, owner) as client:
        read = await client.get(message)
        gone = await client.delete(message)
        again = await client.get(message)
    assert read.status_code == 200 and "METHOD:REQUEST" in read.text and "Comité" in read.text
    assert read.headers["content-type"].startswith("text/calendar")
    assert (gone.status_code, again.status_code) == (204, 404)
    assert await _messages(server, owner) == []


@pytest.mark.parametrize("role", ["user", "admin"])
async def test_mailbox_of_a_colleague_answers_404_even_to_an_administrator(
    server: Server, org: TestOrg, owner_with_message: tuple[TestUser, str], role: str
) -> None:
    owner, message = owner_with_message
    other = await make_user(org, role=role)
    async with dav_client(server.base_url, other) as client:
        statuses = [
            (await client.request("PROPFIND", inbox(owner), headers=DEPTH1)).status_code,
            (await client.request("PROPFIND", outbox(owner), headers=DEPTH1)).status_code,
            (await client.get(message)).status_code,
            (await client.delete(message)).status_code,
            (
                await client.post(
                    outbox(owner),
                    content=freebusy_request(owner.email, (other.email,)),
                    headers={"content-type": CALDAV_TYPE},
                )
            ).status_code,
            (await client.request("REPORT", inbox(owner), content=sync_body())).status_code,
        ]
    assert statuses == [404] * 6
    assert await _messages(server, owner) == [message]


async def test_mailbox_of_another_organisation_answers_404(
    server: Server, owner_with_message: tuple[TestUser, str]
) -> None:
    owner, message = owner_with_message
    stranger = await make_user(await make_calendar_org())
    async with dav_client(server.base_url, stranger) as client:
        statuses = [
            (await client.request("PROPFIND", inbox(owner), headers=DEPTH1)).status_code,
            (await client.get(message)).status_code,
            (await client.delete(message)).status_code,
        ]
    assert statuses == [404, 404, 404]


async def test_mailbox_api_token_gets_401(server: Server, org: TestOrg) -> None:
    owner = await make_user(org)
    token = await token_for(server.base_url, owner)
    async with dav_client(server.base_url) as client:
        response = await client.request(
            "PROPFIND", inbox(owner), headers={**DEPTH1, "authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401


async def test_mailbox_mfa_pending_session_is_sent_to_the_second_factor(server: Server, org: TestOrg) -> None:
    owner = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, owner, second_factor=False)
        token = await csrf_token(browser, "/login/mfa")
        response = await browser.request("PROPFIND", inbox(owner), headers={**DEPTH1, "x-csrf-token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login/mfa"


async def test_mailbox_session_posts_to_the_outbox_with_its_csrf_token_only(server: Server, org: TestOrg) -> None:
    owner = await make_user(org)
    body = freebusy_request(owner.email, (owner.email,))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as browser:
        await login(browser, owner)
        forged = await browser.post(outbox(owner), content=body, headers={"content-type": CALDAV_TYPE})
        token = await csrf_token(browser, "/")
        allowed = await browser.post(
            outbox(owner), content=body, headers={"content-type": CALDAV_TYPE, "x-csrf-token": token}
        )
    assert forged.status_code == 403
    assert allowed.status_code == 200 and "2.0;Success" in allowed.text


async def test_mailbox_unsubscribed_organisation_is_refused(server: Server) -> None:
    user = await make_user(await make_org(modules=("mail",)))
    async with dav_client(server.base_url, user) as client:
        assert (await client.request("PROPFIND", inbox(user), headers=DEPTH1)).status_code == 401


# --- what the boxes say -----------------------------------------------------------------------------


async def test_mailbox_inbox_properties_name_the_default_calendar_and_sync(server: Server, org: TestOrg) -> None:
    owner = await make_user(org)
    async with dav_client(server.base_url, owner) as client:
        found = await client.request(
            "PROPFIND",
            inbox(owner),
            headers={"depth": "0"},
            content=propfind_body(
                "D:resourcetype", "D:sync-token", "C:schedule-default-calendar-URL", "D:current-user-privilege-set"
            ),
        )
        box = await client.request(
            "PROPFIND", outbox(owner), headers={"depth": "0"}, content=propfind_body("D:resourcetype")
        )
    root = parse(found)
    assert root.find(".//D:resourcetype/C:schedule-inbox", NS) is not None
    assert root.findtext(".//C:schedule-default-calendar-URL/D:href", namespaces=NS) == calendar_path(owner)
    assert (root.findtext(".//D:sync-token", namespaces=NS) or "").endswith(f"{owner.id.hex}:0")
    assert root.find(".//D:privilege/C:schedule-deliver", NS) is not None
    assert parse(box).find(".//D:resourcetype/C:schedule-outbox", NS) is not None


async def test_mailbox_sync_collection_gives_new_and_deleted_messages(server: Server, org: TestOrg) -> None:
    owner, colleague = await make_user(org), await make_user(org)
    await _invite(server, colleague, owner, "Un")
    async with dav_client(server.base_url, owner) as client:
        initial = await client.request("REPORT", inbox(owner), content=sync_body())
        token = parse(initial).findtext("D:sync-token", namespaces=NS) or ""
        [first] = hrefs(initial)
        await _invite(server, colleague, owner, "Deux")
        assert (await client.delete(first)).status_code == 204
        later = await client.request(
            "REPORT",
            inbox(owner),
            content=sync_body(token, '<D:getetag/><C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"/>'),
        )
    statuses = {
        r.findtext("D:href", namespaces=NS): r.findtext("D:status", namespaces=NS)
        for r in parse(later).findall("D:response", NS)
    }
    data = "".join(e.text or "" for e in parse(later).iter("{urn:ietf:params:xml:ns:caldav}calendar-data"))
    assert statuses[first] == "HTTP/1.1 404 Not Found"
    assert len(statuses) == 2 and "Deux" in data


async def test_mailbox_calendar_query_and_multiget_read_messages(server: Server, org: TestOrg) -> None:
    owner, colleague = await make_user(org), await make_user(org)
    await _invite(server, colleague, owner, "Requête")
    [message] = await _messages(server, owner)
    query = (
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>'
        "</C:calendar-query>"
    )
    multiget = (
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>'
        f"<D:href>{message}</D:href><D:href>{inbox(owner)}missing.ics</D:href></C:calendar-multiget>"
    )
    async with dav_client(server.base_url, owner) as client:
        found = await client.request("REPORT", inbox(owner), content=query)
        fetched = await client.request("REPORT", inbox(owner), content=multiget)
    assert hrefs(found) == [message] and "Requête" in found.text
    assert hrefs(fetched) == [message, f"{inbox(owner)}missing.ics"]
    assert "404" in fetched.text


# --- bad input ----------------------------------------------------------------------------------------


async def _post(server: Server, user: TestUser, body: bytes | str, content_type: str = CALDAV_TYPE) -> httpx.Response:
    async with dav_client(server.base_url, user) as client:
        return await client.post(outbox(user), content=body, headers={"content-type": content_type})


@pytest.mark.parametrize(
    "content_type", ["application/xml", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
async def test_outbox_wrong_content_type_is_refused_with_supported_calendar_data(
    server: Server, org: TestOrg, content_type: str
) -> None:
    """Also what a cross-site form could post with credentials a browser remembered."""
    owner = await make_user(org)
    response = await _post(server, owner, freebusy_request(owner.email, (owner.email,)), content_type)
    assert response.status_code == 403
    assert condition(response) == "C:supported-calendar-data"


@pytest.mark.parametrize("body", [b"not a calendar", b"BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\n", b"\xff\xfe\x00"])
async def test_outbox_malformed_body_is_refused_with_valid_calendar_data(
    server: Server, org: TestOrg, body: bytes
) -> None:
    owner = await make_user(org)
    response = await _post(server, owner, body)
    assert response.status_code == 403
    assert condition(response) == "C:valid-calendar-data"


@pytest.mark.parametrize("method", [None, "REPLY", "PUBLISH"])
async def test_outbox_without_method_request_is_refused_with_valid_scheduling_message(
    server: Server, org: TestOrg, method: str | None
) -> None:
    owner = await make_user(org)
    response = await _post(server, owner, freebusy_request(owner.email, (owner.email,), method=method))
    assert response.status_code == 403
    assert condition(response) == "C:valid-scheduling-message"


async def test_outbox_event_or_missing_parts_are_refused_with_valid_scheduling_message(
    server: Server, org: TestOrg
) -> None:
    owner = await make_user(org)
    invitation = event(organizer=owner.email, attendees=(owner.email,)).replace(
        "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST"
    )
    no_attendee = freebusy_request(owner.email, ())
    too_long = freebusy_request(owner.email, (owner.email,)).replace("DTEND:20270607T160000Z", "DTEND:20290607T160000Z")
    crowd = freebusy_request(owner.email, tuple(f"p{i}@elsewhere.test" for i in range(51)))
    responses = [await _post(server, owner, body) for body in (invitation, no_attendee, too_long, crowd)]
    assert [(r.status_code, condition(r)) for r in responses] == [(403, "C:valid-scheduling-message")] * 4


async def test_outbox_request_as_someone_else_is_refused_with_valid_organizer(server: Server, org: TestOrg) -> None:
    owner, colleague = await make_user(org), await make_user(org)
    response = await _post(server, owner, freebusy_request(colleague.email, (colleague.email,)))
    assert response.status_code == 403
    assert condition(response) == "C:valid-organizer"


async def test_mailbox_writes_and_wrong_methods_are_refused(server: Server, org: TestOrg) -> None:
    owner = await make_user(org)
    async with dav_client(server.base_url, owner) as client:
        put = await client.put(inbox(owner) + "x.ics", content=event(), headers={"content-type": CALDAV_TYPE})
        post = await client.post(inbox(owner), content=freebusy_request(owner.email, (owner.email,)))
        mkcol = await client.request("MKCALENDAR", f"{ROOT}schedule/{owner.id}/other/")
        proppatch = await client.request("PROPPATCH", inbox(owner), content="<D:propertyupdate xmlns:D='DAV:'/>")
        report = await client.request("REPORT", outbox(owner), content=sync_body())
        infinity = await client.request("PROPFIND", inbox(owner), headers={"depth": "infinity"})
        malformed = await client.request("PROPFIND", inbox(owner), content="<D:propfind")
        token = await client.request("REPORT", inbox(owner), content=sync_body("urn:hexagone:sync:nope:1"))
        future = await client.request("REPORT", inbox(owner), content=sync_body(f"urn:hexagone:sync:{owner.id.hex}:99"))
        missing = await client.get(inbox(owner) + "missing.ics")
    assert (put.status_code, condition(put)) == (403, "D:need-privileges")
    assert post.status_code == 405
    assert mkcol.status_code == 404
    assert (proppatch.status_code, condition(proppatch)) == (403, "D:need-privileges")
    assert (report.status_code, condition(report)) == (403, "D:supported-report")
    assert (infinity.status_code, condition(infinity)) == (403, "D:propfind-finite-depth")
    assert malformed.status_code == 400
    assert [(r.status_code, condition(r)) for r in (token, future)] == [(403, "D:valid-sync-token")] * 2
    assert missing.status_code == 404


async def test_mailbox_delete_with_a_stale_etag_is_refused(
    server: Server, owner_with_message: tuple[TestUser, str]
) -> None:
    owner, message = owner_with_message
    async with dav_client(server.base_url, owner) as client:
        stale = await client.delete(message, headers={"if-match": '"0123"'})
    assert stale.status_code == 412
    assert await _messages(server, owner) == [message]
