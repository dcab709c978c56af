"""The agenda in Debian's chromium: axe-core (WCAG 2.1 A and AA) and the shell's rules on
every kind of agenda page in French (light) and English (dark); a keyboard-only journey
that creates an event, moves it and deletes it; and a drag and drop with the mouse."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page

from hexagone.calendar.service import agenda
from hexagone.core.db import org_session
from tests.browser.harness import OpenTab, active_element, focus_problem, goto, report, settle, shell_problems
from tests.calendar.agenda_factories import add_event, own_calendar
from tests.calendar.factories import make_calendar_org
from tests.factories import TestUser, make_user, principal

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")
WEEK = "/calendar/week?date=2027-03-01"


async def _starts(user: TestUser) -> dict[str, list[datetime]]:
    me = await principal(user)
    async with org_session(me.org_id) as db:
        found = await agenda.occurrences(
            db, me, datetime(2027, 3, 1, tzinfo=PARIS), datetime(2027, 3, 8, tzinfo=PARIS), PARIS
        )
    starts: dict[str, list[datetime]] = {}
    for o in found:
        starts.setdefault(o.summary, []).append(o.start)
    return starts


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_every_agenda_page_passes_axe_and_the_shell_rules(
    open_tab: OpenTab, lang: str, color_scheme: str
) -> None:
    user = await make_user(await make_calendar_org())
    calendar = await own_calendar(user)
    invited = await add_event(
        user, calendar, summary="Comité de pilotage", attendees=(user.email, "eve@partner.test"), location="Salle 2"
    )
    await add_event(
        user,
        calendar,
        summary="Point hebdo",
        repeat="weekly",
        start=datetime(2027, 3, 2, 9, 30),
        end=datetime(2027, 3, 2, 11),
    )
    await add_event(
        user,
        calendar,
        summary="Congés",
        all_day=True,
        start=datetime(2027, 3, 3).date(),
        end=datetime(2027, 3, 4).date(),
    )
    now = datetime.now(PARIS).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    await add_event(user, calendar, summary="Aujourd'hui", start=now.replace(hour=0), end=now.replace(hour=23))
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=user)
    page = tab.page
    event = f"/calendar/events/{calendar}/{invited}"
    pages = {
        "week": WEEK,
        "day": "/calendar/day?date=2027-03-02",
        "month": "/calendar/month?date=2027-03-01",
        "list": "/calendar/list?date=2027-03-01",
        "event": event,
        "new event": "/calendar/events/new?date=2027-03-02&time=14:00",
        "edit": f"{event}/edit",
        "move": f"{event}/move",
        "delete": f"{event}/delete",
        "calendars": "/calendar/calendars",
        "availability": f"/calendar/availability?date=2027-03-02&addresses={user.email}",
        "home with today's agenda": "/",
    }
    problems: dict[str, list[str]] = {}
    for label, path in pages.items():
        response = await goto(page, path)
        found = [] if response.status == 200 else [f"answered {response.status}"]
        problems[label] = found + await shell_problems(page, lang) + tab.watch.drain()
    await goto(page, "/calendar/events/new?date=2027-03-02")
    await page.fill("#summary", "Sans fin")
    await page.fill("#end_time", "08:00")
    async with page.expect_navigation():
        await page.locator("main form.agenda-form [type=submit]").click()
    await settle(page)
    problems["new event refused"] = await shell_problems(page, lang) + tab.watch.drain(document=page.url)
    failing = {label: found for label, found in problems.items() if found}
    assert not failing, report(failing)


async def _press_until(page: Page, key: str, wanted: str, unseen: list[str], limit: int = 80) -> None:
    """Presses ``key`` until the element matching the CSS selector ``wanted`` has focus."""
    for _ in range(limit):
        await page.keyboard.press(key)
        if (problem := await focus_problem(page)) is not None and (await active_element(page))["tag"] != "body":
            unseen.append(f"{page.url}: {problem}")
        if await page.evaluate("(s) => document.activeElement.matches(s)", wanted):
            return
    raise AssertionError(f"{key} ×{limit} on {page.url} never reached {wanted}")


async def _press_and_follow(page: Page, key: str) -> None:
    async with page.expect_navigation():
        await page.keyboard.press(key)
    await settle(page)


async def test_keyboard_alone_creates_moves_and_deletes_an_event(open_tab: OpenTab) -> None:
    user = await make_user(await make_calendar_org())
    await own_calendar(user)
    page = (await open_tab(user=user)).page
    unseen: list[str] = []
    await goto(page, WEEK)

    await _press_until(page, "Tab", 'a[href="/calendar/events/new?date=2027-03-03"]', unseen)
    await _press_and_follow(page, "Enter")
    await _press_until(page, "Tab", "#summary", unseen)
    await page.keyboard.type("Atelier clavier")
    await _press_and_follow(page, "Enter")
    assert await _starts(user) == {"Atelier clavier": [datetime(2027, 3, 3, 9, tzinfo=PARIS)]}

    await _press_until(page, "Tab", "main p > a[href^='/calendar/week']", unseen)  # back to the agenda
    await _press_and_follow(page, "Enter")
    await _press_until(page, "Tab", "a[data-move]", unseen)
    await _press_and_follow(page, "Alt+ArrowDown")  # half an hour later
    await _press_and_follow(page, "Alt+ArrowRight")  # a day later
    assert (await active_element(page))["href"].startswith("/calendar/events/"), "focus comes back to the event"
    await _press_and_follow(page, "Alt+Shift+ArrowDown")  # half an hour longer
    assert await _starts(user) == {"Atelier clavier": [datetime(2027, 3, 4, 9, 30, tzinfo=PARIS)]}

    await _press_and_follow(page, "Enter")  # the event's page, its Move form without script
    await _press_until(page, "Tab", "a[href$='/move']", unseen)
    await _press_and_follow(page, "Enter")
    await _press_until(page, "Tab", "#start_time", unseen)
    await page.keyboard.type("1415")
    await _press_until(page, "Tab", "#end_time", unseen)
    await page.keyboard.type("1500")
    await _press_until(page, "Tab", "main form [type=submit]", unseen)
    await _press_and_follow(page, "Enter")
    assert await _starts(user) == {"Atelier clavier": [datetime(2027, 3, 4, 14, 15, tzinfo=PARIS)]}

    await _press_until(page, "Tab", "a[href$='/delete']", unseen)
    await _press_and_follow(page, "Enter")
    await _press_until(page, "Tab", "main form .button-danger", unseen)
    await _press_and_follow(page, "Enter")
    assert await _starts(user) == {}
    assert not unseen, "focus does not show on:\n" + "\n".join(unseen)


async def test_drag_and_drop_moves_an_event_and_its_edge_changes_its_end(open_tab: OpenTab) -> None:
    user = await make_user(await make_calendar_org())
    calendar = await own_calendar(user)
    await add_event(user, calendar, summary="Déplacé")
    page = (await open_tab(user=user)).page
    await goto(page, WEEK)
    event = page.locator("a[data-move]")
    target = page.locator('.agenda-slot[data-start="2027-03-03T11:00"]')  # on screen with the event
    await event.scroll_into_view_if_needed()
    box, slot = await event.bounding_box(), await target.bounding_box()
    assert box and slot
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    await page.mouse.down()
    await page.mouse.move(slot["x"] + 10, slot["y"] + slot["height"] / 2, steps=8)
    async with page.expect_navigation():
        await page.mouse.up()
    await settle(page)
    assert await _starts(user) == {"Déplacé": [datetime(2027, 3, 3, 11, tzinfo=PARIS)]}

    event = page.locator("a[data-move]")
    end_slot = page.locator('.agenda-slot[data-start="2027-03-03T13:00"]')
    await event.scroll_into_view_if_needed()
    box, slot = await event.bounding_box(), await end_slot.bounding_box()
    assert box and slot
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)
    await page.mouse.down()
    await page.mouse.move(slot["x"] + 10, slot["y"] + slot["height"] / 2, steps=8)
    async with page.expect_navigation():
        await page.mouse.up()
    await settle(page)
    me = await principal(user)
    async with org_session(me.org_id) as db:
        [moved] = await agenda.occurrences(
            db, me, datetime(2027, 3, 1, tzinfo=PARIS), datetime(2027, 3, 8, tzinfo=PARIS), PARIS
        )
    assert (moved.start, moved.end - moved.start) == (
        datetime(2027, 3, 3, 11, tzinfo=PARIS),
        timedelta(hours=2, minutes=30),
    )
