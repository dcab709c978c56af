"""The shell fits a phone: at 375 px wide nothing scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.factories_browser import Workplace
from tests.browser.harness import PHONE, OpenTab, goto

pytestmark = pytest.mark.browser

OVERFLOW = "() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth})"


@pytest.mark.parametrize("path", ["/", "/admin/users", "/account/sessions"])
async def test_signed_in_pages_fit_a_phone_without_sideways_scroll(
    open_tab: OpenTab, workplace: Workplace, path: str
) -> None:
    page = (await open_tab(viewport=PHONE, user=workplace.admin)).page
    await goto(page, path)
    widths = await page.evaluate(OVERFLOW)
    assert widths["scroll"] <= widths["viewport"], widths

    await page.locator("details.menu summary").click()
    widths = await page.evaluate(OVERFLOW)
    assert widths["scroll"] <= widths["viewport"], f"with the user menu open: {widths}"


async def test_sign_in_page_fits_a_phone_without_sideways_scroll(open_tab: OpenTab) -> None:
    page = (await open_tab(viewport=PHONE)).page
    await goto(page, "/login")
    widths = await page.evaluate(OVERFLOW)
    assert widths["scroll"] <= widths["viewport"], widths
