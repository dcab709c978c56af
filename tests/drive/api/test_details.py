"""The drive API's details with a token from our provider: versions listed, downloaded
and restored; check-out seen by others and refusing their writes; description, tags,
custom fields and favourites; recent files; shares added, listed and withdrawn."""

from __future__ import annotations

import httpx
import pytest

from tests.drive.api.helpers import API, caller
from tests.drive.factories import make_drive_org, put, space_drive
from tests.factories import make_space, principal

pytestmark = pytest.mark.usefixtures("migrated")


async def test_versions_are_listed_downloaded_and_restored(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    doc = await put(alice.me, alice.drive.root_id, "note.txt", b"first")
    await put(alice.me, alice.drive.root_id, "note.txt", b"second")
    versions = (await client.get(f"{API}/files/{doc.id}/versions", headers=alice.headers)).json()
    assert [(v["number"], v["current"], v["size"]) for v in versions] == [(2, True, 6), (1, False, 5)]
    old = versions[1]["id"]
    content = await client.get(f"{API}/files/{doc.id}/versions/{old}/content", headers=alice.headers)
    assert content.status_code == 200 and content.content == b"first"
    restored = await client.post(f"{API}/files/{doc.id}/versions/{old}/restore", headers=alice.headers)
    assert restored.status_code == 200 and restored.json()["size"] == 5
    assert (await client.get(f"{API}/files/{doc.id}/content", headers=alice.headers)).content == b"first"
    unknown = await client.get(f"{API}/files/{doc.id}/versions/{doc.id}/content", headers=alice.headers)
    assert unknown.status_code == 404


async def test_a_checkout_shows_who_holds_it_and_refuses_other_writers(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_drive_org()
    owner = await caller(base_url, org)
    colleague = await caller(base_url, org)
    space = await make_space(owner.user, members={colleague.user: "member"})
    manager = await principal(owner.user)  # now a manager of the space
    shared = await space_drive(manager, space.id)
    doc = await put(manager, shared.root_id, "plan.odt", b"v1")
    out = await client.post(f"{API}/files/{doc.id}/checkout", headers=colleague.headers)
    assert out.status_code == 200 and out.json()["lock"]["user_id"] == str(colleague.user.id)
    seen = (await client.get(f"{API}/nodes/{doc.id}", headers=owner.headers)).json()
    assert (seen["lock"]["kind"], seen["lock"]["user_id"]) == ("checkout", str(colleague.user.id))
    refused = await client.post(f"{API}/nodes/{doc.id}/rename", json={"name": "x.odt"}, headers=owner.headers)
    assert refused.status_code == 423 and refused.json()["error"]
    twice = await client.post(f"{API}/files/{doc.id}/checkout", headers=colleague.headers)
    assert twice.status_code == 409
    assert (await client.post(f"{API}/files/{doc.id}/checkin", headers=owner.headers)).status_code == 200  # a manager
    free = (await client.get(f"{API}/nodes/{doc.id}", headers=owner.headers)).json()
    assert free["lock"] is None
    folder = await client.post(f"{API}/files/{shared.root_id}/checkout", headers=owner.headers)
    assert folder.status_code == 400


async def test_metadata_description_tags_fields_and_favourite(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner = await caller(base_url, org)
    space = await make_space(owner.user)
    manager = await principal(owner.user)  # now the space's owner
    drive = await space_drive(manager, space.id)
    doc = await put(manager, drive.root_id, "contrat.pdf", b"%PDF")
    fields = f"{API}/drives/{drive.id}/fields"
    status = await client.post(
        fields, json={"label": "Statut", "kind": "choice", "choices": ["brouillon", "signé"]}, headers=owner.headers
    )
    assert status.status_code == 201
    no_choice = await client.post(fields, json={"label": "Vide", "kind": "choice"}, headers=owner.headers)
    assert no_choice.status_code == 422 and no_choice.json()["problems"]
    field_id = status.json()["id"]
    path = f"{API}/nodes/{doc.id}/metadata"
    body = {
        "description": "Le contrat",
        "tags": ["juridique", "2027"],
        "values": {field_id: "signé"},
        "favourite": True,
    }
    changed = await client.patch(path, json=body, headers=owner.headers)
    assert changed.status_code == 200
    meta = changed.json()
    assert meta["description"] == "Le contrat" and sorted(meta["tags"]) == ["2027", "juridique"]
    assert meta["values"] == {field_id: "signé"} and meta["favourite"] is True
    wrong = await client.patch(path, json={"values": {field_id: "perdu"}}, headers=owner.headers)
    assert wrong.status_code == 400 and wrong.json()["error"]
    nul = await client.patch(path, json={"description": "a\x00b"}, headers=owner.headers)
    assert nul.status_code == 422
    favourites = (await client.get(f"{API}/favourites", headers=owner.headers)).json()
    assert [n["id"] for n in favourites] == [str(doc.id)]
    recent = (await client.get(f"{API}/recent", headers=owner.headers)).json()
    assert str(doc.id) in [n["id"] for n in recent]
    assert (await client.delete(f"{API}/fields/{field_id}", headers=owner.headers)).status_code == 204
    assert (await client.get(path, headers=owner.headers)).json()["values"] == {}


async def test_shares_are_added_listed_and_withdrawn(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner = await caller(base_url, org)
    colleague = await caller(base_url, org)
    guest = await caller(base_url, org, "guest")
    stranger = await caller(base_url)
    doc = await put(owner.me, owner.drive.root_id, "partage.txt", b"hello")
    path = f"{API}/nodes/{doc.id}/shares"
    assert (await client.get(f"{API}/nodes/{doc.id}", headers=colleague.headers)).status_code == 404
    made = await client.post(path, json={"user_id": str(colleague.user.id), "role": "editor"}, headers=owner.headers)
    assert made.status_code == 201 and made.json()["role"] == "editor"
    listed = (await client.get(path, headers=owner.headers)).json()
    assert [(s["user_id"], s["role"]) for s in listed] == [(str(colleague.user.id), "editor")]
    shared = (await client.get(f"{API}/shared", headers=colleague.headers)).json()
    assert [n["id"] for n in shared] == [str(doc.id)]
    assert (await client.get(f"{API}/files/{doc.id}/content", headers=colleague.headers)).content == b"hello"
    to_guest = await client.post(path, json={"user_id": str(guest.user.id)}, headers=owner.headers)
    assert to_guest.status_code == 400
    to_stranger = await client.post(path, json={"user_id": str(stranger.user.id)}, headers=owner.headers)
    assert to_stranger.status_code == 404
    two = await client.post(
        path, json={"user_id": str(colleague.user.id), "group_id": str(org.id)}, headers=owner.headers
    )
    assert two.status_code == 400
    by_editor = await client.post(path, json={"user_id": str(owner.user.id)}, headers=colleague.headers)
    assert by_editor.status_code == 403
    assert (await client.delete(f"{API}/shares/{listed[0]['id']}", headers=colleague.headers)).status_code == 403
    assert (await client.delete(f"{API}/shares/{listed[0]['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"{API}/nodes/{doc.id}", headers=colleague.headers)).status_code == 404
    assert (await client.delete(f"{API}/shares/{listed[0]['id']}", headers=stranger.headers)).status_code == 404
