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
    # The unread count posts the "new mail" notification; posted first, the shell's
    # notification badge shows it on every run instead of racing it.
    await tab.page.request.get("/mail/unread")

    response = await goto(tab.page, "/mail/")
    target = SCREENSHOTS / f"webmail-{color_scheme}.png"
    await tab.page.screenshot(path=target, animations="disabled")

    assert response.status == 200
    assert target.stat().st_size < MAX_BYTES, f"{target.name} weighs {target.stat().st_size} bytes"
    assert not tab.watch.drain()
