"""The drive's WebDAV methods as RFC 4918 (and RFC 4331, RFC 9110 ranges) says, through
raw requests on a live server: what each method answers, and bad input refused with a
4xx and a message, never a 500."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from hexagone.core import blobs
from hexagone.core.db import org_session
from hexagone.drive import service
from tests.conftest import Server
from tests.drive.dav.helpers import (
    LOCK_BODY,
    condition,
    dav_client,
    files,
    hrefs,
    parse,
    prop_text,
    propfind_body,
    space,
)
from tests.drive.factories import make_drive_org, own_drive, space_drive
from tests.factories import TestOrg, TestUser, make_space, make_user, principal

DEPTH0 = {"depth": "0"}
DEPTH1 = {"depth": "1"}


async def _me(org: TestOrg) -> TestUser:
    return await make_user(org)


async def test_options_announces_class_1_and_2_and_the_methods(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.options(files(user))
    assert response.status_code == 200
    assert response.headers["dav"] == "1, 2"
    assert {"PROPFIND", "LOCK", "UNLOCK", "COPY", "MOVE"} <= set(response.headers["allow"].replace(" ", "").split(","))


async def test_put_then_get_gives_the_bytes_with_their_validators(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        created = await client.put(files(user, "notes.txt"), content=b"hello world")
        again = await client.put(files(user, "notes.txt"), content=b"hello again")
        got = await client.get(files(user, "notes.txt"))
        head = await client.head(files(user, "notes.txt"))
    assert (created.status_code, again.status_code) == (201, 204)
    assert got.content == b"hello again"
    assert got.headers["etag"] == again.headers["etag"] == head.headers["etag"]
    assert head.headers["content-length"] == "11" and "last-modified" in head.headers


async def test_get_with_a_matching_if_none_match_is_304(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        etag = (await client.put(files(user, "a.txt"), content=b"abc")).headers["etag"]
        response = await client.get(files(user, "a.txt"), headers={"if-none-match": etag})
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("range_", "status", "body"),
    [("bytes=2-4", 206, b"234"), ("bytes=7-", 206, b"789"), ("bytes=-2", 206, b"89"), ("bytes=20-30", 416, b"")],
)
async def test_get_a_range(server: Server, org: TestOrg, range_: str, status: int, body: bytes) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "digits.txt"), content=b"0123456789")
        response = await client.get(files(user, "digits.txt"), headers={"range": range_})
    assert response.status_code == status
    if status == 206:
        assert response.content == body
    else:
        assert response.headers["content-range"] == "bytes */10"


async def test_put_with_a_stale_if_match_is_412_and_changes_nothing(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        first = await client.put(files(user, "doc.txt"), content=b"one")
        await client.put(files(user, "doc.txt"), content=b"two", headers={"if-match": first.headers["etag"]})
        stale = await client.put(files(user, "doc.txt"), content=b"three", headers={"if-match": first.headers["etag"]})
        exists = await client.put(files(user, "doc.txt"), content=b"four", headers={"if-none-match": "*"})
        content = (await client.get(files(user, "doc.txt"))).content
    assert (stale.status_code, exists.status_code, content) == (412, 412, b"two")


async def test_put_with_a_content_range_is_400(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.put(files(user, "part.bin"), content=b"x", headers={"content-range": "bytes 0-0/10"})
    assert response.status_code == 400 and response.text


async def test_put_into_a_missing_folder_is_409(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.put(files(user, "nowhere/file.txt"), content=b"x")
    assert response.status_code == 409


async def test_put_beyond_the_quota_is_507_and_leaves_nothing(server: Server) -> None:
    alone = await make_drive_org()  # its blobs are this test's only
    user = await _me(alone)
    me = await principal(user)
    admin = await principal(await make_user(alone, role="admin"))
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        await service.set_quota(db, admin, drive.id, 1000)
        await db.commit()
    async with dav_client(server.base_url, user) as client:
        response = await client.put(files(user, "big.bin"), content=b"x" * 5000)
        listing = await client.request("PROPFIND", files(user), headers=DEPTH1, content=propfind_body("D:getetag"))
    assert response.status_code == 507
    assert not any(h.endswith("big.bin") for h in hrefs(listing))
    assert (await blobs.get_store().usage(f"org/{me.org_id}/drive")).count == 0


async def test_put_cut_mid_way_leaves_no_file_and_no_blob(server: Server) -> None:
    user = await _me(await make_drive_org())  # its blobs are this test's only
    me = await principal(user)
    await own_drive(me)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    request = (
        f"PUT {files(user, 'cut.bin')} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Basic {base64.b64encode(f'{user.email}:{user.password}'.encode()).decode()}\r\n"
        "Content-Length: 10000000\r\n\r\n"
    ).encode()
    writer.write(request + b"x" * 300_000)
    await writer.drain()
    await asyncio.sleep(0.5)
    writer.close()
    await writer.wait_closed()
    del reader
    await asyncio.sleep(1.0)
    async with dav_client(server.base_url, user) as client:
        response = await client.head(files(user, "cut.bin"))
    assert response.status_code == 404
    assert (await blobs.get_store().usage(f"org/{me.org_id}/drive")).count == 0


async def test_mkcol_makes_a_folder_and_refuses_a_body_a_missing_parent_and_a_second_time(
    server: Server, org: TestOrg
) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        made = await client.request("MKCOL", files(user, "Projets/"))
        again = await client.request("MKCOL", files(user, "Projets/"))
        body = await client.request("MKCOL", files(user, "Autre/"), content=b"<x/>")
        orphan = await client.request("MKCOL", files(user, "Manque/Sous/"))
    assert (made.status_code, again.status_code, body.status_code, orphan.status_code) == (201, 405, 415, 409)


async def test_propfind_depth_1_lists_the_live_properties_and_quota(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.request("MKCOL", files(user, "Dossier/"))
        await client.put(files(user, "Dossier/été.txt"), content=b"12345")
        response = await client.request(
            "PROPFIND",
            files(user, "Dossier/"),
            headers=DEPTH1,
            content=propfind_body(
                "D:resourcetype", "D:getcontentlength", "D:quota-used-bytes", "D:getlastmodified", "D:supportedlock"
            ),
        )
    assert response.status_code == 207
    assert hrefs(response) == [files(user, "Dossier/"), files(user, "Dossier/%C3%A9t%C3%A9.txt")]
    responses = parse(response).findall("D:response", {"D": "DAV:"})
    assert responses[0].find(".//{DAV:}collection") is not None
    assert responses[1].findtext(".//{DAV:}getcontentlength") == "5"
    assert prop_text(response, "D:quota-used-bytes").isdigit()


async def test_propfind_depth_infinity_is_refused_with_its_condition(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.request("PROPFIND", files(user), headers={"depth": "infinity"})
    assert response.status_code == 403
    assert condition(response) == "{DAV:}propfind-finite-depth"


async def test_proppatch_sets_dead_properties_and_refuses_live_ones_per_property(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    setting = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
        "<Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"
    )
    protected = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
        "<D:getetag>x</D:getetag><Z:shape>round</Z:shape></D:prop></D:set></D:propertyupdate>"
    )
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "p.txt"), content=b"p")
        done = await client.request("PROPPATCH", files(user, "p.txt"), content=setting)
        refused = await client.request("PROPPATCH", files(user, "p.txt"), content=protected)
        read = await client.request(
            "PROPFIND",
            files(user, "p.txt"),
            headers=DEPTH0,
            content='<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:colour/><Z:shape/></D:prop></D:propfind>',
        )
    assert done.status_code == 207 and "200 OK" in done.text
    assert "403 Forbidden" in refused.text and "424 Failed Dependency" in refused.text
    assert prop_text(read, "{urn:z}colour") == "blue"
    assert "404 Not Found" in read.text  # shape was never set


async def test_copy_and_move_with_overwrite(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "src.txt"), content=b"source")
        await client.put(files(user, "dst.txt"), content=b"target")
        destination = {"destination": server.base_url + files(user, "dst.txt")}
        refused = await client.request("COPY", files(user, "src.txt"), headers={**destination, "overwrite": "F"})
        copied = await client.request("COPY", files(user, "src.txt"), headers=destination)
        moved = await client.request("MOVE", files(user, "src.txt"), headers={"destination": files(user, "new.txt")})
        gone = await client.get(files(user, "src.txt"))
        content = (await client.get(files(user, "new.txt"))).content, (await client.get(files(user, "dst.txt"))).content
    assert (refused.status_code, copied.status_code, moved.status_code, gone.status_code) == (412, 204, 201, 404)
    assert content == (b"source", b"source")


async def test_copy_to_another_host_is_502_and_to_another_users_drive_403(server: Server, org: TestOrg) -> None:
    user, other = await _me(org), await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "x.txt"), content=b"x")
        elsewhere = await client.request(
            "COPY", files(user, "x.txt"), headers={"destination": "http://elsewhere.test" + files(user, "y.txt")}
        )
        theirs = await client.request("COPY", files(user, "x.txt"), headers={"destination": files(other, "x.txt")})
    assert (elsewhere.status_code, theirs.status_code) == (502, 403)


async def test_delete_sends_to_the_trash(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    me = await principal(user)
    async with dav_client(server.base_url, user) as client:
        await client.request("MKCOL", files(user, "Old/"))
        await client.put(files(user, "Old/a.txt"), content=b"a")
        deleted = await client.delete(files(user, "Old/"))
        gone = await client.request("PROPFIND", files(user, "Old/a.txt"), headers=DEPTH0)
    assert (deleted.status_code, gone.status_code) == (204, 404)
    drive = await own_drive(me)
    async with org_session(me.org_id) as db:
        assert [n.name for n in await service.in_trash(db, me, drive.id)] == ["Old"]


async def test_lock_then_write_needs_the_token(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "locked.txt"), content=b"v1")
        locked = await client.request(
            "LOCK", files(user, "locked.txt"), content=LOCK_BODY, headers={"timeout": "Second-60"}
        )
        token = locked.headers["lock-token"]
        without = await client.put(files(user, "locked.txt"), content=b"v2")
        with_token = await client.put(files(user, "locked.txt"), content=b"v3", headers={"if": f"({token})"})
        unlocked = await client.request("UNLOCK", files(user, "locked.txt"), headers={"lock-token": token})
    assert locked.status_code == 200 and "Second-" in locked.text
    assert without.status_code == 423 and condition(without) == "{DAV:}lock-token-submitted"
    assert (with_token.status_code, unlocked.status_code) == (204, 204)


async def test_lock_on_an_unmapped_url_makes_an_empty_locked_file(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        locked = await client.request("LOCK", files(user, "new.odt"), content=LOCK_BODY)
        size = (await client.head(files(user, "new.odt"))).headers["content-length"]
        discovery = await client.request(
            "PROPFIND", files(user, "new.odt"), headers=DEPTH0, content=propfind_body("D:lockdiscovery")
        )
    assert (locked.status_code, size) == (201, "0")
    assert locked.headers["lock-token"].strip("<>") in discovery.text


@pytest.mark.parametrize(
    "path",
    ["..%2Fescape.txt", "%2e%2e/escape.txt", "a%2Fb.txt", "bad%01name.txt", "CON", "trailing.%20"],
    ids=[
        "encoded-slash-dotdot",
        "encoded-dotdot",
        "encoded-slash",
        "control-character",
        "device-name",
        "trailing-space",
    ],
)
async def test_put_with_a_bad_name_is_refused_with_a_message(server: Server, org: TestOrg, path: str) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.put(files(user, path), content=b"x")
    assert response.status_code in (400, 403), response.text
    assert response.text.strip()


async def test_a_raw_dotdot_path_does_not_leave_the_drive(server: Server, org: TestOrg) -> None:
    user, other = await _me(org), await _me(org)
    request = httpx.Request("GET", server.base_url + files(user, "../" + other.email + "/"))
    request.url = request.url.copy_with(raw_path=files(user, "../" + other.email + "/").encode())
    async with dav_client(server.base_url, user) as client:
        response = await client.send(request)
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(
    "body",
    [
        b"<not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><D:propfind xmlns:D="DAV:"/>',
        b"<D:foo xmlns:D='DAV:'/>",
    ],
    ids=["syntax", "entity", "wrong-root"],
)
async def test_propfind_with_a_malformed_body_is_400(server: Server, org: TestOrg, body: bytes) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.request("PROPFIND", files(user), headers=DEPTH0, content=body)
    assert response.status_code == 400 and response.text


async def test_a_huge_xml_body_is_refused_without_being_parsed(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    huge = b'<D:propfind xmlns:D="DAV:"><D:prop>' + b"<D:displayname/>" * 200_000 + b"</D:prop></D:propfind>"
    async with dav_client(server.base_url, user) as client:
        response = await client.request("PROPFIND", files(user), headers=DEPTH0, content=huge)
    assert response.status_code in (400, 413)


async def test_a_malformed_if_header_is_400(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        response = await client.put(files(user, "if.txt"), content=b"x", headers={"if": "(<unclosed"})
    assert response.status_code == 400


async def test_if_header_tagged_lists_not_and_etags_are_evaluated(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.request("MKCOL", files(user, "Verrou/"))
        locked = await client.request("LOCK", files(user, "Verrou/"), content=LOCK_BODY, headers={"depth": "infinity"})
        token = locked.headers["lock-token"]
        folder = server.base_url + files(user, "Verrou/")
        inside = files(user, "Verrou/dedans.txt")
        untagged_wrong = await client.put(inside, content=b"x", headers={"if": "(<urn:uuid:nope>)"})
        no_token = await client.put(inside, content=b"x", headers={"if": "(Not <DAV:no-lock>)"})
        tagged = await client.put(inside, content=b"x", headers={"if": f"<{folder}> ({token})"})
        etag = tagged.headers["etag"]
        stale_etag = await client.put(inside, content=b"y", headers={"if": f'({token} ["stale"])'})
        with_etag = await client.put(inside, content=b"y", headers={"if": f"({token} [{etag}])"})
    assert (untagged_wrong.status_code, no_token.status_code, tagged.status_code) == (412, 423, 201)
    assert (stale_etag.status_code, with_etag.status_code) == (412, 204)


async def test_copy_to_a_space_drive_charges_its_quota(server: Server) -> None:
    alone = await make_drive_org()
    user = await _me(alone)
    shared = await make_space(user)
    me = await principal(user)
    admin = await principal(await make_user(alone, role="admin"))
    async with dav_client(server.base_url, user) as client:
        await client.put(files(user, "rapport.pdf"), content=b"r" * 3000)
        copied = await client.request(
            "COPY", files(user, "rapport.pdf"), headers={"destination": space(shared.id, "rapport.pdf")}
        )
        target = await space_drive(me, shared.id)
        async with org_session(me.org_id, write=True) as db:
            await service.set_quota(db, admin, target.id, 4000)
            await db.commit()
        refused = await client.request(
            "COPY", files(user, "rapport.pdf"), headers={"destination": space(shared.id, "copie.pdf")}
        )
    assert (copied.status_code, refused.status_code) == (201, 507)
    assert (await space_drive(me, shared.id)).used_bytes == 3000


async def test_propfind_shows_a_folders_infinite_lock_on_its_entries(server: Server, org: TestOrg) -> None:
    user = await _me(org)
    async with dav_client(server.base_url, user) as client:
        await client.request("MKCOL", files(user, "Bloqué/"))
        token = (await client.request("LOCK", files(user, "Bloqué/"), content=LOCK_BODY)).headers["lock-token"]
        await client.put(files(user, "Bloqué/a.txt"), content=b"a", headers={"if": f"({token})"})
        listing = await client.request(
            "PROPFIND", files(user, "Bloqué/"), headers=DEPTH1, content=propfind_body("D:lockdiscovery")
        )
    responses = parse(listing).findall("{DAV:}response")
    assert len(responses) == 2
    for response in responses:
        assert response.findtext(".//{DAV:}locktoken/{DAV:}href") == token.strip("<>")
        assert response.findtext(".//{DAV:}lockroot/{DAV:}href") == files(user, "Bloqu%C3%A9/")
