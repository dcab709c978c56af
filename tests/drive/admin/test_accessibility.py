"""The drive's admin page, with drives of both kinds (one over its quota) and in its error
state, passes axe-core (WCAG 2.1 A and AA) and the shell's rules, in French (light) and
English (dark)."""

from __future__ import annotations

import pytest

from hexagone.core.db import org_session
from hexagone.drive import service
from tests.browser.harness import OpenTab, goto, report, settle, shell_problems
from tests.drive.factories import make_drive_org, make_member, own_drive, put, space_drive
from tests.factories import TestUser, make_space, make_user, principal

pytestmark = pytest.mark.browser


async def furnished_org() -> TestUser:
    """An admin whose organisation has a personal drive with files, over the quota it was
    given since, and a space's drive."""
    org = await make_drive_org()
    admin = await make_user(org, role="admin")
    _user, member = await make_member(org)
    drive = await own_drive(member)
    await put(member, drive.root_id, "rapport.pdf", b"x" * 5000)
    async with org_session(org.id, write=True) as db:
        await service.set_quota(db, await principal(admin), drive.id, 4096)
        await service.change_settings(db, await principal(admin), quota_bytes=10 * 1024**3)
        await db.commit()
    space = await make_space(admin)
    await space_drive(await principal(admin), space.id)
    return admin


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_drive_admin_page_passes_axe_and_the_shell_rules(open_tab: OpenTab, lang: str, color_scheme: str) -> None:
    admin = await furnished_org()
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=admin)
    problems: dict[str, list[str]] = {}
    response = await goto(tab.page, "/drive/admin")
    problems["page"] = [f"answered {response.status}"] if response.status != 200 else []
    problems["page"] += await shell_problems(tab.page, lang) + tab.watch.drain()

    # A refused form shows the page again with its message.
    await tab.page.fill("#trash_days", "99999")  # past 100 years: the browser lets it through
    async with tab.page.expect_navigation():
        await tab.page.locator("form[action='/drive/admin'] [type=submit]").click()
    await settle(tab.page)
    assert await tab.page.locator("[role=alert]").count() == 1
    problems["settings refused"] = await shell_problems(tab.page, lang) + tab.watch.drain(document=tab.page.url)

    assert not any(problems.values()), report(problems)
