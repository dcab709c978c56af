"""The drive API's tree with a token from our provider: drives and usage, a folder's
entries paged and sorted, a node and its path, folders made, renamed, moved and copied
with each answer to a taken name, a file's bytes whole and by range, and the trash."""

from __future__ import annotations

import httpx
import pytest

from tests.drive.api.helpers import API, caller
from tests.drive.factories import make_drive_org, put, read
from tests.factories import csrf_token, login, make_user

pytestmark = pytest.mark.usefixtures("migrated")


async def test_drives_lists_the_own_drive_with_its_usage(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    await put(alice.me, alice.drive.root_id, "a.txt", b"12345")
    drives = (await client.get(f"{API}/drives", headers=alice.headers)).json()
    assert [(d["id"], d["kind"], d["role"]) for d in drives] == [(str(alice.drive.id), "personal", "manager")]
    mine = (await client.get(f"{API}/drives/mine", headers=alice.headers)).json()
    assert mine["root_id"] == str(alice.drive.root_id)
    usage = (await client.get(f"{API}/drives/{alice.drive.id}/usage", headers=alice.headers)).json()
    assert usage == {"used_bytes": 5, "quota_bytes": None, "available_bytes": None}


async def test_listing_is_paged_and_sorted_folders_first(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    root = alice.drive.root_id
    for name, data in (("b.txt", b"22"), ("a.txt", b"333"), ("c.txt", b"1")):
        await put(alice.me, root, name, data)
    made = await client.post(f"{API}/folders/{root}/folders", json={"name": "Zeta"}, headers=alice.headers)
    assert made.status_code == 201 and made.json()["kind"] == "folder"
    path = f"{API}/folders/{root}/entries"
    first = (await client.get(path, params={"limit": 2}, headers=alice.headers)).json()
    assert [e["name"] for e in first["entries"]] == ["Zeta", "a.txt"] and first["has_more"]
    rest = (await client.get(path, params={"limit": 2, "offset": 2}, headers=alice.headers)).json()
    assert [e["name"] for e in rest["entries"]] == ["b.txt", "c.txt"] and not rest["has_more"]
    by_size = (await client.get(path, params={"order": "size", "descending": True}, headers=alice.headers)).json()
    assert [e["name"] for e in by_size["entries"]] == ["Zeta", "a.txt", "b.txt", "c.txt"]
    bad = await client.get(path, params={"order": "colour"}, headers=alice.headers)
    assert bad.status_code == 422 and bad.json()["problems"]
    too_big = await client.get(path, params={"limit": 10_001}, headers=alice.headers)
    assert too_big.status_code == 422


async def test_rename_move_and_copy_answer_each_conflict_choice(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    root = alice.drive.root_id
    doc = await put(alice.me, root, "doc.txt", b"doc")
    other = await put(alice.me, root, "other.txt", b"other")
    folder = (
        await client.post(f"{API}/folders/{root}/folders", json={"name": "Dossier"}, headers=alice.headers)
    ).json()
    taken = await client.post(f"{API}/nodes/{other.id}/rename", json={"name": "DOC.txt"}, headers=alice.headers)
    assert taken.status_code == 409 and taken.json()["error"]
    windows = await client.post(f"{API}/nodes/{other.id}/rename", json={"name": "CON"}, headers=alice.headers)
    assert windows.status_code == 400 and windows.json()["error"]
    renamed = await client.post(f"{API}/nodes/{other.id}/rename", json={"name": "autre.txt"}, headers=alice.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "autre.txt"
    copy = await client.post(f"{API}/nodes/{doc.id}/copy", json={"folder_id": folder["id"]}, headers=alice.headers)
    assert copy.status_code == 201 and copy.json()["parent_id"] == folder["id"]
    again = await client.post(f"{API}/nodes/{doc.id}/copy", json={"folder_id": folder["id"]}, headers=alice.headers)
    assert again.status_code == 409
    numbered = await client.post(
        f"{API}/nodes/{doc.id}/copy", json={"folder_id": folder["id"], "on_conflict": "rename"}, headers=alice.headers
    )
    assert numbered.json()["name"] == "doc (2).txt"
    moved = await client.post(
        f"{API}/nodes/{doc.id}/move", json={"folder_id": folder["id"], "on_conflict": "replace"}, headers=alice.headers
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] == folder["id"]
    into_itself = await client.post(
        f"{API}/nodes/{folder['id']}/move", json={"folder_id": folder["id"]}, headers=alice.headers
    )
    assert 400 <= into_itself.status_code < 500
    path = (await client.get(f"{API}/nodes/{doc.id}/path", headers=alice.headers)).json()
    assert [n["name"] for n in path] == ["", "Dossier", "doc.txt"]
    assert await read(alice.me, doc.id) == b"doc"


async def test_download_answers_whole_files_and_byte_ranges(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    data = bytes(range(256)) * 4
    doc = await put(alice.me, alice.drive.root_id, "données.bin", data)
    path = f"{API}/files/{doc.id}/content"
    whole = await client.get(path, headers=alice.headers)
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert "filename*=UTF-8''donn%C3%A9es.bin" in whole.headers["content-disposition"]
    part = await client.get(path, headers={**alice.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = await client.get(path, headers={**alice.headers, "Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    open_ended = await client.get(path, headers={**alice.headers, "Range": "bytes=1000-"})
    assert open_ended.content == data[1000:]
    outside = await client.get(path, headers={**alice.headers, "Range": "bytes=5000-"})
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(data)}"
    folder = await client.get(f"{API}/files/{alice.drive.root_id}/content", headers=alice.headers)
    assert folder.status_code == 400 and folder.json()["error"]


async def test_trash_lists_restores_purges_and_empties(client: httpx.AsyncClient, base_url: str) -> None:
    alice = await caller(base_url)
    root = alice.drive.root_id
    keep = await put(alice.me, root, "keep.txt", b"k")
    drop = await put(alice.me, root, "drop.txt", b"dd")
    last = await put(alice.me, root, "last.txt", b"lll")
    for node in (keep, drop, last):
        assert (await client.delete(f"{API}/nodes/{node.id}", headers=alice.headers)).status_code == 200
    trash = f"{API}/drives/{alice.drive.id}/trash"
    assert {n["name"] for n in (await client.get(trash, headers=alice.headers)).json()} == {
        "keep.txt",
        "drop.txt",
        "last.txt",
    }
    restored = await client.post(f"{API}/trash/{keep.id}/restore", headers=alice.headers)
    assert restored.status_code == 200 and restored.json()["trashed_at"] is None
    not_trashed = await client.post(f"{API}/trash/{keep.id}/restore", headers=alice.headers)
    assert not_trashed.status_code == 409
    assert (await client.delete(f"{API}/trash/{drop.id}", headers=alice.headers)).json() == {"freed_bytes": 2}
    assert (await client.delete(trash, headers=alice.headers)).json() == {"freed_bytes": 3}
    assert (await client.get(trash, headers=alice.headers)).json() == []
    usage = (await client.get(f"{API}/drives/{alice.drive.id}/usage", headers=alice.headers)).json()
    assert usage["used_bytes"] == 1


async def test_every_route_refuses_callers_who_are_not_theirs(client: httpx.AsyncClient, base_url: str) -> None:
    """Anonymous: 401; a colleague, an administrator, a guest, another organisation's
    member: 404 on every node of someone else's drive; a session owing its second factor
    is not signed in; the owner's own session works, with the page's CSRF header."""
    org = await make_drive_org()
    alice = await caller(base_url, org)
    doc = await put(alice.me, alice.drive.root_id, "secret.txt", b"secret")
    folder, drive = alice.drive.root_id, alice.drive.id
    routes = [
        ("GET", f"/nodes/{doc.id}", None),
        ("GET", f"/nodes/{doc.id}/path", None),
        ("GET", f"/folders/{folder}/entries", None),
        ("GET", f"/files/{doc.id}/content", None),
        ("GET", f"/drives/{drive}/usage", None),
        ("GET", f"/drives/{drive}/trash", None),
        ("GET", f"/drives/{drive}/fields", None),
        ("POST", f"/folders/{folder}/folders", {"name": "x"}),
        ("POST", f"/nodes/{doc.id}/rename", {"name": "x.txt"}),
        ("POST", f"/nodes/{doc.id}/move", {"folder_id": str(folder), "name": "y.txt"}),
        ("POST", f"/nodes/{doc.id}/copy", {"folder_id": str(folder)}),
        ("DELETE", f"/nodes/{doc.id}", None),
        ("POST", f"/trash/{doc.id}/restore", None),
        ("DELETE", f"/trash/{doc.id}", None),
        ("DELETE", f"/drives/{drive}/trash", None),
        ("GET", f"/files/{doc.id}/versions", None),
        ("GET", f"/files/{doc.id}/versions/{doc.version_id}/content", None),
        ("POST", f"/files/{doc.id}/versions/{doc.version_id}/restore", None),
        ("POST", f"/files/{doc.id}/checkout", None),
        ("POST", f"/files/{doc.id}/checkin", None),
        ("GET", f"/nodes/{doc.id}/metadata", None),
        ("PATCH", f"/nodes/{doc.id}/metadata", {"description": "x"}),
        ("GET", f"/nodes/{doc.id}/shares", None),
        ("POST", f"/nodes/{doc.id}/shares", {"user_id": str(alice.user.id), "role": "reader"}),
    ]
    for method, path, body in routes:  # anonymous: unsafe methods meet the CSRF check first
        expected = (401,) if method == "GET" else (401, 403)
        assert (await client.request(method, API + path, json=body)).status_code in expected, path
    for role, same_org in (("user", True), ("admin", True), ("guest", True), ("user", False)):
        other = await caller(base_url, org if same_org else None, role)
        for method, path, body in routes:
            answer = await client.request(method, API + path, json=body, headers=other.headers)
            assert answer.status_code == 404, (role, same_org, method, path, answer.text)
    mfa_user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, mfa_user, second_factor=False)
        assert (await browser.get(f"{API}/drives")).status_code == 401
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, alice.user)
        assert (await browser.get(f"{API}/nodes/{doc.id}")).status_code == 200
        assert (await browser.post(f"{API}/nodes/{doc.id}/rename", json={"name": "x.txt"})).status_code == 403
        token = await csrf_token(browser, "/drive/")
        renamed = await browser.post(
            f"{API}/nodes/{doc.id}/rename", json={"name": "x.txt"}, headers={"X-CSRF-Token": token}
        )
        assert renamed.status_code == 200
    assert await read(alice.me, doc.id) == b"secret"


async def test_openapi_documents_the_drive_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    drive = API.removeprefix("/api/v1")
    assert {"get"} <= set(paths[f"{drive}/folders/{{folder_id}}/entries"])
    assert "416" in paths[f"{drive}/files/{{node_id}}/content"]["get"]["responses"]
    assert {"options", "post"} <= set(paths[f"{drive}/uploads"])
    assert {"head", "patch", "delete"} <= set(paths[f"{drive}/uploads/{{upload_id}}"])
