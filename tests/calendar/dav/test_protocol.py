"""Status codes and preconditions of the DAV methods, with raw requests: OPTIONS,
PROPFIND depths, PROPPATCH, MKCALENDAR and extended MKCOL, GET/HEAD/PUT/DELETE with
ETags, content types and the CalDAV/CardDAV preconditions of RFC 4791 5.3.2.1 and
RFC 6352 6.3.2.1, and bad input (malformed XML, an XML bomb, a body too large)."""

from __future__ import annotations

import httpx

from tests.calendar.dav.helpers import (
    CALDAV_TYPE,
    ROOT,
    VCARD_TYPE,
    book_path,
    calendar_path,
    condition,
    dav_client,
    hrefs,
    propfind_body,
)
from tests.calendar.factories import contact, event
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user

MKCALENDAR = (
    '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
    'xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Projets</D:displayname>'
    "<A:calendar-color>#ff0000ff</A:calendar-color>"
    '<C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>'
    "</D:prop></D:set></C:mkcalendar>"
)


async def _put(client: httpx.AsyncClient, path: str, body: str, **headers: str) -> httpx.Response:
    return await client.put(path, content=body, headers={"content-type": CALDAV_TYPE, **headers})


async def _user(org: TestOrg) -> TestUser:
    return await make_user(org)


