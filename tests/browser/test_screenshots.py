"""The screenshots README.md shows, taken from the demo organisation on every run so
that they never drift from the product: sign-in, home and the admin users page, light
and dark, at desktop width, and home on a phone."""

from __future__ import annotations

import pytest

from tests.browser.factories_browser import demo_admin, pin_last_login
from tests.browser.harness import DESKTOP, PHONE, ROOT, OpenTab, Tab, goto

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"
MAX_BYTES = 150_000


async def shoot(tab: Tab, path: str, name: str) -> None:
    response = await goto(tab.page, path)
    assert response.status == 200, f"{path} answered {response.status}"
    target = SCREENSHOTS / f"{name}.png"
    await tab.page.screenshot(path=target, animations="disabled")
    assert target.stat().st_size < MAX_BYTES, f"{target.name} weighs {target.stat().st_size} bytes"
    assert not tab.watch.drain()


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
async def test_screenshots_of_the_shell(open_tab: OpenTab, color_scheme: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice = await demo_admin()
    visitor = await open_tab(color_scheme=color_scheme, viewport=DESKTOP)
    await shoot(visitor, "/login", f"login-{color_scheme}")
    desktop = await open_tab(color_scheme=color_scheme, viewport=DESKTOP, user=alice)
    await pin_last_login(alice)
    await shoot(desktop, "/", f"home-{color_scheme}")
    await shoot(desktop, "/admin/users", f"admin-users-{color_scheme}")
    phone = await open_tab(color_scheme=color_scheme, viewport=PHONE, user=alice)
    await shoot(phone, "/", f"home-phone-{color_scheme}")
