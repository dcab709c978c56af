"""axe-core (WCAG 2.1 A and AA) and the shell's rules on every kind of webmail page, in
French (light) and English (dark): lists, conversations, HTML and plain messages, the
compose form in its states, folders, settings, the shortcuts dialog — and no request to
another host, no console error (the remote image of the newsletter stays unloaded)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.mail.models import Folder, Mailbox, Message
from tests.browser.harness import OpenTab, goto, report, settle, shell_problems
from tests.mail.browser.factories_webmail import MailWorkplace

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize(
    ("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"]
)


async def ids_of(workplace: MailWorkplace) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Message ids by subject (the latest of each), folder ids by name, mailbox ids by address."""
    async with system_session() as db:
        boxes = (await db.execute(select(Mailbox).where(Mailbox.org_id == workplace.org.id))).scalars().all()
        folders = (await db.execute(select(Folder).where(Folder.mailbox_id.in_([b.id for b in boxes])))).scalars().all()
        messages = (
            (
                await db.execute(
                    select(Message).where(Message.org_id == workplace.org.id).order_by(Message.internal_date)
                )
            )
            .scalars()
            .all()
        )
    own = next(b for b in boxes if b.user_id == workplace.camille.id)
    return (
        {m.subject: str(m.id) for m in messages},
        {f.name if f.mailbox_id == own.id else f"shared:{f.name}": str(f.id) for f in folders},
        {b.address: str(b.id) for b in boxes},
    )


@LANGUAGES
async def test_every_webmail_page_passes_axe_and_the_shell_rules(
    open_tab: OpenTab, mail_workplace: MailWorkplace, lang: str, color_scheme: str
) -> None:
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=mail_workplace.camille)
    page = tab.page
    messages, folders, boxes = await ids_of(mail_workplace)
    thread = messages["Re: Réunion de lancement du budget 2026"]
    pages = {
        "inbox": f"/mail/folders/{folders['INBOX']}",
        "search": f"/mail/folders/{folders['INBOX']}?q=budget&scope=all",
        "sent": f"/mail/folders/{folders['Sent']}",
        "subfolder": f"/mail/folders/{folders['Projets/Voirie']}",
        "empty trash": f"/mail/folders/{folders['Trash']}",
        "emptying the trash asks first": f"/mail/folders/{folders['Trash']}/empty",
        "deleting a folder asks first": f"/mail/folders/{folders['Projets/Voirie']}/delete",
        "shared inbox": f"/mail/folders/{folders['shared:INBOX']}",
        "conversation": f"/mail/messages/{thread}",
        "html with remote images held back": f"/mail/messages/{messages['Les nouvelles de janvier']}",
        "html with images shown": f"/mail/messages/{messages['Les nouvelles de janvier']}?images=1",
        "attachment": f"/mail/messages/{messages['Compte rendu du conseil municipal']}",
        "too long to show in full": f"/mail/messages/{messages['Registre des délibérations 2025']}",
        "compose": "/mail/compose",
        "reply": f"/mail/messages/{thread}/reply",
        "forward with attachment": f"/mail/messages/{messages['Compte rendu du conseil municipal']}/forward",
        "folders": f"/mail/mailboxes/{boxes[mail_workplace.camille.email]}/folders",
        "settings": "/mail/settings",
        "rules": "/mail/rules",
        "changing a rule": "/mail/rules?edit=0",
    }
    problems: dict[str, list[str]] = {}
    for label, path in pages.items():
        response = await goto(page, path)
        found = [] if response.status == 200 else [f"answered {response.status}"]
        found += await shell_problems(page, lang)
        seen = tab.watch.drain()
        if "images shown" in label:  # the one page that may ask another host, and does
            assert any("tracker.region.example" in line for line in seen), seen
            seen = [line for line in seen if "tracker.region.example" not in line]
        problems[label] = found + seen

    await goto(page, "/mail/compose")
    await page.fill("#to", "not an address")
    async with page.expect_navigation():
        await page.locator("[data-mail-send]").click()
    await settle(page)
    problems["compose refused"] = await shell_problems(page, lang) + tab.watch.drain(document=page.url)

    await goto(page, "/mail/settings")
    await page.fill("#app-label", "Téléphone")
    async with page.expect_navigation():
        await page.locator("#app-label ~ button, form[action$='app-passwords'] button").first.click()
    await settle(page)
    problems["app password shown once"] = await shell_problems(page, lang) + tab.watch.drain()
    assert re.search(r"[a-z0-9]{4} [a-z0-9]{4}", await page.locator(".mail-secret-value").inner_text())

    await goto(page, pages["inbox"])
    await page.keyboard.press("?")
    await page.wait_for_selector("#mail-help[open]")
    problems["shortcuts dialog"] = await shell_problems(page, lang) + tab.watch.drain()

    failing = {label: found for label, found in problems.items() if found}
    assert not failing, report(failing)