async def test_options_announces_caldav_carddav_and_extended_mkcol(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.options(ROOT)
    assert response.status_code == 200
    assert {c.strip() for c in response.headers["dav"].split(",")} >= {
        "1",
        "3",
        "calendar-access",
        "addressbook",
        "extended-mkcol",
    }
    assert "REPORT" in response.headers["allow"]


async def test_well_known_redirects_to_the_dav_root(server: Server) -> None:
    async with dav_client(server.base_url) as client:
        caldav = await client.get("/.well-known/caldav")
        carddav = await client.request("PROPFIND", "/.well-known/carddav")
    assert (caldav.status_code, caldav.headers["location"]) == (301, ROOT)
    assert (carddav.status_code, carddav.headers["location"]) == (301, ROOT)


async def test_propfind_depth_infinity_is_refused_with_finite_depth(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.request("PROPFIND", ROOT, headers={"depth": "infinity"})
    assert response.status_code == 403
    assert condition(response) == "D:propfind-finite-depth"


async def test_propfind_principal_gives_homes_addresses_and_privileges(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    props = ("C:calendar-home-set", "CR:addressbook-home-set", "C:calendar-user-address-set", "D:principal-URL")
    async with dav_client(server.base_url, user) as client:
        response = await client.request(
            "PROPFIND", f"{ROOT}principals/{user.id}/", headers={"depth": "0"}, content=propfind_body(*props, "D:nope")
        )
    assert response.status_code == 207
    assert f"{ROOT}calendars/{user.id}/" in response.text
    assert f"{ROOT}addressbooks/{user.id}/" in response.text
    assert f"mailto:{user.email}" in response.text
    assert "404 Not Found" in response.text  # D:nope


async def test_propfind_collection_gives_ctag_sync_token_components_and_privileges(
    server: Server, org: TestOrg
) -> None:
    user = await _user(org)
    props = (
        "CS:getctag",
        "D:sync-token",
        "C:supported-calendar-component-set",
        "D:current-user-privilege-set",
        "D:supported-report-set",
        "C:calendar-timezone",
    )
    async with dav_client(server.base_url, user) as client:
        await client.request("PROPFIND", ROOT, headers={"depth": "0"})
        await _put(client, calendar_path(user) + "a.ics", event())
        response = await client.request(
            "PROPFIND", calendar_path(user), headers={"depth": "1"}, content=propfind_body(*props, "D:getetag")
        )
    text = response.text
    assert "<CS:getctag>1</CS:getctag>" in text
    assert ":1</D:sync-token>" in text
    assert '<C:comp name="VEVENT"/>' in text
    assert "<D:write-content/>" in text and "<C:read-free-busy/>" in text
    assert "<C:calendar-multiget/>" in text and "<D:sync-collection/>" in text
    assert "TZID:Europe/Paris" in text
    assert hrefs(response) == [calendar_path(user), calendar_path(user) + "a.ics"]


async def test_mkcalendar_creates_a_calendar_with_its_properties(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    path = calendar_path(user, "projets")
    async with dav_client(server.base_url, user) as client:
        created = await client.request("MKCALENDAR", path, content=MKCALENDAR)
        again = await client.request("MKCALENDAR", path, content=MKCALENDAR)
        listed = await client.request(
            "PROPFIND",
            path,
            headers={"depth": "0"},
            content=propfind_body("D:displayname", "A:calendar-color", "C:supported-calendar-component-set"),
        )
        refused = await _put(client, path + "e.ics", event())
    assert created.status_code == 201
    assert again.status_code == 405
    assert "<D:displayname>Projets</D:displayname>" in listed.text.replace('xmlns:A="http://apple.com/ns/ical/"', "")
    assert "#ff0000ff" in listed.text
    assert '<C:comp name="VTODO"/>' in listed.text and "VEVENT" not in listed.text
    assert refused.status_code == 403
    assert condition(refused) == "C:supported-calendar-component"


async def test_extended_mkcol_creates_an_address_book(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    body = (
        '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>'
        "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Clients</D:displayname>"
        "</D:prop></D:set></D:mkcol>"
    )
    async with dav_client(server.base_url, user) as client:
        created = await client.request("MKCOL", book_path(user, "clients"), content=body)
        wrong_home = await client.request("MKCOL", calendar_path(user, "clients"), content=body)
        stored = await client.put(
            book_path(user, "clients") + "c.vcf", content=contact(), headers={"content-type": VCARD_TYPE}
        )
    assert created.status_code == 201
    assert wrong_home.status_code == 403
    assert stored.status_code == 201


async def test_proppatch_renames_recolours_and_describes_atomically(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    ok = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
        'xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Perso</D:displayname>'
        "<A:calendar-color>#00ff00</A:calendar-color><C:calendar-description>À moi</C:calendar-description>"
        "</D:prop></D:set></D:propertyupdate>"
    )
    partly = ok.replace(
        "<D:displayname>Perso</D:displayname>", "<D:displayname>Autre</D:displayname><X:y xmlns:X='urn:x'>1</X:y>"
    )
    async with dav_client(server.base_url, user) as client:
        await client.request("PROPFIND", ROOT, headers={"depth": "0"})
        done = await client.request("PROPPATCH", calendar_path(user), content=ok)
        refused = await client.request("PROPPATCH", calendar_path(user), content=partly)
        after = await client.request("PROPFIND", calendar_path(user), headers={"depth": "0"})
    assert done.status_code == 207 and "200 OK" in done.text
    assert "403 Forbidden" in refused.text and "424 Failed Dependency" in refused.text
    assert "<D:displayname>Perso</D:displayname>" in after.text
    assert "#00ff00" in after.text and "À moi" in after.text


async def test_put_get_head_delete_with_etags(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    path = calendar_path(user) + "e.ics"
    text = event(summary="Revue")
    async with dav_client(server.base_url, user) as client:
        await client.request("PROPFIND", ROOT, headers={"depth": "0"})
        created = await _put(client, path, text, **{"if-none-match": "*"})
        etag = created.headers["etag"]
        again = await _put(client, path, text, **{"if-none-match": "*"})
        got = await client.get(path)
        head = await client.head(path)
        stale = await _put(client, path, event(uid="x"), **{"if-match": '"0000"'})
        updated = await _put(client, path, text.replace("Revue", "Revue 2"), **{"if-match": etag})
        stale_delete = await client.delete(path, headers={"if-match": etag})
        deleted = await client.delete(path, headers={"if-match": updated.headers["etag"]})
        gone = await client.get(path)
    assert created.status_code == 201 and etag.startswith('"')
    assert again.status_code == 412
    assert got.status_code == 200 and got.text == text and got.headers["etag"] == etag
    assert got.headers["content-type"].startswith("text/calendar")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
    assert stale.status_code == 412
    assert updated.status_code == 204 and updated.headers["etag"] != etag
    assert stale_delete.status_code == 412
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_put_preconditions_of_caldav_and_carddav(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    async with dav_client(server.base_url, user) as client:
        await client.request("PROPFIND", ROOT, headers={"depth": "0"})
        base = calendar_path(user)
        await _put(client, base + "one.ics", event(uid="same@tests"))
        results = {
            "type": await client.put(base + "t.ics", content=event(), headers={"content-type": "text/plain"}),
            "data": await _put(client, base + "bad.ics", "BEGIN:VCALENDAR\nnot ical"),
            "uid": await _put(client, base + "two.ics", event(uid="same@tests")),
            "method": await _put(
                client, base + "m.ics", event().replace("VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST")
            ),
            "card_type": await client.put(
                book_path(user) + "c.vcf", content=contact(), headers={"content-type": CALDAV_TYPE}
            ),
            "card": await client.put(
                book_path(user) + "d.vcf", content="BEGIN:VCARD\nEND:VCARD\n", headers={"content-type": VCARD_TYPE}
            ),
        }
    assert {k: (r.status_code, condition(r)) for k, r in results.items()} == {
        "type": (403, "C:supported-calendar-data"),
        "data": (403, "C:valid-calendar-data"),
        "uid": (403, "C:no-uid-conflict"),
        "method": (403, "C:valid-calendar-object-resource"),
        "card_type": (403, "CR:supported-address-data"),
        "card": (403, "CR:valid-address-data"),
    }
    assert base + "one.ics" in results["uid"].text


async def test_delete_of_a_calendar_removes_it(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    path = calendar_path(user, "vieux")
    async with dav_client(server.base_url, user) as client:
        await client.request("MKCALENDAR", path)
        await _put(client, path + "e.ics", event())
        deleted = await client.delete(path)
        gone = await client.request("PROPFIND", path, headers={"depth": "0"})
    assert deleted.status_code == 204
    assert gone.status_code == 404


async def test_bad_xml_bodies_get_400(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol2;</D:displayname></D:prop></D:propfind>'
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&e;</D:displayname></D:prop></D:propfind>'
    )
    async with dav_client(server.base_url, user) as client:
        statuses = [
            (await client.request("PROPFIND", ROOT, headers={"depth": "0"}, content=body)).status_code
            for body in ("<D:propfind xmlns:D='DAV:'><unclosed>", bomb, external, "<wrong-root/>")
        ]
        report = await client.request("REPORT", calendar_path(user), content="<not xml")
    assert statuses == [400, 400, 400, 400]
    assert report.status_code == 400


async def test_huge_body_gets_413(server: Server, org: TestOrg) -> None:
    user = await _user(org)
    async with dav_client(server.base_url, user) as client:
        response = await _put(client, calendar_path(user) + "big.ics", "X" * (5 * 1024 * 1024))
    assert response.status_code == 413
