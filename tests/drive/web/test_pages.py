"""The drive's pages over a real server: the own drive and a space's, a folder with its
breadcrumb, an upload streamed through a multipart form, a download; and every kind of
caller refused what is not theirs."""

from __future__ import annotations

import re

import httpx
import pytest

from hexagone.core.db import org_session
from hexagone.drive import service
from tests.drive.factories import make_drive_org, make_member, own_drive, put, read, space_drive
from tests.factories import csrf_token, login, make_org, make_space, make_user, principal
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.usefixtures("migrated")


async def _upload(client: httpx.AsyncClient, folder_id: object, name: str, data: bytes) -> httpx.Response:
    token = await csrf_token(client, f"/drive/folders/{folder_id}")
    return await client.post(
        "/drive/upload",
        data={"csrf_token": token, "folder_id": str(folder_id)},
        files={"file": (name, data, "application/octet-stream")},
    )


async def test_drive_home_shows_the_own_drive_and_an_upload_lands_there(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    await login(client, user)
    page = await client.get("/drive/")
    assert page.status_code == 200 and "Ce dossier est vide." in page.text
    drive = await own_drive(me)
    data = bytes(range(256)) * 8192  # 2 MiB: more than the default body limit
    answer = await _upload(client, drive.root_id, "rapport annuel.pdf", data)
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=drive_uploaded")
    again = await _upload(client, drive.root_id, "rapport annuel.pdf", b"second")
    assert again.status_code == 303
    listing = (await client.get(f"/drive/folders/{drive.root_id}")).text
    assert "rapport annuel.pdf" in listing and "rapport annuel (2).pdf" in listing
    async with org_session(me.org_id) as db:
        stored = await service.resolve_path(db, me, drive.id, "rapport annuel.pdf")
    download = await client.get(f"/drive/files/{stored.id}")
    assert download.status_code == 200 and download.content == data
    assert "filename*=UTF-8''rapport%20annuel.pdf" in download.headers["content-disposition"]
    assert download.headers["content-length"] == str(len(data))


async def test_drive_upload_without_the_csrf_field_is_refused(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    await login(client, user)
    drive = await own_drive(me)
    await client.get("/drive/")
    answer = await client.post(
        "/drive/upload", data={"folder_id": str(drive.root_id)}, files={"file": ("x.txt", b"x", "text/plain")}
    )
    assert answer.status_code == 403
    async with org_session(me.org_id) as db:
        assert (await service.list_folder(db, me, drive.root_id)).entries == []


async def test_drive_folder_page_shows_the_breadcrumb_and_makes_folders(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    await login(client, user)
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        projets = await service.create_folder(db, me, drive.root_id, "Projets")
        await db.commit()
    token = await csrf_token(client, f"/drive/folders/{projets.id}")
    made = await client.post(f"/drive/folders/{projets.id}/folders", data={"csrf_token": token, "name": "2027"})
    assert made.status_code == 303
    taken = await client.post(f"/drive/folders/{projets.id}/folders", data={"csrf_token": token, "name": "2027"})
    assert taken.status_code == 409 and "existe déjà" in taken.text
    bad = await client.post(f"/drive/folders/{projets.id}/folders", data={"csrf_token": token, "name": "CON"})
    assert bad.status_code == 400 and "réservé par Windows" in bad.text
    async with org_session(me.org_id) as db:
        year = await service.resolve_path(db, me, drive.id, "Projets/2027")
    page = (await client.get(f"/drive/folders/{year.id}")).text
    crumbs = re.search(r'<nav aria-label="Fil d’Ariane".*?</nav>', page, re.S)
    assert crumbs is not None
    assert f'href="/drive/folders/{drive.root_id}"' in crumbs.group(0) and "Projets" in crumbs.group(0)
    assert '<span aria-current="page">2027</span>' in crumbs.group(0)


async def test_drive_space_page_for_members_and_a_guest_sees_only_their_spaces(client: httpx.AsyncClient) -> None:
    org = await make_drive_org()
    owner = await make_user(org)
    guest = await make_user(org, role="guest")
    space = await make_space(owner, members={guest: "member"})
    await put(await principal(owner), (await space_drive(await principal(owner), space.id)).root_id, "cr.txt", b"cr")
    await login(client, guest)
    home = await client.get("/drive/")
    assert home.status_code == 200 and space.name in home.text and "Mes fichiers" not in home.text
    page = await client.get(f"/drive/spaces/{space.id}/")
    assert page.status_code == 200 and "cr.txt" in page.text


async def test_drive_pages_refuse_every_caller_who_is_not_theirs(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    drive = await own_drive(owner)
    doc = await put(owner, drive.root_id, "secret.txt", b"secret")
    paths = [f"/drive/folders/{drive.root_id}", f"/drive/files/{doc.id}"]
    # anonymous: the module's pages are not there
    for path in paths:
        assert (await client.get(path)).status_code == 404
    # a colleague, an administrator, a guest of the organisation; someone of another one
    for role, other_org in (("user", org), ("admin", org), ("guest", org), ("user", None)):
        other = await make_user(other_org or await make_drive_org(), role=role)
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
            await login(browser, other)
            for path in paths:
                assert (await browser.get(path)).status_code == 404, (role, path)
            token = await csrf_token(browser, "/drive/")
            refused = await browser.post(
                "/drive/upload",
                data={"csrf_token": token, "folder_id": str(drive.root_id)},
                files={"file": ("x.txt", b"x", "text/plain")},
            )
            assert refused.status_code == 404, role
    # an organisation that does not subscribe to the drive
    unsubscribed = await make_user(await make_org(modules=("calendar",)))
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, unsubscribed)
        assert (await browser.get("/drive/")).status_code == 404
    # an access token opens the API only, never a page
    token = await token_for(base_url, owner_user)
    assert (await client.get(paths[1], headers=bearer(token))).status_code == 401
    # a session that still owes its second factor
    mfa_user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, mfa_user, second_factor=False)
        pending = await browser.get("/drive/")
        assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")
    assert await read(owner, doc.id) == b"secret"
