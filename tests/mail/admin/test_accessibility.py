"""Every mail admin page, with something in each list and in its error state, passes
axe-core (WCAG 2.1 A and AA) and the shell's rules, in French (light) and English (dark)."""

from __future__ import annotations

import pytest

from hexagone.core.db import org_session, utcnow
from hexagone.identity.service import groups
from hexagone.mail.models import ImportRun
from hexagone.mail.service import administration
from tests.browser.harness import OpenTab, goto, report, settle, shell_problems
from tests.factories import TestUser, make_user, principal, unique
from tests.mail.factories import deliver, make_mail_org

pytestmark = pytest.mark.browser


async def furnished_org() -> tuple[TestUser, str]:
    """An admin whose organisation has an alias, a group address, a shared mailbox with a
    member, mail, and imports done, failed and running."""
    org = await make_mail_org()
    admin = await make_user(org, role="admin")
    member = await make_user(org)
    await deliver(member)
    async with org_session(org.id) as db:
        actor = await principal(admin)
        await administration.add_alias(db, actor, f"{unique('accueil')}@{org.domain}", member.email)
        group = await groups.create_group(db, actor, name=unique("Équipe "))
        await administration.add_group_address(db, actor, f"{unique('equipe')}@{org.domain}", group.id)
        shared = await administration.create_shared(db, actor, f"{unique('contact')}@{org.domain}", "Contact")
        await administration.set_member(db, actor, shared, member.email, can_write=True, can_send_as=True)
        mailbox = await administration.mailbox_by_address(db, member.email)
        for status, done, error in (
            ("done", 40, ""),
            ("failed", 3, "Le serveur a refusé la connexion."),
            ("running", 12, ""),
        ):
            db.add(
                ImportRun(
                    org_id=org.id,
                    mailbox_id=mailbox.id,
                    source=f"imaps://{unique('u')}@old.example:993",
                    status=status,
                    total=40,
                    done=done,
                    error=error,
                    finished_at=utcnow() if status != "running" else None,
                    progress={},
                )
            )
        await db.commit()
    return admin, f"/mail/admin/shared/{shared.id}"


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_mail_admin_pages_pass_axe_and_the_shell_rules(open_tab: OpenTab, lang: str, color_scheme: str) -> None:
    admin, shared_page = await furnished_org()
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=admin)
    problems: dict[str, list[str]] = {}
    for path in [
        "/mail/admin",
        "/mail/admin/aliases",
        "/mail/admin/shared",
        shared_page,
        "/mail/admin/quotas",
        "/mail/admin/imports",
    ]:
        response = await goto(tab.page, path)
        problems[path] = [f"answered {response.status}"] if response.status != 200 else []
        problems[path] += await shell_problems(tab.page, lang) + tab.watch.drain()

    # A refused form shows the page again with its message.
    await goto(tab.page, "/mail/admin/aliases")
    await tab.page.fill("#address", "someone@elsewhere.test")
    await tab.page.fill("#target", admin.email)
    async with tab.page.expect_navigation():
        await tab.page.locator("form[action='/mail/admin/aliases'] [type=submit]").click()
    await settle(tab.page)
    assert await tab.page.locator("[role=alert]").count() == 1
    problems["alias refused"] = await shell_problems(tab.page, lang) + tab.watch.drain(document=tab.page.url)

    assert not any(problems.values()), report(problems)
