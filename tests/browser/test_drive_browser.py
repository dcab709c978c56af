"""The drive in Debian's chromium: axe-core (WCAG 2.1 A and AA) and the shell's rules on
every drive page in French (light) and English (dark); journeys with the mouse (an
upload through the file picker with its progress bar, over tus; files dropped on the form; a rename; a version
restored; the trash emptied; a share with a colleague) and one with the keyboard alone
(opening a file's details, renaming it, putting it in the trash)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Route

from hexagone.core.db import org_session
from hexagone.drive import service
from tests.browser.harness import OpenTab, goto, press_until, report, settle, shell_problems
from tests.drive.factories import make_drive_org, own_drive, put, read, space_drive
from tests.factories import make_space, make_user, principal

pytestmark = pytest.mark.browser


async def _names(who: object, folder_id: object) -> list[str]:
    async with org_session(who.org_id) as db:  # type: ignore[attr-defined]
        return [e.name for e in (await service.list_folder(db, who, folder_id)).entries]  # type: ignore[arg-type]


async def _submit(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.locator(selector).click()
    await settle(page)


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_every_drive_page_passes_axe_and_the_shell_rules(open_tab: OpenTab, lang: str, color_scheme: str) -> None:
    org = await make_drive_org()
    user = await make_user(org)
    colleague = await make_user(org)
    space = await make_space(user, members={colleague: "member"})
    me = await principal(user)
    drive = await own_drive(me)
    shared = await space_drive(me, space.id)
    async with org_session(org.id, write=True) as db:
        folder = await service.create_folder(db, me, drive.root_id, "Projets")
        await service.define_field(db, me, shared.id, "Statut", "choice", ["brouillon", "final"])
        await db.commit()
    doc = await put(me, drive.root_id, "rapport.txt", b"un")
    await put(me, drive.root_id, "rapport.txt", b"deux")
    space_doc = await put(me, shared.root_id, "compte-rendu.txt", b"cr")
    trashed = await put(me, drive.root_id, "vieux.txt", b"vieux")
    async with org_session(org.id, write=True) as db:
        await service.trash(db, me, trashed.id)
        await service.set_favourite(db, me, doc.id)
        await service.share(db, me, doc.id, "reader", user_id=colleague.id)
        await service.checkout(db, me, space_doc.id)
        await db.commit()
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=user)
    pages = {
        "own drive": "/drive/",
        "folder": f"/drive/folders/{folder.id}",
        "space drive": f"/drive/spaces/{space.id}/",
        "file details": f"/drive/nodes/{doc.id}",
        "space file details": f"/drive/nodes/{space_doc.id}",
        "folder details": f"/drive/nodes/{folder.id}",
        "move or copy": f"/drive/nodes/{doc.id}/place",
        "trash": f"/drive/drives/{drive.id}/trash",
        "fields": f"/drive/drives/{shared.id}/fields",
        "favourites": "/drive/favourites",
        "recent": "/drive/recent",
        "shared with me": "/drive/shared",
    }
    problems: dict[str, list[str]] = {}
    for label, path in pages.items():
        response = await goto(tab.page, path)
        found = [] if response.status == 200 else [f"answered {response.status}"]
        problems[label] = found + await shell_problems(tab.page, lang) + tab.watch.drain()
    await goto(tab.page, f"/drive/nodes/{doc.id}")
    await tab.page.fill("#drive-new-name", "a/b")
    await _submit(tab.page, "form[action$='/rename'] [type=submit]")
    problems["rename refused"] = await shell_problems(tab.page, lang) + tab.watch.drain(document=tab.page.url)
    colleague_tab = await open_tab(lang=lang, color_scheme=color_scheme, user=colleague)
    await goto(colleague_tab.page, f"/drive/spaces/{space.id}/")
    problems["checked out, seen by another"] = (
        await shell_problems(colleague_tab.page, lang) + colleague_tab.watch.drain()
    )
    failing = {label: found for label, found in problems.items() if found}
    assert not failing, report(failing)


async def test_upload_through_the_file_picker_goes_over_tus_with_progress(open_tab: OpenTab) -> None:
    user = await make_user(await make_drive_org())
    me = await principal(user)
    drive = await own_drive(me)
    tab = await open_tab(user=user)
    page = tab.page
    tus_requests: list[str] = []
    page.on(
        "request", lambda r: tus_requests.append(f"{r.method} {r.url}") if "/api/v1/drive/uploads" in r.url else None
    )
    await goto(page, "/drive/")
    data = bytes(range(256)) * 40_000  # 10 MB: two tus chunks
    await page.set_input_files(
        "#drive-file", files=[{"name": "présentation.bin", "mimeType": "application/octet-stream", "buffer": data}]
    )

    async def slowly(route: Route) -> None:  # each chunk waits, so that the bar is seen moving
        await asyncio.sleep(0.3)
        await route.continue_()

    await page.route("**/api/v1/drive/uploads/*", slowly)
    async with page.expect_navigation(url="**done=drive_uploaded**", timeout=60_000):
        await page.locator("[data-drive-upload] [type=submit]").click()
        bar = page.locator("[data-drive-progress] progress")
        await bar.wait_for()
        assert await bar.get_attribute("aria-label") == "présentation.bin"
    await settle(page)
    assert "présentation.bin" in await page.content()
    assert any(r.startswith("POST") for r in tus_requests) and sum(r.startswith("PATCH") for r in tus_requests) >= 2
    async with org_session(me.org_id) as db:
        stored = await service.resolve_path(db, me, drive.id, "présentation.bin")
    assert await read(me, stored.id) == data
    assert not tab.watch.drain()


async def test_files_dropped_on_the_upload_form_go_over_tus(open_tab: OpenTab) -> None:
    user = await make_user(await make_drive_org())
    me = await principal(user)
    drive = await own_drive(me)
    page = (await open_tab(user=user)).page
    await goto(page, "/drive/")
    drop = """() => {
      const files = new DataTransfer();
      files.items.add(new File(["premier"], "un.txt", {type: "text/plain"}));
      files.items.add(new File(["second"], "deux.txt", {type: "text/plain"}));
      const zone = document.querySelector("[data-drive-upload]");
      zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: files, bubbles: true, cancelable: true}));
      zone.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
    }"""
    async with page.expect_navigation(url="**done=drive_uploaded**", timeout=60_000):
        await page.evaluate(drop)
    await settle(page)
    assert sorted(await _names(me, drive.root_id)) == ["deux.txt", "un.txt"]


async def test_rename_restore_a_version_empty_the_trash_and_share(open_tab: OpenTab) -> None:
    org = await make_drive_org()
    user = await make_user(org)
    colleague = await make_user(org)
    me = await principal(user)
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "budget.ods", b"v1")
    await put(me, drive.root_id, "budget.ods", b"v2")
    tab = await open_tab(user=user)
    page = tab.page
    await goto(page, f"/drive/nodes/{doc.id}")
    await page.fill("#drive-new-name", "budget 2027.ods")
    await _submit(page, "form[action$='/rename'] [type=submit]")
    assert "budget 2027.ods" in await page.locator("h1").inner_text()
    await _submit(page, "form[action$='/versions/restore'] [type=submit]")
    assert await read(me, doc.id) == b"v1"
    await page.select_option("#drive-share-role", "editor")
    await page.fill("#drive-share-email", colleague.email)
    await _submit(page, "form[action$='/shares'] [type=submit]")
    assert (await principal(colleague)).display_name in await page.content()
    async with org_session(org.id) as db:
        [share] = await service.shares(db, me, doc.id)
    assert share.user_id == colleague.id and share.role == "editor"
    await _submit(page, "form[action$='/trash'] [type=submit]")
    await goto(page, f"/drive/drives/{drive.id}/trash")
    assert "budget 2027.ods" in await page.content()
    await _submit(page, "button[value=empty]")
    assert await _names(me, drive.root_id) == []
    async with org_session(org.id) as db:
        assert await service.in_trash(db, me, drive.id) == []
    assert not tab.watch.drain()


async def _press_and_follow(page: Page, key: str = "Enter") -> None:
    async with page.expect_navigation():
        await page.keyboard.press(key)
    await settle(page)


async def test_keyboard_alone_opens_details_renames_and_trashes_a_file(open_tab: OpenTab) -> None:
    user = await make_user(await make_drive_org())
    me = await principal(user)
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "notes.txt", b"notes")
    page = (await open_tab(user=user)).page
    unseen: list[str] = []
    await goto(page, "/drive/")
    await press_until(page, f'a[href="/drive/nodes/{doc.id}"]', unseen)
    await _press_and_follow(page)
    await press_until(page, "#drive-new-name", unseen)
    await page.keyboard.press("Control+A")
    await page.keyboard.type("idées.txt")
    await _press_and_follow(page)
    assert await _names(me, drive.root_id) == ["idées.txt"]
    await press_until(page, "form[action$='/trash'] button", unseen)
    await _press_and_follow(page)
    assert await _names(me, drive.root_id) == []
    assert not unseen, "\n".join(unseen)
