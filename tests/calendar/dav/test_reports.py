"""The REPORTs with raw requests: calendar-query filters (component, time range,
text-match on SUMMARY and UID), expansion and its cap, endless rules that must not
hang, multigets, addressbook-query, sync-collection tokens and free/busy."""

from __future__ import annotations

import time
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import httpx

from hexagone.calendar.models import Access, CollectionKind
from hexagone.calendar.service import collections
from hexagone.core.db import org_session
from tests.calendar.dav.helpers import (
    CALDAV_TYPE,
    NS,
    ROOT,
    VCARD_TYPE,
    book_path,
    calendar_path,
    calendar_query,
    condition,
    dav_client,
    hrefs,
    parse,
    sync_body,
)
from tests.calendar.factories import contact, event
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user, principal

MARCH = datetime(2027, 3, 1, tzinfo=UTC)
VEVENT_IN_MARCH_WEEK = (
    '<C:comp-filter name="VEVENT"><C:time-range start="20270301T000000Z" end="20270308T000000Z"/></C:comp-filter>'
)


async def _member(server: Server, org: TestOrg) -> tuple[TestUser, httpx.AsyncClient]:
    user = await make_user(org)
    me = await principal(user)
    async with org_session(me.org_id, write=True) as db:
        await collections.ensure_defaults(db, me)
        await db.commit()
    return user, dav_client(server.base_url, user)


async def _put(client: httpx.AsyncClient, path: str, body: str, kind: str = CALDAV_TYPE) -> None:
    response = await client.put(path, content=body, headers={"content-type": kind})
    assert response.status_code == 201, response.text


def _names(response: httpx.Response) -> list[str]:
    return sorted(h.rsplit("/", 1)[1] for h in hrefs(response))


