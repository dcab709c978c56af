"""The webmail screenshots docs/webmail.md shows, taken on every run from a workplace with
fixed names and dates, so that they never drift from the product."""

from __future__ import annotations

import pytest

from tests.browser.harness import DESKTOP, ROOT, OpenTab, goto
from tests.mail.browser.factories_webmail import make_mail_workplace

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"
MAX_BYTES = 150_000


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
async def test_screenshot_of_the_inbox(open_tab: OpenTab, color_scheme: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    workplace = await make_mail_workplace()
    tab = await open_tab(color_scheme=color_scheme, viewport=DESKTOP, user=workplace.camille)
    response = await goto(tab.page, "/mail/")
    target = SCREENSHOTS / f"webmail-{color_scheme}.png"
    await tab.page.screenshot(path=target, animations="disabled")

    assert response.status == 200
    assert target.stat().st_size < MAX_BYTES, f"{target.name} weighs {target.stat().st_size} bytes"
    assert not tab.watch.drain()


async def test_shell_badges_show_unread_mail_and_notifications_in_the_browser(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    tab = await open_tab(viewport=DESKTOP, user=workplace.camille)

    await goto(tab.page, "/")  # the page's one request for the badges has finished

    mail = (await tab.page.locator("#badge-mail .badge").inner_text()).split()[0]
    notifications = (await tab.page.locator("#badge-notifications .badge").inner_text()).split()[0]
    assert int(mail) > 0 and int(notifications) >= 1, "the new-mail notice counts in the same answer"
