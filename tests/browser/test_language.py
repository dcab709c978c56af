"""French by default, English on request: from the browser's preference, the footer's
language form (a cookie), and the signed-in user's profile."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.browser.factories_browser import Workplace
from tests.browser.harness import OpenTab, goto, settle
from tests.factories import make_user

pytestmark = pytest.mark.browser


async def page_language(page: Page) -> str:
    return await page.evaluate("() => document.documentElement.lang")


async def switch_language(page: Page, lang: str) -> None:
    await page.select_option("#lang-select", lang)
    async with page.expect_navigation():
        await page.locator(".lang-switch [type=submit]").click()
    await settle(page)


@pytest.mark.parametrize(("browser_lang", "expected"), [("fr", "fr"), ("en", "en")])
async def test_first_visit_speaks_the_browser_language(open_tab: OpenTab, browser_lang: str, expected: str) -> None:
    page = (await open_tab(lang=browser_lang)).page
    await goto(page, "/login")
    assert await page_language(page) == expected


async def test_footer_language_form_switches_a_visitor_to_english(open_tab: OpenTab) -> None:
    page = (await open_tab(lang="fr")).page
    await goto(page, "/login")
    french_title = await page.locator("h1").inner_text()

    await switch_language(page, "en")

    assert urlsplit(page.url).path == "/login"
    assert await page_language(page) == "en"
    assert await page.locator("h1").inner_text() == "Sign in" != french_title
    await goto(page, "/password/forgot")
    assert await page_language(page) == "en", "the choice should last beyond one page"


async def test_footer_language_form_is_remembered_on_the_users_profile(open_tab: OpenTab, workplace: Workplace) -> None:
    user = await make_user(workplace.org)
    page = (await open_tab(lang="fr", user=user)).page
    await goto(page, "/account")
    assert await page_language(page) == "fr"

    await switch_language(page, "en")

    assert urlsplit(page.url).path == "/account"
    assert await page_language(page) == "en"
    elsewhere = (await open_tab(lang="fr", user=user)).page
    await goto(elsewhere, "/")
    assert await page_language(elsewhere) == "en", "another browser of the same user should open in English"