def _todo(uid: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//FR\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDUE:20270302T120000Z\r\nSUMMARY:Tâche\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )


async def test_calendar_query_time_range_and_component(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    async with client:
        base = calendar_path(user)
        await _put(client, base + "in.ics", event(uid="in", start=MARCH + timedelta(days=2)))
        await _put(client, base + "out.ics", event(uid="out", start=MARCH + timedelta(days=30)))
        await _put(
            client, base + "weekly.ics", event(uid="weekly", start=MARCH - timedelta(days=60), rrule={"FREQ": "WEEKLY"})
        )
        await _put(client, base + "task.ics", _todo("task"))
        events = await client.request("REPORT", base, content=calendar_query(VEVENT_IN_MARCH_WEEK))
        todos = await client.request("REPORT", base, content=calendar_query('<C:comp-filter name="VTODO"/>'))
        everything = await client.request("REPORT", base, content=calendar_query(""))
    assert events.status_code == 207
    assert _names(events) == ["in.ics", "weekly.ics"]
    assert _names(todos) == ["task.ics"]
    assert _names(everything) == ["in.ics", "out.ics", "task.ics", "weekly.ics"]
    assert "BEGIN:VCALENDAR" in events.text


async def test_calendar_query_text_match_on_summary_and_uid(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)

    def match(prop: str, text: str, negate: str = "no") -> str:
        return (
            f'<C:comp-filter name="VEVENT"><C:prop-filter name="{prop}">'
            f'<C:text-match negate-condition="{negate}">{text}</C:text-match></C:prop-filter></C:comp-filter>'
        )

    async with client:
        base = calendar_path(user)
        await _put(client, base + "a.ics", event(uid="alpha@x", summary="Comité de pilotage"))
        await _put(client, base + "b.ics", event(uid="beta@x", summary="Déjeuner"))
        summary = await client.request("REPORT", base, content=calendar_query(match("SUMMARY", "COMITÉ")))
        ascii_case = await client.request("REPORT", base, content=calendar_query(match("SUMMARY", "pilotage")))
        uid = await client.request("REPORT", base, content=calendar_query(match("UID", "beta@x")))
        negated = await client.request("REPORT", base, content=calendar_query(match("SUMMARY", "comité", "yes")))
        bad = await client.request(
            "REPORT",
            base,
            content=calendar_query(
                match("SUMMARY", "x").replace("<C:text-match", '<C:text-match collation="i;klingon"')
            ),
        )
    assert _names(summary) == ["a.ics"]
    assert _names(ascii_case) == ["a.ics"]
    assert _names(uid) == ["b.ics"]
    assert _names(negated) == ["b.ics"]
    assert (bad.status_code, condition(bad)) == (403, "C:supported-collation")


async def test_calendar_query_endless_hourly_rule_far_away_answers_quickly(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    far = '<C:comp-filter name="VEVENT"><C:time-range start="20870301T000000Z" end="20870302T000000Z"/></C:comp-filter>'
    async with client:
        base = calendar_path(user)
        await _put(client, base + "hourly.ics", event(uid="hourly", rrule={"FREQ": "HOURLY"}))
        started = time.monotonic()
        found = await client.request("REPORT", base, content=calendar_query(far))
        elapsed = time.monotonic() - started
    assert _names(found) == ["hourly.ics"]
    assert elapsed < 5


async def test_calendar_query_expand_returns_instances_in_utc(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    expand = (
        '<D:getetag/><C:calendar-data><C:expand start="20270301T000000Z" end="20270304T000000Z"/></C:calendar-data>'
    )
    filt = (
        '<C:comp-filter name="VEVENT"><C:time-range start="20270301T000000Z" end="20270304T000000Z"/></C:comp-filter>'
    )
    async with client:
        base = calendar_path(user)
        await _put(client, base + "daily.ics", event(uid="daily", rrule={"FREQ": "DAILY"}))
        found = await client.request("REPORT", base, content=calendar_query(filt, expand))
    data = parse(found).findtext(".//C:calendar-data", namespaces=NS) or ""
    assert data.count("BEGIN:VEVENT") == 3
    assert "RRULE" not in data
    assert "RECURRENCE-ID:20270302T090000Z" in data


async def test_calendar_query_expand_of_too_many_instances_is_refused(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    expand = '<C:calendar-data><C:expand start="20270301T000000Z" end="20470301T000000Z"/></C:calendar-data>'
    async with client:
        base = calendar_path(user)
        await _put(client, base + "hourly.ics", event(uid="hourly", rrule={"FREQ": "HOURLY"}))
        started = time.monotonic()
        refused = await client.request("REPORT", base, content=calendar_query('<C:comp-filter name="VEVENT"/>', expand))
        elapsed = time.monotonic() - started
    assert (refused.status_code, condition(refused)) == (403, "C:max-instances")
    assert elapsed < 5


async def test_calendar_multiget_returns_what_exists_and_404_for_the_rest(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    async with client:
        base = calendar_path(user)
        await _put(client, base + "a.ics", event())
        body = (
            '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            f"<D:href>{base}a.ics</D:href><D:href>{base}missing.ics</D:href><D:href>/elsewhere/x.ics</D:href>"
            "</C:calendar-multiget>"
        )
        found = await client.request("REPORT", base, content=body)
    responses = {
        r.findtext("D:href", namespaces=NS): r.findtext(".//D:status", namespaces=NS)
        for r in parse(found).findall("D:response", NS)
    }
    assert responses == {
        base + "a.ics": "HTTP/1.1 200 OK",
        base + "missing.ics": "HTTP/1.1 404 Not Found",
        "/elsewhere/x.ics": "HTTP/1.1 404 Not Found",
    }


async def test_addressbook_query_and_multiget(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)

    def query(prop: str, text: str, match_type: str = "contains") -> str:
        return (
            '<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
            "<D:prop><D:getetag/><CR:address-data/></D:prop><CR:filter>"
            f'<CR:prop-filter name="{prop}"><CR:text-match match-type="{match_type}">{text}</CR:text-match>'
            "</CR:prop-filter></CR:filter></CR:addressbook-query>"
        )

    async with client:
        base = book_path(user)
        await _put(client, base + "e.vcf", contact(name="Éloïse Dupré", emails=("eloise@partner.test",)), VCARD_TYPE)
        await _put(client, base + "m.vcf", contact(name="Marc Petit", emails=("marc@other.test",)), VCARD_TYPE)
        by_name = await client.request("REPORT", base, content=query("FN", "éloïse"))
        by_email = await client.request("REPORT", base, content=query("EMAIL", "other.test", "ends-with"))
        exact = await client.request("REPORT", base, content=query("FN", "Marc", "equals"))
        multiget = await client.request(
            "REPORT",
            base,
            content=(
                '<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
                f"<D:prop><CR:address-data/></D:prop><D:href>{base}m.vcf</D:href></CR:addressbook-multiget>"
            ),
        )
    assert _names(by_name) == ["e.vcf"]
    assert "BEGIN:VCARD" in by_name.text
    assert _names(by_email) == ["m.vcf"]
    assert _names(exact) == []
    assert _names(multiget) == ["m.vcf"] and "Marc Petit" in multiget.text


async def test_sync_collection_initial_incremental_and_invalid_tokens(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    async with client:
        base = calendar_path(user)
        await _put(client, base + "a.ics", event())
        await _put(client, base + "b.ics", event())
        initial = await client.request("REPORT", base, content=sync_body())
        token = parse(initial).findtext("D:sync-token", namespaces=NS) or ""
        await client.delete(base + "a.ics")
        await _put(client, base + "c.ics", event())
        later = await client.request("REPORT", base, content=sync_body(token))
        nothing = await client.request(
            "REPORT", base, content=sync_body(parse(later).findtext("D:sync-token", namespaces=NS) or "")
        )
        invalid = [
            await client.request("REPORT", base, content=sync_body(bad))
            for bad in (
                "garbage",
                token.replace(token.rsplit(":", 1)[1], "999999"),
                f"urn:hexagone:sync:{uuid.uuid4().hex}:1",
            )
        ]
        other_book = await client.request("REPORT", book_path(user), content=sync_body(token))
    assert _names(initial) == ["a.ics", "b.ics"]
    statuses = {
        r.findtext("D:href", namespaces=NS).rsplit("/", 1)[1]: r.findtext("D:status", namespaces=NS)
        for r in parse(later).findall("D:response", NS)
    }
    assert statuses == {"c.ics": None, "a.ics": "HTTP/1.1 404 Not Found"}
    assert _names(nothing) == []
    assert [(r.status_code, condition(r)) for r in invalid] == [(403, "D:valid-sync-token")] * 3
    assert (other_book.status_code, condition(other_book)) == (403, "D:valid-sync-token")


async def test_free_busy_query_honours_transparency_cancellation_and_tentative(server: Server, org: TestOrg) -> None:
    owner, client = await _member(server, org)
    viewer = await make_user(org)
    owner_principal = await principal(owner)
    async with org_session(org.id, write=True) as db:
        [mine] = await collections.visible(db, owner_principal, CollectionKind.CALENDAR)
        await collections.share(db, owner_principal, mine.collection.id, user_id=viewer.id, access=Access.FREEBUSY)
        await db.commit()
    body = (
        '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
        '<C:time-range start="20270301T000000Z" end="20270302T000000Z"/></C:free-busy-query>'
    )

    def at(hour: int, extra: str = "") -> str:
        text = event(start=MARCH + timedelta(hours=hour))
        return text.replace("SUMMARY:", f"{extra}SUMMARY:") if extra else text

    async with client:
        base = calendar_path(owner)
        await _put(client, base + "busy.ics", at(9))
        await _put(client, base + "overlap.ics", at(9).replace("DTEND:20270301T100000Z", "DTEND:20270301T110000Z"))
        await _put(client, base + "free.ics", at(12, "TRANSP:TRANSPARENT\r\n"))
        await _put(client, base + "cancelled.ics", at(14, "STATUS:CANCELLED\r\n"))
        await _put(client, base + "maybe.ics", at(16, "STATUS:TENTATIVE\r\n"))
    shared_path = f"{ROOT}calendars/{viewer.id}/{mine.collection.id.hex}/"
    async with dav_client(server.base_url, viewer) as other:
        answer = await other.request("REPORT", shared_path, content=body)
        query = await other.request("REPORT", shared_path, content=calendar_query(""))
        read = await other.get(shared_path + "busy.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    lines = answer.text.replace("\r\n ", "").replace(";VALUE=PERIOD", "").splitlines()  # PERIOD: the default
    assert [line for line in lines if line.startswith("FREEBUSY")] == [
        "FREEBUSY;FBTYPE=BUSY:20270301T090000Z/20270301T110000Z",
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270301T160000Z/20270301T170000Z",
    ]
    assert query.status_code == 403
    assert read.status_code == 403


async def test_sync_collection_with_a_limit_pages_through_the_changes(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    limited = sync_body().replace("<D:prop>", "<D:limit><D:nresults>2</D:nresults></D:limit><D:prop>")
    async with client:
        base = calendar_path(user)
        for name in ("a", "b", "c"):
            await _put(client, f"{base}{name}.ics", event())
        first = await client.request("REPORT", base, content=limited)
        token = parse(first).findtext("D:sync-token", namespaces=NS) or ""
        second = await client.request(
            "REPORT",
            base,
            content=limited.replace("<D:sync-token></D:sync-token>", f"<D:sync-token>{token}</D:sync-token>"),
        )
    assert _names(first) == ["", "a.ics", "b.ics"]  # "": the collection itself, 507 (more to come)
    assert "number-of-matches-within-limits" in first.text
    assert _names(second) == ["c.ics"]


async def test_calendar_query_expand_writes_a_single_event_in_utc(server: Server, org: TestOrg) -> None:
    user, client = await _member(server, org)
    expand = '<C:calendar-data><C:expand start="20270301T000000Z" end="20270302T000000Z"/></C:calendar-data>'
    paris = event(uid="paris", start=datetime(2027, 3, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))
    async with client:
        await _put(client, calendar_path(user) + "paris.ics", paris)
        found = await client.request("REPORT", calendar_path(user), content=calendar_query("", expand))
    data = parse(found).findtext(".//C:calendar-data", namespaces=NS) or ""
    assert "DTSTART:20270301T080000Z" in data
    assert "TZID" not in data
