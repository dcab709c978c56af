"""The keyboard alone: through the inbox with j and k, into a message and on to the next
one, a reply written and sent; shortcuts that stay quiet while typing; the help dialog; address completion; the
draft saved while typing; a mail rule added. Focus shows at every stop."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.browser.harness import OpenTab, active_element, focus_problem, goto, settle
from tests.mail.browser.factories_webmail import make_mail_workplace
from tests.mail.factories import messages_in

pytestmark = pytest.mark.browser


async def focused_row_subject(page: Page) -> str:
    return await page.evaluate(
        "() => document.activeElement.closest('.mail-row')?.querySelector('.mail-row-subject')?.textContent ?? ''"
    )


async def press_and_follow(page: Page, key: str) -> str:
    async with page.expect_navigation():
        await page.keyboard.press(key)
    await settle(page)
    return urlsplit(page.url).path


async def test_keyboard_alone_reads_the_inbox_and_sends_a_reply(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    page = (await open_tab(user=workplace.camille)).page
    unseen: list[str] = []
    await goto(page, "/mail/")

    await page.keyboard.press("j")
    first = await focused_row_subject(page)
    await page.keyboard.press("j")
    second = await focused_row_subject(page)
    await page.keyboard.press("k")
    assert await focused_row_subject(page) == first and first != second
    assert first == "Les nouvelles de janvier", "newest conversation first"
    await page.keyboard.press("j")
    if (problem := await focus_problem(page)) is not None:
        unseen.append(problem)
    assert (await press_and_follow(page, "o")).startswith("/mail/messages/")
    assert await page.locator("h1").inner_text() == "Compte rendu du conseil municipal"

    assert (await press_and_follow(page, "j")).startswith("/mail/messages/"), "j: the older conversation"
    assert (await page.locator("h1").inner_text()).startswith("Re: Réunion")
    assert (await press_and_follow(page, "r")).endswith("/reply")

    assert (await active_element(page))["id"] == "body", "the reply starts in the message field"
    await page.keyboard.type("Je confirme ma venue, merci.")
    for _ in range(20):
        await page.keyboard.press("Tab")
        if (problem := await focus_problem(page)) is not None:
            unseen.append(problem)
        if await page.evaluate("() => document.activeElement.hasAttribute('data-mail-send')"):
            break
    else:
        raise AssertionError("Tab never reached the Send button")
    assert (await press_and_follow(page, "Enter")).startswith("/mail/folders/")
    assert await page.locator(".alert-success").count() == 1

    [reply] = await messages_in(workplace.hugo)
    assert reply.subject == "Re: Réunion de lancement du budget 2026"
    assert not unseen, "focus does not show on:\n" + "\n".join(unseen)


async def test_shortcuts_stay_quiet_while_typing_and_the_help_dialog_opens_and_closes(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    page = (await open_tab(user=workplace.camille)).page
    await goto(page, "/mail/")

    await page.keyboard.press("/")
    assert (await active_element(page))["id"] == "mail-search"
    await page.keyboard.type("jkc#")
    assert await page.input_value("#mail-search") == "jkc#" and urlsplit(page.url).path.startswith("/mail/folders/")

    await page.keyboard.press("Tab")
    await page.keyboard.press("?")
    assert await page.locator("#mail-help[open]").count() == 1
    await page.keyboard.press("Escape")
    assert await page.locator("#mail-help[open]").count() == 0

    await page.keyboard.press("c")
    await page.wait_for_url("**/mail/compose")


async def test_address_completion_with_the_keyboard_and_the_draft_saved_while_typing(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    page = (await open_tab(user=workplace.camille)).page
    await goto(page, "/mail/compose")

    assert (await active_element(page))["id"] == "to"
    await page.keyboard.type("Hugo B")
    await page.wait_for_selector("#to-suggestions [role=option]")
    assert await page.get_attribute("#to", "aria-expanded") == "true"
    await page.keyboard.press("ArrowDown")
    assert await page.get_attribute("#to", "aria-activedescendant") == "to-suggestions-0"
    await page.keyboard.press("Enter")
    assert await page.input_value("#to") == f"Hugo Bernard <{workplace.hugo.email}>, "
    assert await page.get_attribute("#to", "aria-expanded") == "false"

    await page.fill("#subject", "Ordre du jour")
    await page.wait_for_function(
        "() => document.getElementById('draft-status').textContent.trim() !== ''", timeout=10_000
    )
    [draft] = await messages_in(workplace.camille, "Drafts")
    assert draft.subject == "Ordre du jour"
    assert await page.input_value("#compose-draft") == str(draft.id)


async def test_hash_deletes_the_focused_conversation_to_the_trash(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    page = (await open_tab(user=workplace.camille)).page
    await goto(page, "/mail/")

    await page.keyboard.press("j")
    subject = await focused_row_subject(page)
    assert (await press_and_follow(page, "#")).startswith("/mail/folders/")

    assert subject == "Les nouvelles de janvier"
    assert [m.subject for m in await messages_in(workplace.camille, "Trash")] == [subject]
    assert subject not in await page.locator(".mail-list").inner_text()


async def test_keyboard_alone_adds_a_mail_rule(open_tab: OpenTab) -> None:
    workplace = await make_mail_workplace()
    page = (await open_tab(user=workplace.camille)).page
    unseen: list[str] = []
    await goto(page, "/mail/rules")

    async def tab_to(wanted: str) -> None:
        """Tab until the focused element has the id ``wanted`` (or, for a button, that text)."""
        for _ in range(80):
            await page.keyboard.press("Tab")
            if (problem := await focus_problem(page)) is not None:
                unseen.append(problem)
            focused = await active_element(page)
            if wanted in (focused["id"], focused["text"]):
                return
        raise AssertionError(f"Tab never reached {wanted}")

    await tab_to("rule-name")
    await page.keyboard.type("Chantiers")
    await tab_to("rule-value-1")
    await page.keyboard.type("chantier")
    await tab_to("rule-action")
    await page.keyboard.press("ArrowDown")  # the first action: move to the folder
    await tab_to("rule-folder")
    await page.keyboard.press("ArrowDown")  # the folder after the inbox
    await tab_to("Ajouter la règle")
    assert (await press_and_follow(page, "Enter")) == "/mail/rules"

    assert await page.locator(".alert-success").count() == 1
    assert await page.locator(".mail-rules h3").all_inner_texts() == ["Travaux de voirie", "Chantiers"]
    assert not unseen, "focus does not show on:\n" + "\n".join(unseen)
