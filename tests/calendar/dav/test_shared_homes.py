"""What a DAV client finds besides its own collections: the organisation's directory as
a read-only address book listing colleagues (a new colleague on the very next request),
and the calendar of a space the user joins while the server runs."""

from __future__ import annotations

from tests.calendar.dav.helpers import NS, ROOT, dav_client, hrefs, parse, propfind_body
from tests.calendar.factories import make_calendar_org
from tests.conftest import Server
from tests.factories import make_space, make_user, unique

SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
    "<D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
)


async def _collections(client, user, home):  # type: ignore[no-untyped-def]
    listed = await client.request(
        "PROPFIND",
        f"{ROOT}{home}/{user.id}/",
        content=propfind_body("D:displayname", "D:resourcetype"),
        headers={"depth": "1"},
    )
    assert listed.status_code == 207, listed.text
    names = {}
    for response in parse(listed).findall("D:response", NS):
        names[response.findtext("D:href", namespaces=NS)] = response.findtext(".//D:displayname", namespaces=NS)
    return names


async def test_directory_lists_colleagues_and_a_new_one_at_the_next_sync(server: Server) -> None:
    org = await make_calendar_org()
    alice = await make_user(org)
    async with dav_client(server.base_url, alice) as client:
        books = await _collections(client, alice, "addressbooks")
        [directory] = [
            href for href, name in books.items() if href and name and href.count("/") > 5 and "contacts" not in href
        ]
        first = await client.request("REPORT", directory, content=SYNC, headers={"depth": "0"})
        assert first.status_code == 207, first.text
        before = len(hrefs(first))
        await make_user(org, email=f"{unique('nouveau')}@{org.domain}")
        again = await client.request("REPORT", directory, content=SYNC, headers={"depth": "0"})
        assert len(hrefs(again)) == before + 1
        refused = await client.put(
            f"{directory}x.vcf", content="BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n"
        )
        assert refused.status_code == 403


async def test_space_joined_while_the_server_runs_shows_its_calendar(server: Server) -> None:
    org = await make_calendar_org()
    owner, bob = await make_user(org), await make_user(org)
    async with dav_client(server.base_url, bob) as client:
        before = await _collections(client, bob, "calendars")
        space = await make_space(owner, members={bob: "member"}, name=unique("Chantier "))
        after = await _collections(client, bob, "calendars")
    assert space.name not in before.values() and space.name in after.values()
