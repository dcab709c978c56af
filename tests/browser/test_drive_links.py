"""Public links in a real browser: a member shares a file by a link with a password, and
someone with no account opens it in a fresh browser, gives the password and downloads
the file; every page of links (management, password, file, folder, file drop, asking
for access) passes axe-core and the shell's rules in French and in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from hexagone.core.db import org_session
from hexagone.drive import service
from tests.browser.harness import OpenTab, goto, report, settle, shell_problems
from tests.drive.factories import own_drive, put
from tests.factories import make_org, make_user, principal

pytestmark = pytest.mark.browser

PASSWORD = "un mot de passe assez long"


async def test_share_by_link_with_a_password_then_open_and_download_it_logged_out(
    open_tab: OpenTab, tmp_path: Path
) -> None:
    owner_user = await make_user(await make_org(modules=("drive",)))
    owner = await principal(owner_user)
    doc = await put(owner, (await own_drive(owner)).root_id, "bilan 2027.txt", b"les chiffres de l'annee")
    sharing = await open_tab(user=owner_user)
    page = sharing.page
    await goto(page, f"/drive/links/{doc.id}")
    await page.get_by_label("Mot de passe (facultatif)").fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Créer le lien").click()
    address = await page.locator("#link-made-url").input_value()
    assert "/s/" in address

    visitor = await open_tab()  # a fresh context: no session, no cookie
    public = visitor.page
    response = await goto(public, address)
    assert response.status == 200
    await public.get_by_label("Mot de passe du lien").fill("pas le bon")
    async with public.expect_navigation():
        await public.get_by_label("Mot de passe du lien").press("Enter")
    assert "Mot de passe incorrect." in await public.locator("main").inner_text()
    assert visitor.watch.drain(document=public.url) == []  # the 403 of the wrong password only
    await public.get_by_label("Mot de passe du lien").fill(PASSWORD)
    async with public.expect_navigation():
        await public.get_by_role("button", name="Ouvrir").click()
    await settle(public)
    assert "bilan 2027.txt" in await public.locator("main").inner_text()
    async with public.expect_download() as waiting:
        await public.get_by_role("link", name="Télécharger").click()
    download = await waiting.value
    assert download.suggested_filename == "bilan 2027.txt"
    saved = tmp_path / "saved.txt"
    await download.save_as(saved)
    assert saved.read_bytes() == b"les chiffres de l'annee"
    assert visitor.watch.drain() == []


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_link_pages_pass_axe_and_the_shell_rules(open_tab: OpenTab, lang: str) -> None:
    org = await make_org(modules=("drive",))
    owner_user = await make_user(org)
    owner = await principal(owner_user)
    stranger_user = await make_user(org)
    root = (await own_drive(owner)).root_id
    doc = await put(owner, root, "document.txt", b"texte")
    async with org_session(org.id, write=True) as db:
        folder = await service.create_folder(db, owner, root, "Partagé")
        locked = await service.create_link(db, owner, doc.id, password=PASSWORD)
        listing = await service.create_link(db, owner, folder.id)
        drop = await service.create_link(db, owner, folder.id, mode="upload")
        await db.commit()
    await put(owner, folder.id, "dedans.txt", b"dedans")
    problems: dict[str, list[str]] = {}

    async def check(page: Page, label: str) -> None:
        problems[label] = await shell_problems(page, lang)

    manager = await open_tab(lang=lang, user=owner_user)
    await goto(manager.page, f"/drive/links/{folder.id}")
    await check(manager.page, "links page")
    async with manager.page.expect_navigation():
        await manager.page.locator("form[action$='/create'] [type=submit]").click()
    await settle(manager.page)
    await check(manager.page, "links page with a new link")

    asker = await open_tab(lang=lang, user=stranger_user)
    await goto(asker.page, f"/drive/access/{doc.id}")
    await check(asker.page, "ask for access")

    visitor = await open_tab(lang=lang)
    for label, token in (("password form", locked.token), ("folder", listing.token), ("file drop", drop.token)):
        await goto(visitor.page, service.link_path(token))
        await check(visitor.page, label)
    await goto(visitor.page, service.link_path(locked.token))
    await visitor.page.locator("#link-password").fill(PASSWORD)
    async with visitor.page.expect_navigation():
        await visitor.page.locator("#link-password").press("Enter")
    await settle(visitor.page)
    await check(visitor.page, "file")
    await goto(visitor.page, "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    await check(visitor.page, "no such link")
    problems["manager's console"] = manager.watch.drain()
    problems["asker's console"] = asker.watch.drain()
    problems["visitor console"] = visitor.watch.drain(document=visitor.page.url)
    assert not any(problems.values()), report(problems)
