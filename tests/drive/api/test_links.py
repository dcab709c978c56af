"""Public links through the drive API with a token from our provider: one is made (its
address given once and opening the file signed out), listed without its address, and
revoked at once; bad options are refused with a message; a colleague without the share
ability, a guest and another organisation get nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.drive.api.helpers import API, caller
from tests.drive.factories import make_drive_org, put

pytestmark = pytest.mark.usefixtures("migrated")


async def test_a_link_is_made_opened_signed_out_listed_and_revoked(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    doc = await put(alice.me, alice.drive.root_id, "budget.ods", b"chiffres")

    made = await client.post(f"{API}/nodes/{doc.id}/links", json={"mode": "view"}, headers=alice.headers)
    url = made.json()["url"]
    async with httpx.AsyncClient() as stranger:
        opened = await stranger.get(url)
    listed = (await client.get(f"{API}/nodes/{doc.id}/links", headers=alice.headers)).json()
    revoked = await client.delete(f"{API}/links/{made.json()['link']['id']}", headers=alice.headers)
    async with httpx.AsyncClient() as stranger:
        after = await stranger.get(url)

    assert made.status_code == 201 and url.startswith(base_url + "/s/")
    assert opened.status_code == 200 and "budget.ods" in opened.text
    assert [(link["mode"], link["active"], "url" in link) for link in listed] == [("view", True, False)]
    assert revoked.status_code == 204 and after.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"mode": "edit"}, {"mode": "upload"}, {"password": "court"}, {"expires_at": "2001-01-01T00:00:00Z"}],
    ids=["unknown-mode", "upload-to-a-file", "short-password", "past-expiry"],
)
async def test_bad_link_options_are_refused_with_a_message(
    client: httpx.AsyncClient, base_url: str, body: dict[str, str]
) -> None:
    alice = await caller(base_url)
    doc = await put(alice.me, alice.drive.root_id, "a.txt")

    refused = await client.post(f"{API}/nodes/{doc.id}/links", json=body, headers=alice.headers)

    assert refused.status_code in (400, 422) and refused.json()
    assert (await client.get(f"{API}/nodes/{doc.id}/links", headers=alice.headers)).json() == []


@pytest.mark.parametrize("who", ["colleague", "guest", "other organisation"])
async def test_links_of_a_node_one_may_not_share_are_out_of_reach(
    client: httpx.AsyncClient, base_url: str, who: str
) -> None:
    org = await make_drive_org()
    alice = await caller(base_url, org)
    doc = await put(alice.me, alice.drive.root_id, "paie.xlsx", b"salaires")
    made = (await client.post(f"{API}/nodes/{doc.id}/links", json={}, headers=alice.headers)).json()
    other = await caller(
        base_url, None if who == "other organisation" else org, role="guest" if who == "guest" else "user"
    )

    answers = [
        await client.get(f"{API}/nodes/{doc.id}/links", headers=other.headers),
        await client.post(f"{API}/nodes/{doc.id}/links", json={}, headers=other.headers),
        await client.delete(f"{API}/links/{made['link']['id']}", headers=other.headers),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert [
        link["active"] for link in (await client.get(f"{API}/nodes/{doc.id}/links", headers=alice.headers)).json()
    ] == [True]
