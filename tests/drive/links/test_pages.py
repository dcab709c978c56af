"""The pages of public links over a real server: the management page and its guards for
every kind of caller, the public pages reached anonymously (a file with Range, a folder,
a password, a file drop streamed through a form), and asking for access."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from hexagone.core.db import org_session
from hexagone.core.models import AuditEntry, Notification
from hexagone.drive import service
from hexagone.drive.service import links as links_service
from tests.drive.factories import make_drive_org, make_member, own_drive, put, space_drive
from tests.drive.links.helpers import answer_to_pending_second_factor, drop_box
from tests.factories import csrf_token, login, make_org, make_space, make_user, principal
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.usefixtures("migrated")

URL = re.compile(r'id="link-made-url" type="url" value="[^"]*?(/s/[A-Za-z0-9_-]+)"')


async def _make_link(client: httpx.AsyncClient, node_id: object, **fields: str) -> str:
    """Make a link through the page; the public path it shows once."""
    token = await csrf_token(client, f"/drive/links/{node_id}")
    page = await client.post(f"/drive/links/{node_id}/create", data={"csrf_token": token, **fields})
    assert page.status_code == 200, page.text[:500]
    found = URL.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


async def _actions(org_id: object) -> list[str]:
    async with org_session(org_id) as db:  # type: ignore[arg-type]
        rows = await db.execute(select(AuditEntry.action).order_by(AuditEntry.created_at))
        return [a for a in rows.scalars() if a.startswith("drive.")]


async def test_link_page_makes_a_link_whose_address_opens_the_file_anonymously(
    client: httpx.AsyncClient, base_url: str
) -> None:
    user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "été 2027.txt", b"0123456789")
    await login(client, user)
    page = await client.get(f"/drive/links/{doc.id}")
    assert page.status_code == 200 and "Aucun lien pour l’instant." in page.text
    path = await _make_link(client, doc.id)
    listed = (await client.get(f"/drive/links/{doc.id}")).text
    assert path[3:9] in listed and path not in listed  # the address is not shown again
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anonymous:
        shown = await anonymous.get(path)
        assert shown.status_code == 200 and "été 2027.txt" in shown.text and "10 octets" in shown.text
        whole = await anonymous.get(f"{path}/files/{doc.id}")
        assert whole.status_code == 200 and whole.content == b"0123456789"
        assert whole.headers["accept-ranges"] == "bytes"
        assert "filename*=UTF-8''%C3%A9t%C3%A9%202027.txt" in whole.headers["content-disposition"]
        part = await anonymous.get(f"{path}/files/{doc.id}", headers={"range": "bytes=2-4"})
        assert part.status_code == 206 and part.content == b"234"
        assert part.headers["content-range"] == "bytes 2-4/10"
        past = await anonymous.get(f"{path}/files/{doc.id}", headers={"range": "bytes=50-"})
        assert past.status_code == 416
    assert (await _actions(me.org_id)).count(links_service.DOWNLOADED) == 2


async def test_link_page_revokes_a_link_at_once(client: httpx.AsyncClient, base_url: str) -> None:
    user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "a.txt")
    await login(client, user)
    path = await _make_link(client, doc.id)
    async with org_session(me.org_id) as db:
        [link] = await service.node_links(db, me, doc.id)
    token = await csrf_token(client, f"/drive/links/{doc.id}")
    revoked = await client.post(f"/drive/links/{doc.id}/revoke", data={"csrf_token": token, "link_id": str(link.id)})
    assert revoked.status_code == 303 and revoked.headers["location"].endswith("done=drive_link_revoked")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anonymous:
        gone = await anonymous.get(path)
        assert gone.status_code == 404 and "n’existe pas ou ne fonctionne plus" in gone.text
        assert (await anonymous.get(f"{path}/files/{doc.id}")).status_code == 404
    assert "Révoqué" in (await client.get(f"/drive/links/{doc.id}")).text


async def test_link_management_refuses_every_caller_who_may_not_share(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    doc = await put(owner, (await own_drive(owner)).root_id, "a.txt")
    page = f"/drive/links/{doc.id}"
    assert (await client.get(page)).status_code == 404  # anonymous: the module is not there
    guest = await make_user(org, role="guest")
    space = await make_space(owner_user, members={guest: "member"})
    owner = await principal(owner_user)
    space_doc = await put(owner, (await space_drive(owner, space.id)).root_id, "s.txt")
    cases = [
        (await make_user(org), page, 404),
        (await make_user(org, role="admin"), page, 404),
        (await make_user(await make_drive_org()), page, 404),
        (guest, f"/drive/links/{space_doc.id}", 403),
        (guest, page, 404),
    ]
    for who, path, status in cases:
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
            await login(browser, who)
            assert (await browser.get(path)).status_code == status, (who.role, path)
            token = await csrf_token(browser, "/drive/")
            made = await browser.post(f"{path}/create", data={"csrf_token": token, "mode": "view"})
            assert made.status_code == status, (who.role, path)
    async with org_session(org.id) as db:
        assert await service.node_links(db, owner, doc.id) == []
        assert await service.node_links(db, owner, space_doc.id) == []
    token = await token_for(base_url, owner_user)
    assert (await client.get(page, headers=bearer(token))).status_code == 401
    pending = await answer_to_pending_second_factor(base_url, org, page)
    assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")
    unsubscribed = await make_user(await make_org(modules=("calendar",)))
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, unsubscribed)
        assert (await browser.get(page)).status_code == 404


async def test_public_link_pages_for_each_kind_of_visitor(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    doc = await put(owner, (await own_drive(owner)).root_id, "public.txt", b"hello")
    async with org_session(org.id, write=True) as db:
        made = await service.create_link(db, owner, doc.id)
        await db.commit()
    path = service.link_path(made.token)
    # signed in, of the organisation or of another one, a guest: the link opens as for anyone
    for who in (await make_user(org, role="guest"), await make_user(await make_drive_org())):
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
            await login(browser, who)
            assert (await browser.get(path)).status_code == 200
            assert (await browser.get(f"{path}/files/{doc.id}")).content == b"hello"
    # an access token opens the API only
    token = await token_for(base_url, owner_user)
    assert (await client.get(path, headers=bearer(token))).status_code == 401
    # a session owing its second factor finishes signing in first
    pending = await answer_to_pending_second_factor(base_url, org, path)
    assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")
    # tokens that name nothing, and a file the link does not show
    for bad in ("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/s/..%2F..%2Fetc%2Fpasswd", "/s/x"):
        assert (await client.get(bad)).status_code == 404, bad
    other = await put(owner, (await own_drive(owner)).root_id, "private.txt", b"private")
    assert (await client.get(f"{path}/files/{other.id}")).status_code == 404
    assert (await client.get(f"{path}/files/not-an-id")).status_code == 400


async def test_password_link_asks_refuses_a_wrong_one_and_opens_with_the_right_one(
    client: httpx.AsyncClient, base_url: str
) -> None:
    user, me = await make_member()
    doc = await put(me, (await own_drive(me)).root_id, "secret.txt", b"secret")
    await login(client, user)
    path = await _make_link(client, doc.id, mode="view", password="correct horse battery", expires="2099-12-31")
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as anonymous:
        asked = await anonymous.get(path)
        assert asked.status_code == 200 and 'name="password"' in asked.text and "secret.txt" not in asked.text
        assert (await anonymous.get(f"{path}/files/{doc.id}")).status_code == 403
        token = await csrf_token(anonymous, path)
        wrong = await anonymous.post(f"{path}/unlock", data={"csrf_token": token, "password": "nope"})
        assert wrong.status_code == 403 and "Mot de passe incorrect." in wrong.text
        right = await anonymous.post(f"{path}/unlock", data={"csrf_token": token, "password": "correct horse battery"})
        assert right.status_code == 303 and right.headers["location"] == path
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and f"Path={path}" in cookie
        assert "secret.txt" in (await anonymous.get(path)).text
        assert (await anonymous.get(f"{path}/files/{doc.id}")).content == b"secret"
    actions = await _actions(me.org_id)
    assert links_service.WRONG_PASSWORD in actions and links_service.UNLOCKED in actions


async def test_file_drop_form_streams_the_upload_and_refuses_bad_names_and_overflow(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_drive_org()
    user, me = await make_member(org)
    drive, box = await drop_box(me)
    await login(client, user)
    path = await _make_link(client, box.id, mode="upload")
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=60) as anonymous:
        page = await anonymous.get(path)
        assert page.status_code == 200 and "cv.pdf" not in page.text and 'type="file"' in page.text
        token = await csrf_token(anonymous, path)

        async def send(name: str, data: bytes) -> httpx.Response:
            return await anonymous.post(
                f"{path}/upload", data={"csrf_token": token}, files={"file": (name, data, "application/pdf")}
            )

        data = bytes(range(256)) * 8192  # 2 MiB: more than the default body limit
        sent = await send("cv.pdf", data)
        assert sent.status_code == 303 and sent.headers["location"].endswith("done=drive_link_uploaded")
        done = await anonymous.get(sent.headers["location"])
        shown = done.text.split("<main", 1)[1].replace(path, "")  # the token may hold "cv" by chance
        assert "Votre fichier est envoyé" in shown and "cv" not in shown
        traversal = await send("../../etc/passwd", b"x")
        assert traversal.status_code == 400 and "/" in traversal.text  # the message names the character
        refused = await send("CON", b"x")
        assert refused.status_code == 400
        admin = await principal(await make_user(org, role="admin"))
        async with org_session(org.id, write=True) as db:
            await service.set_quota(db, admin, drive.id, len(data) + 100)
            await db.commit()
        full = await send("big.bin", b"y" * 4096)
        assert full.status_code == 507
        unsigned = await anonymous.post(f"{path}/upload", files={"file": ("x.txt", b"x", "text/plain")})
        assert unsigned.status_code == 403
    async with org_session(org.id) as db:
        names = sorted(e.name for e in (await service.list_folder(db, me, box.id)).entries)
        stored = await service.resolve_path(db, me, drive.id, "Dépôt/cv (2).pdf")
    assert "cv (2).pdf" in names and "big.bin" not in names and "CON" not in names and stored.size == len(data)
    assert not any(".." in n or "/" in n for n in names)


async def test_request_access_page_notifies_the_owner_who_grants_from_the_link_page(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    asker_user, asker = await make_member(org)
    doc = await put(owner, (await own_drive(owner)).root_id, "plan.txt", b"plan")
    await login(client, asker_user)
    assert (await client.get(f"/drive/files/{doc.id}")).status_code == 404
    page = await client.get(f"/drive/access/{doc.id}")
    assert page.status_code == 200 and "plan.txt" not in page.text
    token = await csrf_token(client, f"/drive/access/{doc.id}")
    sent = await client.post(f"/drive/access/{doc.id}", data={"csrf_token": token, "note": "merci"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=drive_access_requested")
    async with org_session(org.id) as db:
        [note] = (await db.execute(select(Notification).where(Notification.user_id == owner.user_id))).scalars()
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, owner_user)
        grant_page = await browser.get(note.link)
        assert grant_page.status_code == 200 and asker.display_name in grant_page.text
        token = await csrf_token(browser, note.link)
        granted = await browser.post(
            f"/drive/links/{doc.id}/grant", data={"csrf_token": token, "user_id": str(asker.user_id), "role": "reader"}
        )
        assert granted.status_code == 303
    assert (await client.get(f"/drive/files/{doc.id}")).content == b"plan"
    opened = await client.get(f"/drive/access/{doc.id}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/drive/files/{doc.id}"
