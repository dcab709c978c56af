"""The drive's pages beyond the listing, over a real server: sorting and paging, the
details panel (rename, move and copy, check-out shown to others, description, tags and
fields, favourites), versions restored, the trash emptied, shares made and withdrawn,
a folder downloaded as a zip, the lists; and every route refused to whoever is not
theirs."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.drive import service
from tests.drive.factories import make_drive_org, make_member, own_drive, put, read, space_drive
from tests.factories import csrf_token, login, make_space, make_user, principal
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

pytestmark = pytest.mark.usefixtures("migrated")


async def _post(client: httpx.AsyncClient, path: str, page: str, **data: str) -> httpx.Response:
    token = await csrf_token(client, page)
    return await client.post(path, data={"csrf_token": token, **data})


async def test_folder_page_sorts_and_pages_and_links_details(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    drive = await own_drive(me)
    for name, data in (("b.txt", b"1"), ("a.txt", b"333"), ("c.txt", b"22")):
        await put(me, drive.root_id, name, data)
    await login(client, user)
    by_name = (await client.get(f"/drive/folders/{drive.root_id}")).text
    assert by_name.index("a.txt") < by_name.index("b.txt") < by_name.index("c.txt")
    assert 'aria-sort="ascending"' in by_name and "data-drive-upload" in by_name
    by_size = (await client.get(f"/drive/folders/{drive.root_id}?sort=size&desc=1")).text
    assert by_size.index("a.txt") < by_size.index("c.txt") < by_size.index("b.txt")
    assert (await client.get(f"/drive/folders/{drive.root_id}?sort=colour")).status_code == 400
    assert "/drive/previews/" not in by_name  # no preview flag yet: no thumbnail asked for
    doc = await put(me, drive.root_id, "d.txt")
    details = (await client.get(f"/drive/nodes/{doc.id}")).text
    assert f'href="/drive/links/{doc.id}"' in details and "Liens publics" in details


async def test_rename_move_and_copy_from_the_details_panel(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "brouillon.txt", b"texte")
    async with org_session(me.org_id, write=True) as db:
        archive = await service.create_folder(db, me, drive.root_id, "Archives")
        await db.commit()
    await login(client, user)
    page = f"/drive/nodes/{doc.id}"
    renamed = await _post(client, f"{page}/rename", page, name="final.txt")
    assert renamed.status_code == 303
    bad = await _post(client, f"{page}/rename", page, name="a/b")
    assert bad.status_code == 400 and "final.txt" in bad.text
    picker = (await client.get(f"{page}/place")).text
    assert f"{page}/place?in={archive.id}" in picker
    inside = (await client.get(f"{page}/place?in={archive.id}")).text
    assert f'name="folder_id" value="{archive.id}"' in inside
    copied = await _post(client, f"{page}/place", page, folder_id=str(archive.id), mode="copy")
    assert copied.status_code == 303 and copied.headers["location"].startswith(f"/drive/folders/{archive.id}")
    taken = await _post(client, f"{page}/place", page, folder_id=str(archive.id), mode="move")
    assert taken.status_code == 409
    moved = await _post(client, f"{page}/place", page, folder_id=str(archive.id), mode="move", on_conflict="rename")
    assert moved.status_code == 303
    async with org_session(me.org_id) as db:
        names = sorted(e.name for e in (await service.list_folder(db, me, archive.id)).entries)
    assert names == ["final (2).txt", "final.txt"]
    wrong = await _post(client, f"{page}/place", page, folder_id=str(archive.id), on_conflict="merge")
    assert wrong.status_code == 400


async def test_versions_restore_and_checkout_seen_by_others(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user = await make_user(org)
    colleague_user = await make_user(org)
    space = await make_space(owner_user, members={colleague_user: "member"})
    owner = await principal(owner_user)
    drive = await space_drive(owner, space.id)
    doc = await put(owner, drive.root_id, "plan.txt", b"un")
    await put(owner, drive.root_id, "plan.txt", b"deux")
    await login(client, colleague_user)
    page = f"/drive/nodes/{doc.id}"
    async with org_session(org.id) as db:
        first = (await service.versions(db, owner, doc.id))[-1]
    assert (await client.get(f"/drive/files/{doc.id}/versions/{first.id}")).content == b"un"
    restored = await _post(client, f"{page}/versions/restore", page, version_id=str(first.id))
    assert restored.status_code == 303 and await read(owner, doc.id) == b"un"
    assert (await _post(client, f"{page}/checkout", page)).status_code == 303
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as other:
        await login(other, owner_user)
        seen = (await other.get(page)).text
        assert "Extrait par" in seen
        listing = (await other.get(f"/drive/folders/{drive.root_id}")).text
        assert "Extrait par" in listing
        refused = await _post(other, f"{page}/rename", page, name="autre.txt")
        assert refused.status_code == 423
    assert (await _post(client, f"{page}/checkout", page, release="1")).status_code == 303


async def test_details_tags_fields_and_favourites(client: httpx.AsyncClient) -> None:
    org = await make_drive_org()
    user = await make_user(org)
    space = await make_space(user)
    me = await principal(user)
    drive = await space_drive(me, space.id)
    doc = await put(me, drive.root_id, "contrat.pdf", b"%PDF")
    await login(client, user)
    fields = f"/drive/drives/{drive.id}/fields"
    made = await _post(client, fields, fields, label="Échéance", kind="date")
    assert made.status_code == 303
    async with org_session(org.id) as db:
        [due] = await service.fields(db, me, drive.id)
    page = f"/drive/nodes/{doc.id}"
    saved = await _post(
        client,
        f"{page}/details",
        page,
        description="Signé",
        tags="juridique, 2027",
        **{f"field-{due.id}": "2027-01-31"},
    )
    assert saved.status_code == 303
    bad = await _post(client, f"{page}/details", page, description="", tags="", **{f"field-{due.id}": "demain"})
    assert bad.status_code == 400
    async with org_session(org.id) as db:
        assert sorted(await service.tags(db, me, doc.id)) == ["2027", "juridique"]
        assert await service.field_values(db, me, doc.id) == {due.id: "2027-01-31"}
    assert (await _post(client, f"{page}/favourite", page, favourite="1")).status_code == 303
    assert "contrat.pdf" in (await client.get("/drive/favourites")).text
    await client.get(f"/drive/files/{doc.id}")
    assert "contrat.pdf" in (await client.get("/drive/recent")).text
    removed = await _post(client, fields, fields, action="remove", field_id=str(due.id))
    assert removed.status_code == 303


async def test_trash_page_restores_purges_and_empties(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    drive = await own_drive(me)
    docs = [await put(me, drive.root_id, f"{n}.txt", n.encode()) for n in ("un", "deux", "trois")]
    await login(client, user)
    for doc in docs:
        page = f"/drive/nodes/{doc.id}"
        assert (await _post(client, f"{page}/trash", page)).status_code == 303
    trash = f"/drive/drives/{drive.id}/trash"
    listed = (await client.get(trash)).text
    assert all(f"{n}.txt" in listed for n in ("un", "deux", "trois"))
    back = await _post(client, trash, trash, action="restore", node_id=str(docs[0].id))
    assert back.status_code == 303 and back.headers["location"].startswith(f"/drive/folders/{drive.root_id}")
    assert (await _post(client, trash, trash, action="purge", node_id=str(docs[1].id))).status_code == 303
    assert (await _post(client, trash, trash, action="empty")).status_code == 303
    assert "La corbeille est vide." in (await client.get(trash)).text
    async with org_session(me.org_id) as db:
        assert (await service.usage(db, me, drive.id)).used_bytes == 2


async def test_share_dialog_shares_with_a_colleague_and_withdraws(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    colleague = await make_user(org)
    drive = await own_drive(owner)
    doc = await put(owner, drive.root_id, "partage.txt", b"hello")
    await login(client, owner_user)
    page = f"/drive/nodes/{doc.id}"
    nobody = await _post(
        client, f"{page}/shares", page, grantee="user", email="personne@example.invalid", role="reader"
    )
    assert nobody.status_code == 400
    made = await _post(client, f"{page}/shares", page, grantee="user", email=colleague.email, role="editor")
    assert made.status_code == 303
    shown = (await client.get(page)).text
    assert (await principal(colleague)).display_name in shown
    async with org_session(org.id) as db:
        [share] = await service.shares(db, owner, doc.id)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as other:
        await login(other, colleague)
        assert "partage.txt" in (await other.get("/drive/shared")).text
        assert (await other.get(f"/drive/files/{doc.id}")).content == b"hello"
    assert (await _post(client, f"{page}/shares/remove", page, share_id=str(share.id))).status_code == 303
    async with org_session(org.id) as db:
        assert await service.shares(db, owner, doc.id) == []


async def test_a_folder_downloads_as_a_streamed_zip(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        sub = await service.create_folder(db, me, drive.root_id, "Sous-dossier")
        await service.create_folder(db, me, drive.root_id, "Vide")
        await db.commit()
    big = bytes(range(256)) * 20_000
    await put(me, drive.root_id, "racine.txt", b"racine")
    await put(me, sub.id, "gros.bin", big)
    await login(client, user)
    answer = await client.get(f"/drive/folders/{drive.root_id}/zip")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert sorted(archive.namelist()) == ["Sous-dossier/", "Sous-dossier/gros.bin", "Vide/", "racine.txt"]
        assert archive.read("Sous-dossier/gros.bin") == big


async def test_new_routes_refuse_every_caller_who_is_not_theirs(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    drive = await own_drive(owner)
    doc = await put(owner, drive.root_id, "secret.txt", b"secret")
    gets = [
        f"/drive/nodes/{doc.id}",
        f"/drive/nodes/{doc.id}/place",
        f"/drive/folders/{drive.root_id}/zip",
        f"/drive/drives/{drive.id}/trash",
        f"/drive/files/{doc.id}/versions/{doc.version_id}",
    ]
    posts = [
        (f"/drive/nodes/{doc.id}/rename", {"name": "x.txt"}),
        (f"/drive/nodes/{doc.id}/trash", {}),
        (f"/drive/nodes/{doc.id}/checkout", {}),
        (f"/drive/nodes/{doc.id}/details", {"description": "x"}),
        (f"/drive/nodes/{doc.id}/favourite", {"favourite": "1"}),
        (f"/drive/nodes/{doc.id}/shares", {"grantee": "user", "email": owner_user.email, "role": "reader"}),
        (f"/drive/nodes/{doc.id}/versions/restore", {"version_id": str(doc.version_id)}),
        (f"/drive/nodes/{doc.id}/place", {"folder_id": str(drive.root_id), "mode": "copy"}),
        (f"/drive/drives/{drive.id}/trash", {"action": "empty"}),
    ]
    for path in gets:
        assert (await client.get(path)).status_code == 404, path
    for role, other_org in (("user", org), ("admin", org), ("guest", org), ("user", None)):
        other = await make_user(other_org or await make_drive_org(), role=role)
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
            await login(browser, other)
            for path in gets:
                assert (await browser.get(path)).status_code == 404, (role, path)
            for path, data in posts:
                answer = await _post(browser, path, "/drive/favourites", **data)
                assert answer.status_code == 404, (role, path, answer.status_code)
    token = await token_for(base_url, owner_user)
    assert (await client.get(gets[0], headers=bearer(token))).status_code == 401
    mfa_user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, mfa_user, second_factor=False)
        pending = await browser.get("/drive/favourites")
        assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")
    assert await read(owner, doc.id) == b"secret"
