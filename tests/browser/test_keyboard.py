"""The keyboard alone is enough: signing in with a second factor, the user menu, the
admin console; the skip link comes first; focus is always visible."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from hexagone.identity.models import OrgRole
from tests.browser.factories_browser import Workplace
from tests.browser.harness import OpenTab, active_element, focus_problem, goto, settle
from tests.factories import make_user

pytestmark = pytest.mark.browser

Focused = dict[str, str]


async def press_until(
    page: Page, key: str, wanted: Callable[[Focused], bool], problems: list[str], *, limit: int = 60
) -> Focused:
    """Presses ``key`` until the focused element is the wanted one, noting every stop
    whose focus does not show."""
    for _ in range(limit):
        await page.keyboard.press(key)
        focused = await active_element(page)
        if focused["tag"] != "body" and (problem := await focus_problem(page)) is not None:
            problems.append(f"{urlsplit(page.url).path}: {problem}")
        if wanted(focused):
            return focused
    raise AssertionError(f"{key} ×{limit} on {page.url} never reached the element")


async def press_and_follow(page: Page, key: str) -> str:
    async with page.expect_navigation():
        await page.keyboard.press(key)
    await settle(page)
    return urlsplit(page.url).path


async def menu_is_open(page: Page) -> bool:
    return await page.evaluate("() => document.querySelector('details.menu').open")


async def test_keyboard_alone_signs_in_with_a_second_factor_and_reaches_the_admin_users(
    open_tab: OpenTab, workplace: Workplace
) -> None:
    admin = await make_user(workplace.org, role=OrgRole.ADMIN, mfa=True)
    page = (await open_tab()).page
    keyboard = page.keyboard
    unseen_focus: list[str] = []

    await goto(page, "/login")
    assert (await active_element(page))["id"] == "email", "the e-mail field should have focus on arrival"
    await keyboard.type(admin.email)
    await keyboard.press("Tab")
    assert (await active_element(page))["id"] == "password"
    await keyboard.press("Shift+Tab")
    assert (await active_element(page))["id"] == "email"
    await keyboard.press("Tab")
    await keyboard.type(admin.password)
    assert await press_and_follow(page, "Enter") == "/login/mfa"

    assert (await active_element(page))["id"] == "code", "the code field should have focus on arrival"
    await keyboard.type(admin.totp())
    assert await press_and_follow(page, "Enter") == "/"

    summary = await press_until(page, "Tab", lambda el: el["tag"] == "summary", unseen_focus)
    await keyboard.press("Space")
    assert await menu_is_open(page)
    await keyboard.press("Escape")
    assert not await menu_is_open(page)
    assert await active_element(page) == summary, "Escape should give focus back to the menu button"
    await keyboard.press("Enter")
    assert await menu_is_open(page)
    await press_until(page, "ArrowDown", lambda el: el["href"] == "/admin", unseen_focus, limit=10)
    assert await press_and_follow(page, "Enter") == "/admin"

    await press_until(page, "Tab", lambda el: el["href"] == "/admin/users", unseen_focus)
    assert await press_and_follow(page, "Enter") == "/admin/users"
    assert await page.locator("h1").count() == 1
    assert not unseen_focus, "focus does not show on:\n" + "\n".join(unseen_focus)


async def test_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(
    open_tab: OpenTab, workplace: Workplace
) -> None:
    page = (await open_tab(user=workplace.admin)).page
    await goto(page, "/")

    await page.keyboard.press("Tab")
    assert "skip-link" in (await active_element(page))["cls"]
    assert await focus_problem(page) is None
    box = await page.locator(".skip-link").bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link should be on screen"
    await page.keyboard.press("Enter")
    assert (await active_element(page))["id"] == "content"
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.closest('main') !== null"), (
        "after the skip link, Tab should continue inside the main content"
    )


@pytest.mark.parametrize("path", ["/", "/account", "/account/sessions", "/account/mfa"])
async def test_every_stop_of_a_page_shows_its_focus(open_tab: OpenTab, workplace: Workplace, path: str) -> None:
    page = (await open_tab(user=workplace.admin)).page
    await goto(page, path)
    unseen_focus: list[str] = []
    stops: list[Focused] = []

    def back_to_start(focused: Focused) -> bool:
        if focused["tag"] == "body" or focused in stops:
            return True
        stops.append(focused)
        return False

    await press_until(page, "Tab", back_to_start, unseen_focus, limit=100)
    assert len(stops) > 3
    assert not unseen_focus, "focus does not show on:\n" + "\n".join(unseen_focus)
