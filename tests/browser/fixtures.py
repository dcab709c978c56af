"""The browser fixtures of every test that drives chromium, wherever it lives (the
shell's, the modules' pages, their admin tabs): one chromium per test process, each test
opening its own contexts (cookies, language, colour scheme, viewport), closed when the
test ends.

A plugin of the root ``tests/conftest.py`` (``pytest_plugins``), so that pytest knows one
definition of each. A conftest that imports a fixture defines it again: each such copy
was a session fixture of its own, and every folder of browser tests launched another
chromium that idled until the end of the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

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
