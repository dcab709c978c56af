"""axe-core (WCAG 2.1 A and AA) and the shell's own rules on every page, in French and
in English: each page signed in as an org admin, found by crawling the links, and the
public pages in each of their states (form, error, sent, expired, second factor)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.crawl import crawl
from tests.browser.factories_browser import Workplace, invitation_link, link_sent_to
from tests.browser.harness import OpenTab, Tab, goto, report, settle, shell_problems
from tests.factories import make_org, make_user

pytestmark = pytest.mark.browser

# English pages are checked in the dark colour scheme: both schemes get their contrast
# checked without crawling twice per language.
LANGUAGES = pytest.mark.parametrize(
    ("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"]
)
PAGES_EVERY_ADMIN_REACHES = {"/", "/account", "/account/mfa", "/account/sessions", "/notifications"}


class PageAudit:
    """Checks pages one after another in a tab and keeps the problems by page."""

    def __init__(self, tab: Tab, lang: str):
        self.tab = tab
        self.lang = lang
        self.problems: dict[str, list[str]] = {}

    async def visit(self, label: str, path: str, *, status: int = 200) -> None:
        response = await goto(self.tab.page, path)
        await self.check(label, response.status, expected=status)

    async def submit(
        self, label: str, fields: dict[str, str], *, status: int = 200, button: str = "main form.form [type=submit]"
    ) -> None:
        """Fills the page's main form and sends it, then checks the page that answers."""
        page = self.tab.page
        for selector, value in fields.items():
            await page.fill(selector, value)
        async with page.expect_navigation() as navigation:
            await page.locator(button).click()
        response = await navigation.value
        assert response is not None
        await settle(page)
        await self.check(label, response.status, expected=status)

    async def check(self, label: str, actual: int, *, expected: int) -> None:
        problems = [] if actual == expected else [f"answered {actual} instead of {expected}"]
        problems += await shell_problems(self.tab.page, self.lang)
        problems += self.tab.watch.drain(document=self.tab.page.url if actual >= 400 else None)
        self.problems[label] = problems


@LANGUAGES
async def test_every_page_an_admin_reaches_passes_axe_and_the_shell_rules(
    open_tab: OpenTab, workplace: Workplace, lang: str, color_scheme: str
) -> None:
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=workplace.admin)

    async def check(page: Page) -> list[str]:
        return await shell_problems(page, lang)

    result = await crawl(tab.page, tab.watch, check, start=["/", f"/search?q={workplace.space.name}"])

    assert set(result.visited) >= PAGES_EVERY_ADMIN_REACHES, result.visited
    assert not result.problems, f"{len(result.problems)} of {len(result.visited)} pages have problems:\n" + report(
        result.problems
    )


@LANGUAGES
async def test_public_pages_in_each_state_pass_axe_and_the_shell_rules(
    open_tab: OpenTab, workplace: Workplace, lang: str, color_scheme: str
) -> None:
    audit = PageAudit(await open_tab(lang=lang, color_scheme=color_scheme), lang)
    await audit.visit("sign-in form", "/login")
    await audit.submit(
        "sign-in refused", {"#email": f"nobody@{workplace.org.domain}", "#password": "not-the-password"}, status=400
    )
    await audit.visit("forgotten password form", "/password/forgot")
    await audit.submit("forgotten password sent", {"#email": workplace.member.email})
    await audit.visit("password reset form", await link_sent_to(workplace.member.email))
    await audit.submit(
        "password reset refused",
        {"#password": "Long-enough-password-1", "#password_confirm": "Another-password-2"},
        status=400,
    )
    await audit.visit("password reset expired", "/password/reset/not-a-live-token", status=404)
    await audit.visit("invitation form", await invitation_link(workplace.admin, workplace.space))
    await audit.visit("invitation expired", "/invitation/not-a-live-token", status=404)
    await audit.visit("page not found", "/no-such-page", status=404)

    second_factor_user = await make_user(workplace.org, mfa=True)
    pending = PageAudit(
        await open_tab(lang=lang, color_scheme=color_scheme, user=second_factor_user, second_factor=False), lang
    )
    await pending.visit("second factor form", "/login/mfa")
    await pending.submit("second factor refused", {"#code": "000000"}, status=400)

    must_enrol = await make_user(await make_org(mfa_required=True))
    enrolling = PageAudit(await open_tab(lang=lang, color_scheme=color_scheme, user=must_enrol), lang)
    await enrolling.visit("second factor set-up required by the organisation", "/account/mfa")

    signed_in = PageAudit(await open_tab(lang=lang, color_scheme=color_scheme, user=workplace.member), lang)
    await signed_in.visit("page not found, signed in", "/no-such-page", status=404)
    await signed_in.visit("sign-out asked by an application", f"/oidc/logout?client_id={workplace.oidc_client_id}")
    await signed_in.submit("signed out by an application", {}, button="main form [type=submit]")

    audits = (audit, pending, enrolling, signed_in)
    failing = {label: found for each in audits for label, found in each.problems.items() if found}
    assert not failing, report(failing)
