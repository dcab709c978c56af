"""One chromium for the whole session; each test opens its own contexts (cookies,
language, colour scheme, viewport), closed when the test ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.factories_browser import Workplace, make_workplace
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, OpenTab, Tab
from tests.browser.harness import open_tab as _open_tab


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}: run 'make chromium' as root "
            "or 'sudo apt-get install chromium'."
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def open_tab(browser: Browser, base_url: str) -> AsyncIterator[OpenTab]:
    tabs: list[Tab] = []

    async def opener(**options: Any) -> Tab:
        tab = await _open_tab(browser, base_url, **options)
        tabs.append(tab)
        return tab

    yield opener
    for tab in tabs:
        await tab.context.close()


@pytest.fixture(scope="session")
async def workplace() -> Workplace:
    """One organisation shared by the tests that mostly look: creating users costs
    argon2 hashes, and what those tests do (their own sign-ins, a reset request, an
    invitation) changes nothing another test depends on."""
    return await make_workplace()
