"""The contacts pages, with contacts in the list and a refused form, pass axe-core (WCAG
2.1 A and AA) and the shell's rules in French (light) and English (dark), and a contact
can be added with the keyboard alone."""

from __future__ import annotations

import pytest

from hexagone.calendar.service import contacts
from hexagone.calendar.service.contacts_vcard import ContactFields, PostalAddress
from hexagone.core.db import org_session
from tests.browser.harness import OpenTab, goto, report, settle, shell_problems
from tests.calendar.factories import make_calendar_org
from tests.factories import make_user, principal

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_contacts_pages_pass_axe_and_the_shell_rules(open_tab: OpenTab, lang: str, color_scheme: str) -> None:
    user = await make_user(await make_calendar_org())
    me = await principal(user)
    async with org_session(me.org_id, write=True) as db:
        [book] = [b for b in await contacts.books(db, me) if b.slug == "contacts"]
        shown = await contacts.create(
            db,
            me,
            book.id,
            ContactFields(
                given="Éloïse",
                family="Dupré",
                emails=("eloise@partner.test",),
                phones=("+33 1 23 45 67 89",),
                organisation="Partenaire",
                addresses=(PostalAddress(street="1 rue de la Paix", code="75002", locality="Paris"),),
                groups=("Clients",),
                notes="À rappeler",
            ),
        )
        await db.commit()
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=user)
    problems: dict[str, list[str]] = {}
    here = f"/calendar/contacts/{book.id}/{shown.id}"
    for path in ["/calendar/contacts/", here, f"{here}/edit", f"{here}/delete", f"/calendar/contacts/{book.id}/new"]:
        response = await goto(tab.page, path)
        problems[path] = [f"answered {response.status}"] if response.status != 200 else []
        problems[path] += await shell_problems(tab.page, lang) + tab.watch.drain()

    # With the keyboard: the form's first field, a name, Enter submits; then a refused one.
    await goto(tab.page, f"/calendar/contacts/{book.id}/new")
    await tab.page.focus("#contact-given")
    await tab.page.keyboard.type("Clavier")
    async with tab.page.expect_navigation():
        await tab.page.keyboard.press("Enter")
    await settle(tab.page)
    problems["added"] = [] if "Clavier" in await tab.page.inner_text("h1") else ["not added with the keyboard"]
    await goto(tab.page, f"/calendar/contacts/{book.id}/new")
    await tab.page.fill("#contact-emails", "not an address")
    async with tab.page.expect_navigation():
        await tab.page.locator("form.form [type=submit]").last.click()
    await settle(tab.page)
    problems["refused"] = await shell_problems(tab.page, lang) + tab.watch.drain(document=tab.page.url)
    problems["refused"] += [] if await tab.page.locator("[role=alert]").count() == 1 else ["no alert"]

    assert not any(problems.values()), report(problems)
